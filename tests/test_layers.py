"The layers stay apart: modules that only read or describe a run do not import the training loop"
import subprocess, sys
import pytest

@pytest.mark.parametrize('mod', ['clothembed.predict', 'clothembed.convert', 'clothembed.checkpoint', 'clothembed.config', 'clothembed.synth'])
def test_does_not_import_train(mod):
    code = f"import sys, {mod}; print('clothembed.train' in sys.modules)"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == 'False', f"{mod} imports clothembed.train"
