"""Search at scale: index build time, memory per figure, query latency (p50, p95) exact and with FAISS, recall@10 of FAISS
against exact search, and the end-to-end time from a photo file to printed results with the model loaded (as `serve` has it).

    python benchmarks/bench_search.py [--sizes 10000 100000 1000000] [--queries 200] [--threads 2] [--data uniform|clustered]

Random unit vectors stand in for the figures' embeddings (embedding a million real figures would take hours). `uniform`
(the default) draws them uniformly on the sphere: no clusters, the hardest case for approximate search; `clustered` draws
them around 5000 centres, closer to real embeddings. Each index is written and loaded by the same code as
`clothembed-search index`/`query` (`write_index`, `SearchIndex`), with a FAISS index at every size (the CLI builds one from
`ANN_ABOVE` = 50 000 figures). Queries are fresh vectors, one at a time. Exact = float32 brute force (`knn_exact`), the
ground truth of recall@10. Memory: bytes per figure held by the loaded index (FAISS codes + figure columns), its growth of
the process's anonymous memory (RssAnon), and its files on disk. Targets at 1M figures: p95 <= 50 ms, recall@10 >= 0.95,
<= 600 bytes per figure; end to end <= 1 s.
"""
import argparse, json, os, sys, tempfile, time
from pathlib import Path
import numpy as np, torch

def rss() -> dict:
    "RssAnon and RssFile of this process, in bytes (Linux)"
    try: lines = Path('/proc/self/status').read_text().splitlines()
    except OSError: return {}
    return {l.split(':')[0]: int(l.split()[1]) * 1024 for l in lines if l.startswith(('RssAnon', 'RssFile'))}

def vectors(n, dim, kind, rng, centres=None):
    if kind == 'uniform': X = rng.standard_normal((n, dim), dtype=np.float32)
    else: X = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.standard_normal((n, dim), dtype=np.float32) / np.sqrt(dim)
    return X / np.linalg.norm(X, axis=1, keepdims=True)

def pct(t): return np.percentile(t, 50) * 1e3, np.percentile(t, 95) * 1e3

def bench_size(n, dim, nq, k, kind, work, model, photo, rng):
    from clothembed.search import write_index, SearchIndex, Searcher, format_table
    from clothembed.metrics import knn_exact
    centres = vectors(5000, dim, 'uniform', np.random.default_rng(1)) if kind == 'clustered' else None
    X = vectors(n, dim, kind, rng, centres); Q = vectors(nq, dim, kind, rng, centres)
    figs = [dict(pattern=f"p{i // 3:07d}", sheet=f"p{i // 3:07d}/line_drawings/sheet.png", view=i % 3, box=[10, 10, 90, 190]) for i in range(n)]
    out = work / f"ix{n}"
    t0 = time.perf_counter(); write_index(out, X, figs, model.describe(), ann=True); build = time.perf_counter() - t0
    del figs
    r0 = rss(); t0 = time.perf_counter(); ix = SearchIndex(out); load = time.perf_counter() - t0; r1 = rss()
    import faiss
    held = faiss.serialize_index(ix.ann).nbytes + ix.pcode.nbytes + ix.scode.nbytes + ix.views.nbytes + ix.boxes.nbytes
    held += sum(sys.getsizeof(s) + 8 for s in ix.sheets) + ix.patterns.nbytes
    disk = sum(p.stat().st_size for p in out.iterdir())
    G, _ = knn_exact(Q, X, k)                                              # ground truth: float32 brute force
    te, ta, tr, hits = [], [], [], []
    for q, g in zip(Q, G):
        t = time.perf_counter(); knn_exact(q[None], X, k); te.append(time.perf_counter() - t)
        t = time.perf_counter(); I, _ = ix.search(q[None], k); ta.append(time.perf_counter() - t)
        hits.append(len(set(I[0]) & set(g)) / k)
        t = time.perf_counter(); ix.rank(q[None], k); tr.append(time.perf_counter() - t)
    s = Searcher(ix, model.path)                                           # the model loaded once, as `serve` has it
    s.query([photo], k)                                                    # warm-up
    te2e = []
    for _ in range(20):
        t = time.perf_counter(); format_table(s.query([photo], k)); te2e.append(time.perf_counter() - t)
    r = dict(figures=n, data=kind, build_s=round(build, 2), load_s=round(load, 2),
             held_bytes_per_figure=round(held / n), rss_anon_growth_per_figure=round((r1.get('RssAnon', 0) - r0.get('RssAnon', 0)) / n),
             disk_bytes_per_figure=round(disk / n), recall_at_10=round(float(np.mean(hits)), 4),
             exact_p50_ms=round(pct(te)[0], 2), exact_p95_ms=round(pct(te)[1], 2), faiss_p50_ms=round(pct(ta)[0], 2), faiss_p95_ms=round(pct(ta)[1], 2),
             rank_p50_ms=round(pct(tr)[0], 2), rank_p95_ms=round(pct(tr)[1], 2), end_to_end_p50_ms=round(pct(te2e)[0], 1), end_to_end_p95_ms=round(pct(te2e)[1], 1))
    print(json.dumps(r), flush=True)
    del ix, s, X
    import shutil; shutil.rmtree(out)
    return r

