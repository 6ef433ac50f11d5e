"""Nearest neighbours: clothembed's blocked exact search (and FAISS) against the original's method,
scikit-learn NearestNeighbors(algorithm='ball_tree') fitted then queried; plus embedding throughput.

    python benchmarks/bench_nn.py [--gallery 100000] [--queries 1000] [--dim 256] [--k 10]
"""
import argparse, time, tempfile, os
import numpy as np, torch
from sklearn.neighbors import NearestNeighbors
from clothembed.metrics import knn
from clothembed.predict import embed
from clothembed.models import create_model
from clothembed.data import image_folder
from clothembed.cache import ItemStore
from clothembed.synth import write_dataset

def main(n=100_000, q=1000, dim=256, k=10, embed_n=512):
    rng = np.random.default_rng(0)
    # clustered unit vectors, like an embedding of garments (not uniform noise, where neighbours are meaningless)
    centres = rng.normal(size=(2000, dim)).astype(np.float32)
    G = centres[rng.integers(0, 2000, n)] + 0.5 * rng.normal(size=(n, dim)).astype(np.float32)
    G /= np.linalg.norm(G, axis=1, keepdims=True); Q = G[rng.choice(n, q, replace=False)]
    t0 = time.perf_counter(); I, D = knn(Q, G, k, method='exact'); ours = time.perf_counter() - t0
    t0 = time.perf_counter(); If, Df = knn(Q, G, k, method='faiss-flat'); tf = time.perf_counter() - t0
    t0 = time.perf_counter(); nn = NearestNeighbors(n_neighbors=k, algorithm='ball_tree').fit(G); fit = time.perf_counter() - t0
    t0 = time.perf_counter(); Ds, Is = nn.kneighbors(Q); qt = time.perf_counter() - t0
    agree = np.mean([len(set(a) & set(b)) / k for a, b in zip(I, Is)])
    print(f"gallery {n} x {dim}, {q} queries, k={k}, {torch.get_num_threads()} threads")
    print(f"clothembed exact (blocked matrix product): {ours:.2f} s;  FAISS flat: {tf:.2f} s")
    print(f"scikit-learn ball_tree: fit {fit:.2f} s + query {qt:.2f} s = {fit + qt:.2f} s")
    print(f"speed-up: {(fit + qt) / ours:.0f}x (exact), {(fit + qt) / tf:.0f}x (FAISS);  neighbours in common with ball_tree: {100 * agree:.2f}%; "
          f"max distance difference: {np.abs(np.sort(D, 1) - np.sort(Ds, 1)).max():.1e}")
    with tempfile.TemporaryDirectory() as d:
        os.environ['CLOTHEMBED_CACHE'] = os.path.join(d, 'cache')
        root = write_dataset(os.path.join(d, 's'), n_designs=max(2, embed_n // 4), photos_per_design=4, size=256, progress=False)
        for size in (64, 224):
            st = ItemStore(image_folder(root / 'deepfashion2' / 'train' / 'image'), size, progress=False)
            m = create_model('siamese', 'lite0')
            embed(m, ItemStore(image_folder(root / 'deepfashion2' / 'validation' / 'image'), size, progress=False), progress=False)  # warm-up
            t0 = time.perf_counter(); embed(m, st, bs=64, progress=False); t = time.perf_counter() - t0
            print(f"embedding throughput, Lite0 at {size} px on this CPU: {len(st) / t:.0f} images/s ({len(st)} images)")

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--gallery', type=int, default=100_000); ap.add_argument('--queries', type=int, default=1000)
    ap.add_argument('--dim', type=int, default=256); ap.add_argument('--k', type=int, default=10)
    a = ap.parse_args(); main(a.gallery, a.queries, a.dim, a.k)
