"Command-line behaviour of clothembed-synth: writes both formats, refuses bad arguments clearly, leaves nothing half-written"
import json
from cli_helpers import run_python

def run(*args): return run_python('from clothembed.synth import synth_cli; synth_cli()', *args)

def test_writes_both_formats(tmp_path):
    r = run(str(tmp_path / 'ds'), '--n_designs', '6', '--photos-per-design', '2', '--size', '64', '--seed', '3')
    assert r.returncode == 0, r.stderr
    root = tmp_path / 'ds'
    assert len(list((root / 'deepfashion2/train/image').glob('*.jpg'))) == 2 * 5
    assert len(list((root / 'deepfashion2/validation/annos').glob('*.json'))) == 2
    assert len(list((root / 'simplicity/train').glob('*/line_drawings/sheet.png'))) == 5
    gt = json.loads((root / 'ground_truth.json').read_text())
    assert len(gt['images']) == 6 * 2 * 2   # each photo is in both trees

def test_bad_arguments(tmp_path):
    r = run(str(tmp_path / 'ds'), '--n-designs', '-3')
    assert r.returncode != 0 and 'n_designs must be at least 2' in r.stderr
    assert not (tmp_path / 'ds').exists()

def test_unwritable_folder(tmp_path):
    f = tmp_path / 'file'; f.write_text('x')
    r = run(str(f / 'ds'), '--n-designs', '4', '--photos-per-design', '2', '--size', '64')
    assert r.returncode != 0 and 'error' in r.stderr

def test_no_half_written_dataset_on_failure(tmp_path, monkeypatch):
    from clothembed import synth
    def boom(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(synth, 'make_sample', boom)
    try: synth.write_dataset(tmp_path / 'ds', n_designs=4, photos_per_design=2, size=64, progress=False)
    except KeyboardInterrupt: pass
    assert list(tmp_path.iterdir()) == []
