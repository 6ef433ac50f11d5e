"""What the default recipe costs on this machine: training time, embedding speed and peak memory.

    python benchmarks/bench_cost.py [--out bench_cost.json] [--steps 150] [--demo]

- training: `clothembed-train`'s default recipe (224 px; the real photos of $CLOTHEMBED_DATA/clothing_small/train where
  present) from an empty trunk-view cache (the synthetic dataset and the item caches as they are), seconds and peak RSS;
- embedding: photos per second of the trained checkpoint over the clothing_small validation photos at the embedding
  size, as the checkpoint embeds (the default recipe: without the mirror-image average), and with and without `flip`,
  after one warm-up pass;
- with --demo: `clothembed-demo` from an empty cache folder (everything generated and trained), wall seconds.

Run it alone: on 2 cores anything beside it makes the figures worthless.
"""
import argparse, json, os, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path

def peak_rss_mb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='bench_cost.json'); ap.add_argument('--steps', type=int, default=None)
    ap.add_argument('--demo', action='store_true', help='also time clothembed-demo from an empty cache')
    a = ap.parse_args()
    import torch
    from clothembed.core import cache_dir
    from clothembed.config import TrainConfig
    from clothembed.train import train
    from clothembed.checkpoint import CheckpointModel, ckpt_file
    from clothembed.data import real_photos_set
    from clothembed.bench import find_clothing_small
    from clothembed.bench import source_commit
    res = dict(command=' '.join(['python'] + sys.argv), commit=source_commit(), threads=torch.get_num_threads(), cpus=os.cpu_count(), torch=torch.__version__)
    with tempfile.TemporaryDirectory() as d:
        cfg = TrainConfig.from_recipe('default', run_id='cost', out=d, **({'steps': a.steps} if a.steps else {}))
        res['config'] = dict(size=cfg.size, steps=cfg.steps, bs=cfg.bs, trunk_views=cfg.trunk_views, real_photos=cfg.real_photos)
        shutil.rmtree(cache_dir() / 'trunk', ignore_errors=True)   # the trunk views are part of what training costs
        t0 = time.time(); train(cfg, restore=False, quiet=True); res['train_seconds'] = round(time.time() - t0, 1)
        res['train_peak_rss_mb'] = round(peak_rss_mb())
        cs = find_clothing_small()
        if cs is not None:
            cm = CheckpointModel(ckpt_file(cfg)); st = cm.store(real_photos_set(cs / 'validation'))
            for flip in (None, False, True):   # None: as the checkpoint says (the default recipe: no flip)
                cm.embed(st, flip=flip)   # warm-up
                t0 = time.time(); cm.embed(st, flip=flip)
                res['embed_photos_per_s' + {None: '', False: '_noflip', True: '_flip'}[flip]] = round(len(st) / (time.time() - t0), 1)
            res['embed_flip_default'] = cm.flip
            res['embed_photos'] = len(st)
    if a.demo:
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, CLOTHEMBED_CACHE=str(Path(d) / 'cache'))
            t0 = time.time(); r = subprocess.run(['clothembed-demo', '--out', str(Path(d) / 'demo')], env=env, capture_output=True, text=True)
            res['demo_seconds'] = round(time.time() - t0, 1); res['demo_rc'] = r.returncode
            if r.returncode: print(r.stderr[-2000:], file=sys.stderr)
    Path(a.out).write_text(json.dumps(res, indent=1)); print(json.dumps(res, indent=1))

if __name__ == '__main__': main()
