"""Synthetic garment generator speed: photo + line drawing + mask triples per second, one core, 256 px.

    python benchmarks/bench_synth.py [--n 300] [--size 256]
    python benchmarks/bench_synth.py --parallel 400 --size 128 [--repeat 3]   # write_dataset of 400 designs: one process, then every core
"""
import argparse, os, tempfile, time
os.environ.setdefault('OMP_NUM_THREADS', '1')
import numpy as np
from clothembed.synth import sample_designs, sample_texture, make_sample, write_dataset

def main(n=300, size=256):
    designs = sample_designs(50, seed=0); rng = np.random.default_rng(0)
    texs = [sample_texture(rng) for _ in range(50)]
    make_sample(designs[0], texs[0], size)  # warm up
    t0 = time.perf_counter()
    for i in range(n): make_sample(designs[i % 50], texs[(i * 7) % 50], size, seed=i)
    mem = n / (time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as d:
        nd = max(2, n // 4)
        t0 = time.perf_counter(); write_dataset(os.path.join(d, 's'), n_designs=nd, photos_per_design=4, size=size, progress=False)
        disk = nd * 4 / (time.perf_counter() - t0)
    print(f"in memory: {mem:.0f} triples/s (one core, {size} px, n={n})")
    print(f"to disk (DeepFashion2 + Simplicity trees with sheets and ground truth): {disk:.0f} photos/s")
    return mem, disk

def parallel_disk(designs=400, size=128, repeat=3):
    "Seconds for `write_dataset` of `designs` × 4 photos in one process and on every core (the files are the same)"
    n = os.cpu_count() or 1
    for r in range(repeat):
        secs = []
        for w in (0, n):
            with tempfile.TemporaryDirectory() as d:
                t0 = time.perf_counter(); write_dataset(os.path.join(d, 's'), designs, 4, size, progress=False, n_workers=w); secs.append(time.perf_counter() - t0)
        print(f"write_dataset, {designs} designs x 4 photos at {size} px: one process {secs[0]:.1f} s, {n} processes {secs[1]:.1f} s")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--n', type=int, default=300); ap.add_argument('--size', type=int, default=256)
    ap.add_argument('--parallel', type=int, default=0, help='designs for the one-process against every-core comparison (0: not run)')
    ap.add_argument('--repeat', type=int, default=3)
    a = ap.parse_args()
    if a.parallel: parallel_disk(a.parallel, a.size, a.repeat)
    else: main(a.n, a.size)
