"What the command-line tests share: running code in a fresh Python, and a work folder with a tiny synthetic dataset"
import os, subprocess, sys
from contextlib import contextmanager
from pathlib import Path
import pytest

def run_python(code:str, *args, cwd=None, **kw) -> subprocess.CompletedProcess:
    "Run `python -c code args...` in `cwd` with warnings silenced; its return code and text output"
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    return subprocess.run([sys.executable, '-c', code, *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env, **kw)

@contextmanager
def synthetic_workdir(d:Path, n_designs:int, photos_per_design:int, size:int):
    "`d`, with a tiny synthetic dataset in `d/data` and its own cache folder as `$CLOTHEMBED_CACHE` until the block ends"
    with pytest.MonkeyPatch.context() as mp:   # a module-scoped fixture cannot use `monkeypatch`; this restores the variable the same way
        mp.setenv('CLOTHEMBED_CACHE', str(d / 'cache'))
        from clothembed.synth import write_dataset
        write_dataset(d / 'data', n_designs=n_designs, photos_per_design=photos_per_design, size=size, progress=False)
        yield d
