"""The default recipe's WiSE-FT mix, swept after training, judged on kinds never trained on (clothing_small validation only).

    CLOTHEMBED_DATA=../shared/data python benchmarks/dev/wise_sweep.py [--seeds 0,1] [--alphas 0.5,0.7,1.0] [--set KEY=JSON ...]
        [--real-photos DIR --real-photos-held DIR] [--out wise_sweep]

Each seed trains the default recipe (with `--set` overrides) twice: on all of `clothing_small/train` and without its hat, shorts
and outwear photos (`clothembed.bench.held_out_kinds_folder`). Each run is trained once with `wise=1` (the trained weights) and
once with `wise=0` for one step (the starting weights, which `WiSE` puts back exactly); every mix `alpha` × trained +
(1 - `alpha`) × starting is then a weighted sum of the two checkpoints, so the sweep costs one training per run.

Read, never the test split:
- the run on all kinds: validation P@1 and MAP@R of garment kind, the P@1 drop with every query's hue turned or in greyscale,
  and Fashion-MNIST P@1 (200 photos per class; where present);
- the run without three kinds: the *selection set*, clothing_small validation (every kind) plus the training photos of the three
  held-out kinds, which that run never saw: P@1 and MAP@R over all queries and over the held-out kinds' queries, beside the
  ImageNet Lite0 features at 224 px.

`--real-photos DIR --real-photos-held DIR` train on other folders of real photos instead (e.g. the same photos as loose,
unlabelled images: instance positives only). Writes `{out}/results.jsonl`, one line per run and mix.
"""
import argparse, json, sys
from pathlib import Path
import numpy as np
from clothembed.config import TrainConfig
from clothembed.train import train
from clothembed.checkpoint import ckpt_file
from clothembed.data import real_photos_set, ItemSet
from clothembed.bench import (real_photo_sets, find_clothing_small, held_out_kinds_folder, imagenet_features, find_fashion_mnist,
                              real_photo_metrics, HELD_OUT_KINDS)
from clothembed.metrics import retrieval_metrics
from clothembed.synth import default_data
from clothembed.trunk import wise_models

def kind_metrics(X, kinds:np.ndarray):
    "P@1 and MAP@R of kind, leave-one-out, over all queries and over the held-out kinds' (their kinds' figures weighted by count)"
    m = retrieval_metrics(X, kinds, ks=(1,), by_label=True); n = {k: int((kinds == k).sum()) for k in HELD_OUT_KINDS}
    held = lambda key: sum(m[key][k] * n[k] for k in HELD_OUT_KINDS) / sum(n.values())
    return dict(p1=m['precision_at_1'], map=m['map_at_r'], held_p1=held('precision_at_1_by_label'), held_map=held('map_at_r_by_label'),
                **{f"p1_{k}": m['precision_at_1_by_label'][k] for k in HELD_OUT_KINDS})

def selection_set(cs:Path) -> ItemSet:
    "clothing_small validation, and the training photos of the held-out kinds"
    v, t = real_photos_set(cs / 'validation'), real_photos_set(cs / 'train')
    return ItemSet(v.items + [it for it in t.items if it['group'].split(':', 1)[1] in HELD_OUT_KINDS], 'natural_image', 'selection')

def trained_pair(name, overrides, real_photos, seed, root, out) -> tuple:
    "Checkpoints `(trained, starting)` of the default recipe on `real_photos` (each trained once)"
    cks = []
    for a in (1.0, 0.0):
        cfg = TrainConfig.from_recipe('default', **{**overrides, 'real_photos': real_photos, 'wise': a, 'run_id': f"{name}_s{seed}_w{a:g}", 'out': str(out),
                                                    'data_root': str(root), 'seed': seed, **({'steps': 1} if a == 0 else {})})
        if not ckpt_file(cfg).exists(): train(cfg, restore=False, quiet=True)
        cks.append(ckpt_file(cfg))
    return tuple(cks)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', default='0,1'); p.add_argument('--alphas', default='0.5,0.7,1.0'); p.add_argument('--out', default='wise_sweep')
    p.add_argument('--set', nargs='*', default=[], help='KEY=JSON overrides of the default recipe')
    p.add_argument('--real-photos'); p.add_argument('--real-photos-held'); p.add_argument('--name', default='default')
    a = p.parse_args()
    cs = find_clothing_small()
    if cs is None: sys.exit("no clothing_small: set CLOTHEMBED_DATA")
    cs, out = Path(cs), Path(a.out); out.mkdir(parents=True, exist_ok=True)
    ov = {k: json.loads(v) for k, v in (s.split('=', 1) for s in a.set)}
    alphas = [float(x) for x in a.alphas.split(',')]
    val, sel = real_photo_sets(cs, 'validation'), selection_set(cs)
    kinds = np.array([it['group'].split(':', 1)[1] for it in sel.items])
    fm, root = find_fashion_mnist(), default_data(240, 4)
    def log(r):
        print(json.dumps(r), flush=True)
        with open(out / 'results.jsonl', 'a') as f: f.write(json.dumps(r) + '\n')
    f = lambda s: imagenet_features(s, 224)
    log(dict(name='ImageNet Lite0 224 px', selection=kind_metrics(f(sel), kinds)))
    for seed in map(int, a.seeds.split(',')):
        full = trained_pair(f"{a.name}_full", ov, a.real_photos or str(cs / 'train'), seed, root, out)
        for al, cm in wise_models(*full, alphas):
            m = real_photo_metrics(lambda s: cm.embed(s, 1), val); p1 = lambda k: m[k]['precision_at_1']
            r = dict(name=a.name, runs='all kinds', seed=seed, wise=al, overrides=ov, p1=p1('plain'), map=m['plain']['map_at_r'],
                     hue_drop=p1('plain') - p1('hue120'), grey_drop=p1('plain') - p1('grey'))
            if fm is not None: r['fashion_mnist_p1'] = retrieval_metrics(cm.embed(fm, 1), fm.groups)['precision_at_1']
            log(r)
        part = trained_pair(f"{a.name}_held", ov, a.real_photos_held or str(held_out_kinds_folder(cs / 'train')), seed, root, out)
        for al, cm in wise_models(*part, alphas):
            log(dict(name=a.name, runs=f"without {', '.join(HELD_OUT_KINDS)}", seed=seed, wise=al, overrides=ov, selection=kind_metrics(cm.embed(sel, 1), kinds)))

if __name__ == '__main__': main()
