"""QMUL_RECIPE's WiSE-FT mix (and any other setting), chosen on QMUL's validation pairs, never its test split.

    CLOTHEMBED_DATA=../shared/data python benchmarks/dev/qmul_sweep.py [--seeds 0,1] [--alphas 0.5,0.7,1.0]
        [--categories shoes,chairs] [--set KEY=JSON ...] [--name NAME] [--out qmul_sweep]

QMUL has no validation split; clothembed's is every 5th training pair (`clothembed.data.QMUL_VALIDATION_EVERY`: shoes 60,
chairs 40), and these runs train on the other training pairs alone (`qmul_hold_out`). Each run trains `QMUL_RECIPE` (with the
`--set` overrides) once with `wise=1` (the trained weights) and once with `wise=0` for one step (the starting weights); every mix
is then a weighted sum of the two checkpoints (`clothembed.trunk.wise_models`), scored by sketch -> edge-map acc@1 and acc@10
among the validation pairs (raw pixels and ImageNet Lite0 beside it on each run's first mix). Writes `{out}/results.jsonl`, one line per category, seed and mix, and prints the table of means
(`--table` prints it alone, from `{out}/results.jsonl`).
"""
import argparse, json, sys
from collections import defaultdict
from pathlib import Path
import numpy as np
from clothembed.bench import find_qmul, qmul_bench, qmul_scores, QMUL_RECIPE
from clothembed.trunk import wise_models

def table(results:Path) -> str:
    "Validation acc@1 of every run and mix as Markdown: each category's mean (and its seeds), and the mean of the categories' means"
    acc = defaultdict(list)
    for r in map(json.loads, open(results)): acc[(r['name'], r['alpha'], r['category'])].append(r['model']['recall_at_1'])
    cats = list(dict.fromkeys(k[2] for k in acc))
    cell = lambda v: f"{np.mean(v):.3f} ({', '.join(f'{x:.3f}' for x in v)})" if v else '–'
    rows = ['| run | WiSE mix | ' + ' | '.join(f"{c} acc@1 (per seed)" for c in cats) + ' | mean |', '|---|---|' + '---|' * (len(cats) + 1)]
    for n, a in dict.fromkeys(k[:2] for k in acc):
        vs = [acc.get((n, a, c), []) for c in cats]
        mean = f"{np.mean([np.mean(v) for v in vs]):.3f}" if all(vs) else '–'
        rows.append(f"| {n} | {a:g} | " + ' | '.join(map(cell, vs)) + f" | {mean} |")
    return '\n'.join(rows)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', default='0,1'); p.add_argument('--alphas', default='0.5,0.7,1.0'); p.add_argument('--out', default='qmul_sweep')
    p.add_argument('--categories', default='shoes,chairs'); p.add_argument('--name', default='QMUL_RECIPE')
    p.add_argument('--set', nargs='*', default=[], help='KEY=JSON overrides of QMUL_RECIPE')
    p.add_argument('--table', action='store_true', help='print the table of {out}/results.jsonl and stop')
    a = p.parse_args()
    if a.table: return print(table(Path(a.out) / 'results.jsonl'))
    q = find_qmul()
    if q is None: sys.exit("no QMUL data: set CLOTHEMBED_DATA or CLOTHEMBED_QMUL")
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    kw = {**QMUL_RECIPE, **{k: json.loads(v) for k, v in (s.split('=', 1) for s in a.set)}}
    tag = ''.join(c if c.isalnum() else '_' for c in a.name)
    for c in a.categories.split(','):
        for seed in map(int, a.seeds.split(',')):
            runs = [qmul_bench(q, c, out, 'validation', seed, baselines=False, **{**kw, 'wise': w, 'run_id': f"qmul_{c}_{tag}_s{seed}_w{w:g}", **({'steps': 1} if w == 0 else {})})
                    for w in (1.0, 0.0)]
            alphas = [float(x) for x in a.alphas.split(',')]
            for alpha, cm in wise_models(*[r['checkpoint'] for r in runs], alphas):
                r = dict(name=a.name, overrides=a.set, category=c, seed=seed, alpha=alpha, train_seconds=runs[0]['train_seconds'],
                         **qmul_scores(cm, q, c, 'validation', kw['size'], baselines=alpha == alphas[0]))
                print(json.dumps(r), flush=True)
                with open(out / 'results.jsonl', 'a') as f: f.write(json.dumps(r) + '\n')
    print(table(out / 'results.jsonl'))

if __name__ == '__main__': main()
