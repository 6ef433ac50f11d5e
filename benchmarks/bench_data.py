"""Pair loading speed at 224 px on one core: clothembed's pipeline against the original's way.

The original (data_loader.py) reopened an image's annotation JSON on every access, decoded the image, built the
mask from the polygons, applied the mode, then Resize(256) + RandomCrop(224) + ToTensor + Normalize. Ours reads a
cached index and a preprocessed memory map (built once; its cost is reported separately).

    taskset -c 0 python benchmarks/bench_data.py [--designs 100] [--batches 20] [--mode color_mask_crop]
"""
import argparse, json, os, random, tempfile, time
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(1)
from PIL import Image
from torchvision import transforms as T
from clothembed.synth import write_dataset
from clothembed.data import deepfashion2, apply_mode

from clothembed.cache import ItemStore
from clothembed.loaders import train_dataloaders, PairSampler
class OriginalWay(torch.utils.data.Dataset):
    "A re-implementation of the original's DeepFashion2 loader (PIL in place of cv2/pycocotools)"
    def __init__(self, root, split, mode, groups):
        self.root, self.split, self.mode = Path(root), split, mode
        self.groups = groups; self.ids = sorted(i for g in groups.values() for i in g)
        self.g_of = {i: g for g, ids in groups.items() for i in ids}
        self.tf = T.Compose([T.Resize(256), T.RandomCrop(224), T.ToTensor(), T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    def __len__(self): return len(self.ids)
    def load(self, itemid):
        im, it = itemid.split('_')
        ann = json.loads((self.root / self.split / 'annos' / f"{im}.json").read_text())[it]
        img = Image.open(self.root / self.split / 'image' / f"{im}.jpg").convert('RGB')
        x = apply_mode(img, dict(id=itemid, path=im, bbox=ann['bounding_box'], segmentation=ann['segmentation']), self.mode)
        return self.tf(x)
    def __getitem__(self, i):
        a = self.ids[i]; same = random.random() < 0.5
        b = random.choice([o for o in self.groups[self.g_of[a]] if o != a]) if same else \
            next(o for o in iter(lambda: random.choice(self.ids), None) if self.g_of[o] != self.g_of[a])
        return self.load(a), self.load(b), int(same)

def rate(dl, batches, per_pair=1):
    "Pairs per second over `batches` batches (after one warm-up batch), restarting the loader as needed; `per_pair`: items a pair takes in a batch"
    it = iter(dl); next(it); n = 0; t0 = time.perf_counter()
    for _ in range(batches):
        try: b = next(it)
        except StopIteration: it = iter(dl); b = next(it)
        n += len(b[0]) // per_pair
    return n / (time.perf_counter() - t0)

def main(designs=100, batches=20, mode='color_mask_crop', bs=64):
    with tempfile.TemporaryDirectory() as d:
        os.environ['CLOTHEMBED_CACHE'] = str(Path(d) / 'cache')
        root = write_dataset(Path(d) / 's', n_designs=designs, photos_per_design=4, size=256, progress=False) / 'deepfashion2'
        ds = deepfashion2(root, 'train', mode)
        t0 = time.perf_counter(); st = ItemStore(ds, 224, progress=False); build = time.perf_counter() - t0
        dls = train_dataloaders(st, st, sampler=PairSampler(), bs=bs)   # the paper's pairs, as the original drew them
        ours = rate(dls.train, batches, per_pair=2)
        groups = {}
        for x in ds.items: groups.setdefault(x['group'], []).append(x['id'])
        dl = torch.utils.data.DataLoader(OriginalWay(root, 'train', mode, groups), batch_size=bs, shuffle=True, num_workers=0)
        orig = rate(dl, max(3, batches // 4))
    print(f"mode {mode}, 224 px, batch {bs}, one core, {len(ds)} items")
    print(f"clothembed pipeline: {ours:.0f} pairs/s (one-off preprocessing of the {len(ds)} items: {build:.1f} s, {len(ds)/build:.0f} items/s)")
    print(f"original's way:      {orig:.0f} pairs/s")
    print(f"ratio: {ours / orig:.1f}x")
    return ours, orig

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--designs', type=int, default=100); ap.add_argument('--batches', type=int, default=20)
    ap.add_argument('--mode', default='color_mask_crop'); a = ap.parse_args()
    main(a.designs, a.batches, a.mode)
