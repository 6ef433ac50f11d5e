"""Every installed console script (`[project.scripts]`) run as a program: exit status 0 on a cheap success with nothing
printed that was not asked for, and 2 (a bad argument or option) or 1 (bad data, a missing file) with exactly one line
on stderr. Skipped where the package is not installed (no `clothembed-*` on the PATH)."""
import json, os, shutil, subprocess
import pytest

SCRIPTS = ['synth', 'train', 'predict', 'bench', 'demo', 'convert', 'search']

def exe(name):
    p = shutil.which(f'clothembed-{name}')
    if p is None: pytest.skip(f'clothembed-{name} is not installed (pip install -e .)')
    return p

def run(name, *args, cwd=None) -> subprocess.CompletedProcess:
    "Run the installed `clothembed-name` as a user would (warnings as they come: none may be printed)"
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'}
    return subprocess.run([exe(name), *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)

def fails(r, status):
    "`r` ended with `status` and one line on stderr, no traceback"
    assert r.returncode == status, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and 'error' in lines[0] and 'Traceback' not in r.stderr, r.stderr[-2000:]
    return lines[0]

@pytest.mark.parametrize('name', SCRIPTS)
def test_help(name):
    r = run(name, '--help')
    assert r.returncode == 0 and r.stdout.startswith('usage:') and r.stderr == '', (r.returncode, r.stderr[-2000:])

@pytest.mark.parametrize('name', [s for s in SCRIPTS if s != 'search'])
def test_bad_option(name):
    assert 'unrecognized arguments: --no-such-option' in fails(run(name, '--no-such-option', '1'), 2)

def test_user_errors(tmp_path):
    assert 'no command given' in fails(run('search'), 2)
    assert "unknown command 'find'" in fails(run('search', 'find'), 2)
    assert 'invalid choice' in fails(run('search', 'index', tmp_path, '--out', tmp_path / 'ix', '--domain', 'sketches'), 2)
    assert 'catalogue folder not found' in fails(run('search', 'index', tmp_path / 'nothing', '--out', tmp_path / 'ix'), 1)
    assert 'index folder not found' in fails(run('search', 'query', tmp_path / 'a.jpg', '--index', tmp_path / 'nowhere'), 1)
    assert 'give the index folder' in fails(run('search', 'serve'), 2)
    assert 'missing.pth' in fails(run('convert', tmp_path / 'missing.pth'), 1)
    assert 'checkpoint not found' in fails(run('predict', 'gen_embedding', '--run_id', 'nope', cwd=tmp_path), 1)
    assert 'n_designs must be at least 2' in fails(run('synth', tmp_path / 'd', '--n-designs', '1'), 2)

@pytest.fixture(scope='module')
def work(tmp_path_factory):
    "A tiny synthetic dataset written by `clothembed-synth` itself, and a dual checkpoint with untrained projections"
    d = tmp_path_factory.mktemp('entry')
    r = run('synth', d / 'data', '--n-designs', 6, '--photos-per-design', 2, '--size', 48, '--n-workers', 0, cwd=d)
    assert r.returncode == 0 and r.stderr == '', r.stderr[-2000:]
    from clothembed.models import create_model
    from clothembed.train import save_checkpoint
    ck = d / 'ckpt' / 'tiny.safetensors'
    save_checkpoint(ck, create_model('dual', pretrained=False), dict(format='clothembed-checkpoint', version=1, model_type='dual',
                    encoder='lite0', dim=256, dset_mode='natural_image', dataset_name='simplicity', size=32, epoch=0, iteration=0, config={}))
    return dict(d=d, ck=ck, data=d / 'data')

def test_synth(work):
    assert (work['data'] / 'simplicity').is_dir() and (work['data'] / 'deepfashion2').is_dir()
    fails(run('synth', work['data']), 1)                                  # an output folder that is not empty

def test_bench_baselines_only(work, tmp_path):
    "`--only none`: the baselines alone, no model trained (QMUL and the real photos off here), bench.json written; an unknown contender is refused"
    r = run('bench', '--quick', '--only', 'none', '--qmul', 'false', '--real', 'false', '--data-root', work['data'], '--out', tmp_path / 'b', cwd=tmp_path)
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    res = json.loads((tmp_path / 'b' / 'bench.json').read_text())
    assert res['models'] == {} and set(res['baselines']) == {'raw pixels', 'ImageNet Lite0'}, res.keys()
    assert not (tmp_path / 'b' / 'ckpt').exists()
    assert "unknown contender 'nope'" in fails(run('bench', '--only', 'default,nope', cwd=tmp_path), 2)

def test_search_index_then_query(work):
    "`index ... && query ...`: both exit 0 (the index command used to exit 1 after its success, printing its summary dict)"
    d, ix = work['d'], work['d'] / 'ix'
    r = run('search', 'index', work['data'], '--out', ix, '--ckpt', work['ck'], cwd=d)
    assert r.returncode == 0 and r.stderr == '', (r.returncode, r.stderr[-2000:])
    assert r.stdout.count('\n') == 1 and 'figures of 6 patterns' in r.stdout, r.stdout
    photo = sorted(work['data'].glob('simplicity/*/*/photos/*.jpg'))[0]
    r = run('search', 'query', photo, '--index', ix, '-k', 2, '--json', cwd=d)
    assert r.returncode == 0 and r.stderr == '', (r.returncode, r.stderr[-2000:])
    assert [x['rank'] for x in json.loads(r.stdout)[0]['results']] == [1, 2]
    r = run('search', 'query', photo, '--index', ix, '-k', 0, cwd=d)
    assert '-k must be at least 1' in fails(r, 2)

def test_convert(work, tmp_path):
    "An embedding in the original's JSON becomes ours"
    src = tmp_path / 'old_validation_embedding.json'
    src.write_text(json.dumps({'a/1.jpg': [1.0, 0.0, 0.0], 'b/2.jpg': [0.0, 2.0, 0.0]}))
    r = run('convert', src, '--out', tmp_path / 'new', cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == '', (r.returncode, r.stderr[-2000:])

@pytest.mark.slow
def test_train_predict(work):
    "Trains a tiny model: slow"
    d = work['d']
    r = run('train', '--run_id', 'ep', '--data_root', work['data'], '--size', 32, '--epochs', 1, '--bs', 4, '--extra_designs', 0, cwd=d)
    assert r.returncode == 0, r.stderr[-2000:]
    r = run('predict', 'gen_embedding', '--run_id', 'ep', '--data_root', work['data'], '--bs', 4, cwd=d)
    assert r.returncode == 0, r.stderr[-2000:]
