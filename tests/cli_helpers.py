"What the command-line tests share: running code in a fresh Python, and a work folder with a tiny synthetic dataset"
import os, subprocess, sys
from pathlib import Path

def run_python(code:str, *args, cwd=None, **kw) -> subprocess.CompletedProcess:
    "Run `python -c code args...` in `cwd` with warnings silenced; its return code and text output"
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    return subprocess.run([sys.executable, '-c', code, *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env, **kw)

def synthetic_workdir(d:Path, n_designs:int, photos_per_design:int, size:int) -> Path:
    "`d`, with its own cache folder (`$CLOTHEMBED_CACHE`) and a tiny synthetic dataset in `d/data`"
    os.environ['CLOTHEMBED_CACHE'] = str(d / 'cache')
    from clothembed.synth import write_dataset
    write_dataset(d / 'data', n_designs=n_designs, photos_per_design=photos_per_design, size=size, progress=False)
    return d
