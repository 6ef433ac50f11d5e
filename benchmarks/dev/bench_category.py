"""The category term (`TrainConfig.category_weight`) on the headline model: held-out synthetic metrics and the real-photo checks per seed.

    python benchmarks/dev/bench_category.py [--weights 0.2] [--seeds 0,1,2] [--steps N] [--size PX] [--out bench_category]

`--steps` trains for N optimiser steps instead of the recipe's (`--weights 0 --steps 768`: the default recipe at three times its steps);
`--size` trains and evaluates at PX pixels instead of the quick setting's 64 (`--weights 0 --size 128`: the full setting's size).

Trains the benchmark's headline model (quick setting: 64 px, the embedded synthetic data) once per weight and seed, exactly as
`clothembed-bench --quick --seeds 3` does for weight 0, and prints one row per run. The real-photo checks run where their data is
($CLOTHEMBED_DATA/deepfashion2_sample, Debian's dataset-fashion-mnist). About 4 min per run on 2 CPU cores.
"""
import argparse, json
from pathlib import Path
from clothembed.bench import SETTINGS, HEADLINE, contenders, eval_sets, train_eval, find_df2_sample, find_fashion_mnist
from clothembed.synth import default_data
from clothembed.core import write_json

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--weights', default='0.2', help='comma-separated category weights (0: the default recipe)')
    ap.add_argument('--seeds', default='0,1,2', help='comma-separated seeds')
    ap.add_argument('--steps', type=int, default=None, help="optimiser steps (default: the recipe's)")
    ap.add_argument('--size', type=int, default=None, help="image size in pixels (default: the quick setting's)")
    ap.add_argument('--out', default='bench_category', help='output folder: checkpoints and results.json')
    a = ap.parse_args()
    s = SETTINGS['quick']; root = default_data(s['designs'], s['photos']); sets, labels = eval_sets(root)
    real = (find_df2_sample(), find_fashion_mnist()); out = Path(a.out); rows = []
    extra = {k: v for k, v in (('steps', a.steps), ('size', a.size)) if v}
    print('| category_weight | seed | P@1 | MAP@R | photo→drawing R@1 | drawing→photo R@1 | Fashion-MNIST P@1 | DF2 partner ranks (cmc / cc / gm) | train s |')
    print('|---|---|---|---|---|---|---|---|---|')
    for w in (float(x) for x in a.weights.split(',')):
        for seed in (int(x) for x in a.seeds.split(',')):
            r = train_eval(f"category_{w}" + ''.join(f"_{k}{v}" for k, v in extra.items()), {**s['train'], **contenders()[HEADLINE], 'category_weight': w, **extra},
                           root, sets, labels, out, seed, progress=lambda *_: None, real=real)
            rows.append(dict(category_weight=w, seed=seed, **extra, **r)); rr = r.get('real', {}); ranks = rr.get('df2_partner_rank', {})
            print(f"| {w} | {seed} | {r['precision_at_1']:.3f} | {r['map_at_r']:.3f} | {r['photo_to_drawing_r1']:.3f} | {r['drawing_to_photo_r1']:.3f} | "
                  f"{rr.get('fashion_mnist_p1', float('nan')):.3f} | {' / '.join('%d/%d' % tuple(v) for v in ranks.values()) or '-'} | {r['train_seconds']:.0f} |", flush=True)
    write_json(rows, out / 'results.json', indent=1)

if __name__ == '__main__': main()