def main(sizes=(10_000, 100_000, 1_000_000), nq=200, dim=256, k=10, threads=2, kind='uniform', out_json=None):
    torch.set_num_threads(threads)
    import faiss; faiss.omp_set_num_threads(threads)
    from clothembed.synth import write_dataset
    from clothembed.models import create_model
    from clothembed.checkpoint import save_checkpoint, make_meta
    from clothembed.search import Embedder
    rows = []
    with tempfile.TemporaryDirectory() as d:
        work = Path(d); os.environ['CLOTHEMBED_CACHE'] = str(work / 'cache')
        data = write_dataset(work / 'data', n_designs=2, photos_per_design=2, size=256, progress=False)
        photo = sorted(data.glob('simplicity/*/*/photos/*.jpg'))[0]
        ck = work / 'model.safetensors'                                    # the default architecture (Lite0, 64 px); its weights do not change timings
        save_checkpoint(ck, create_model('dual'), make_meta(dict(model_type='dual', encoder='lite0', dim=dim,
                                                       dset_mode='natural_image', dataset_name='simplicity', size=64)))
        model = Embedder(ck, 'cpu')
        print(f"{threads} threads (torch {torch.get_num_threads()}, faiss {faiss.omp_get_max_threads()}), {os.cpu_count()} CPUs visible; "
              f"{kind} unit vectors of dimension {dim}; {nq} queries; k={k}", flush=True)
        for n in sizes: rows.append(bench_size(n, dim, nq, k, kind, work, model, photo, np.random.default_rng(n)))
    print(f"\n| figures | build (s) | bytes/figure held (RssAnon growth) | on disk | exact p50 / p95 (ms) | FAISS p50 / p95 (ms) | recall@10 | "
          f"pattern ranking p95 (ms) | photo to results p50 / p95 (ms) |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['figures']:,} | {r['build_s']} | {r['held_bytes_per_figure']} ({r['rss_anon_growth_per_figure']}) | {r['disk_bytes_per_figure']} | "
              f"{r['exact_p50_ms']} / {r['exact_p95_ms']} | {r['faiss_p50_ms']} / {r['faiss_p95_ms']} | {r['recall_at_10']} | {r['rank_p95_ms']} | "
              f"{r['end_to_end_p50_ms']} / {r['end_to_end_p95_ms']} |")
    if out_json: Path(out_json).write_text(json.dumps(rows, indent=1))
    return rows

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--sizes', type=int, nargs='+', default=[10_000, 100_000, 1_000_000])
    ap.add_argument('--queries', type=int, default=200); ap.add_argument('--dim', type=int, default=256); ap.add_argument('--k', type=int, default=10)
    ap.add_argument('--threads', type=int, default=2); ap.add_argument('--data', choices=['uniform', 'clustered'], default='uniform')
    ap.add_argument('--json', help='also write the rows here')
    a = ap.parse_args(); main(a.sizes, a.queries, a.dim, a.k, a.threads, a.data, a.json)
