"""What in the room behind the real DeepFashion2 pair moves its `color_crop` partner rank.

    python benchmarks/dev/probe_df2_room.py CHECKPOINT [CHECKPOINT ...] [--root SYNTHETIC_SET]

The benchmark's real-photo check (`clothembed.bench.real_checks`) ranks each of the two real photos' partner among the synthetic
validation photos in `color_crop` mode, where the room around the dress is in the input. This probe embeds the two photos again
with the room outside each garment's annotated outline changed, and prints the ranks per change:

- `room`: unchanged (the check's own input);
- `flat N`: the room replaced by grey level N (255 white ... 0 black), and `flat mean`: by the room's mean colour;
- `keep R`: white, except region R of the crop (its left, right, top or bottom quarter, or its middle half), where the room stays;
- `white R`: the room unchanged, except in region R, where it is white.

It also prints, for the unchanged room, the kinds of garment (category and sleeve length) of the synthetic photos that come nearer
to each real photo than its partner does: what the model takes the real dress for.

The gallery is the synthetic validation set's `color_crop` photos (default: the quick benchmark's, generated once as
`clothembed-bench` does), embedded by the checkpoint's photo encoder with its own size and squaring. Needs the DeepFashion2 sample
($CLOTHEMBED_DATA/deepfashion2_sample or $CLOTHEMBED_DF2_SAMPLE). Seconds per checkpoint on 2 CPU cores.
"""
import argparse, json, sys, tempfile
import numpy as np
from collections import Counter
from clothembed.bench import SETTINGS, eval_sets, find_df2_sample, partner_ranks
from clothembed.data import ItemSet, deepfashion2, polygon_mask, crop_box
from clothembed.cache import ItemStore, checkpoint_resize
from clothembed.predict import embed
from clothembed.synth import default_data
from clothembed.checkpoint import load_model

REGIONS = dict(left=(0, 0, .25, 1), right=(.75, 0, 1, 1), top=(0, 0, 1, .25), bottom=(0, .75, 1, 1), middle=(.25, .25, .75, .75))

def variants(real:ItemSet) -> dict:
    "Name -> the two real photos (full images, uint8) with the room outside each garment's outline changed"
    out = {}
    for i, it in enumerate(real.items):
        img = real.raw(i); w, h = img.size; a = np.asarray(img)
        room = ~(np.asarray(polygon_mask(it['segmentation'], w, h)) > 0)
        x1, y1, x2, y2 = crop_box(it['bbox'], w, h, 10); bw, bh = x2 - x1, y2 - y1
        def region(l, t, r, b):   # a part of the crop, as fractions of its width and height
            z = np.zeros_like(room); z[int(y1 + t * bh):int(y1 + b * bh), int(x1 + l * bw):int(x1 + r * bw)] = True; return z
        def fill(v, where):
            b = a.copy(); b[where] = v; return b
        out.setdefault('room', []).append(a)
        for v in (255, 200, 160, 128, 0): out.setdefault(f'flat {v}', []).append(fill(v, room))
        out.setdefault('flat mean', []).append(fill(a[room].mean(0).astype(np.uint8), room))
        for r, box in REGIONS.items(): out.setdefault(f'keep {r}', []).append(fill(255, room & ~region(*box)))
        for r, box in REGIONS.items(): out.setdefault(f'white {r}', []).append(fill(255, room & region(*box)))
    return out

def outranked_by(Xs, Xr, kinds) -> list:
    "For each real photo, how many gallery photos of each kind are nearer to it than its partner"
    out = []
    for i in range(2):
        d = ((Xs - Xr[i]) ** 2).sum(1); dp = ((Xr[1 - i] - Xr[i]) ** 2).sum()
        out.append(dict(Counter(kinds[j] for j in np.where(d < dp)[0]).most_common()))
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('checkpoints', nargs='+', help='trained checkpoints (.safetensors)')
    ap.add_argument('--root', default=None, help="synthetic set whose validation photos are the gallery (default: the quick benchmark's)")
    a = ap.parse_args()
    df2 = find_df2_sample()
    if df2 is None: sys.exit('probe_df2_room: the DeepFashion2 sample is absent ($CLOTHEMBED_DATA/deepfashion2_sample or $CLOTHEMBED_DF2_SAMPLE)')
    s = SETTINGS['quick']; root = a.root or default_data(s['designs'], s['photos']); sets, labels = eval_sets(root)
    kinds = [f"{at['category']} ({at['sleeve_length']} sleeves)" if at['sleeve_length'] != 'none' else at['category'] for at in labels['color_crop']['attrs']]
    real = deepfashion2(df2, group_by='pair', mode='color_crop'); vs = variants(real)
    items = [{**{k: v for k, v in it.items() if k != 'path'}, 'array': k} for k, it in enumerate(real.items)]   # the variants' images stand in for the files
    with tempfile.TemporaryDirectory() as cache:
        for ck in a.checkpoints:
            model, meta = load_model(ck)
            st = lambda iset: ItemStore(iset, meta['size'], cache=cache, progress=False, resize=checkpoint_resize(meta))
            Xs = embed(model, st(sets['color_crop']), 1, progress=False)
            ranks, X = {}, {}
            for name, arrays in vs.items():
                X[name] = embed(model, st(ItemSet(items, 'color_crop', f'df2 pair, {name}', arrays=arrays)), 1, progress=False)
                ranks[name] = partner_ranks(Xs, X[name])
            print(json.dumps(dict(checkpoint=str(ck), gallery=str(root), ranks=ranks, outranked_by=outranked_by(Xs, X['room'], kinds))))

if __name__ == '__main__': main()
