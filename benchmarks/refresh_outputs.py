"""Refresh the saved outputs of the Results cells of `nbs/10_bench.ipynb` from `benchmarks/results/*.json`.

    python benchmarks/refresh_outputs.py

The benchmark takes an hour on 2 cores, so its notebook's tests do not run it: `clothembed-bench` writes JSON, and this
script runs only the cells under the notebook's `## Results` heading (with the module's names imported) and writes their
outputs (tables, plots) into the notebook, where GitHub shows them. Run it after copying a new bench.json into
`benchmarks/results/bench_quick.json`, then `nbdev-clean`.
"""
import copy, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient

def main(nb_path='nbs/10_bench.ipynb'):
    p = Path(nb_path); nb = nbformat.read(p, as_version=4)
    start = next((i for i, c in enumerate(nb.cells) if c.cell_type == 'markdown' and c.source.startswith('## Results')), None)
    if start is None: sys.exit(f"{p}: no '## Results' heading")
    cells = [c for c in nb.cells[start + 1:] if c.cell_type == 'code']
    run = copy.deepcopy(nb); run.cells = [nbformat.v4.new_code_cell('import numpy as np\nfrom pathlib import Path\nfrom clothembed.bench import *')] + copy.deepcopy(cells)
    NotebookClient(run, timeout=600, kernel_name='python3', resources={'metadata': {'path': str(p.parent)}}).execute()
    for c, r in zip(cells, run.cells[1:]): c.outputs = r.outputs
    nbformat.write(nb, p); print(f"{p}: outputs of {len(cells)} Results cells refreshed")

if __name__ == '__main__': main(*sys.argv[1:])
