"""One epoch of the paper's pair sampler (`PairSampler`, as `--sampler pairs` and `--recipe paper` use it) on a large pool.

    python benchmarks/bench_sampler.py [--garments 20000] [--photos 4] [--hard]

The pool is DeepFashion2-sized when asked (about 190,000 photos at 47,000 garments); images are not needed to draw partners, so the
stores here hold item records only. The reference is the plain rescan of the pool per photo, which this release replaced; it is timed on
a sample of photos and scaled to the epoch.
"""
import argparse, time
import numpy as np
from clothembed.loaders import Pool, PairSampler

class Items:
    "A stand-in for an `ItemStore`: item records, no pixels"
    def __init__(self, items, name): self.items, self.iset = items, type('S', (), {'name': name})()
    def __len__(self): return len(self.items)

def rescan(pool, i, rng, p, hard):
    "The previous draw: scan the whole pool for each photo"
    side = 1 if pool.paired else 0; l = pool.labels[i]
    pos = [j for j in pool.by_label[int(l)] if pool.domain[j] == side and j != i]
    if pos and rng.random() < p: return pos[rng.integers(len(pos))], True
    others = [j for j in np.where(pool.domain == side)[0] if pool.labels[j] != l]
    if hard: others = [j for j in others if pool.category_id[j] == pool.category_id[i]] or others
    return others[rng.integers(len(others))], False

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--garments', type=int, default=20000); ap.add_argument('--photos', type=int, default=4)
    ap.add_argument('--hard', action='store_true', help='hard negatives (same category)'); ap.add_argument('--sample', type=int, default=200)
    a = ap.parse_args()
    cats = ['dress', 'tee', 'shirt', 'jacket', 'trousers', 'shorts', 'skirt', 'jumpsuit']
    ph = [dict(id=f"p{g}_{k}", group=f"g{g}", category=cats[g % 8]) for g in range(a.garments) for k in range(a.photos)]
    dr = [dict(id=f"d{g}", group=f"g{g}") for g in range(a.garments)]
    pool = Pool(Items(ph, 'photos'), Items(dr, 'drawings')); s = PairSampler(0.5, a.hard)
    t0 = time.perf_counter(); s(pool, 64, np.random.default_rng(0)); new = time.perf_counter() - t0
    photos = pool.photos()[:a.sample]; rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for i in photos: rescan(pool, i, rng, 0.5, a.hard)
    old = (time.perf_counter() - t0) / len(photos) * len(pool.photos())
    print(f"{len(pool.photos())} photos, {a.garments} garments{' (hard negatives)' if a.hard else ''}: one epoch {new:.2f} s; "
          f"the previous rescan about {old:.0f} s (timed on {len(photos)} photos): {old / new:.0f}x")

if __name__ == '__main__': main()
