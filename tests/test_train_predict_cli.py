"The seed's command lines, unchanged, on a tiny synthetic tree; a run killed with Ctrl-C saves and resumes"
import json, signal, subprocess, sys, time
import pytest
from cli_helpers import run_python, synthetic_workdir

TRAIN = 'from clothembed.train import train_cli; train_cli()'
PREDICT = 'from clothembed.predict import predict_cli; predict_cli()'

run = run_python

@pytest.fixture(scope='module')
def work(tmp_path_factory):
    with synthetic_workdir(tmp_path_factory.mktemp('cli'), 12, 2, 64) as d: yield d

SMALL = ['--size', '32', '--bs', '8', '--epochs', '1', '--extra_designs', '0']

def test_seed_training_and_analysis_commands(work):
    r = run(TRAIN, '--run_id', 'deepfashion_embedding', '--dataset_name', 'deepfashion', '--dset_mode', 'grayscale_mask',
            '--model_type', 'siamese', '--data_root', str(work / 'data'), *SMALL, cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (work / 'ckpt/deepfashion_embedding.safetensors').exists() and (work / 'logs/deepfashion_embedding.csv').exists()
    r = run(PREDICT, 'gen_embedding', '--run_id', 'deepfashion_embedding', '--dset_split', 'validation', cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (work / 'preds/deepfashion_embedding_validation_embedding.npy').exists()
    r = run(PREDICT, 'nearest_neighbors', '--run_id', 'deepfashion_embedding', '--subset_n', '100', cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'using all 4' in r.stdout                                    # subset_n larger than the set: stated clamp
    nn = json.loads((work / 'preds/deepfashion_embedding_validation_100_nearest_neighbors.json').read_text())
    assert len(nn) == 4 and all(len(v) == 4 for v in nn.values())       # k clamped to the gallery
    r = run(PREDICT, 'all', '--run-id', 'deepfashion_embedding', '--analysis-tag', 'again', cwd=work)   # hyphenated flags
    assert r.returncode == 0, r.stderr[-2000:]
    assert (work / 'preds/deepfashion_embedding_again_validation_pca.json').exists()

@pytest.mark.slow
def test_dual_from_siamese_and_mismatch(work):
    syn = ['--recipe', 'synthetic']   # a Siamese base, as 0.2's default recipe trained (the default recipe now trains a split model)
    r = run(TRAIN, '--run_id', 'base', '--dataset_name', 'deepfashion', '--data_root', str(work / 'data'), *syn, *SMALL, cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    r = run(TRAIN, '--run_id', 'dual', '--dataset_name', 'simplicity', '--model_type', 'dual', '--ckpt_path', 'ckpt/base.safetensors',
            '--restore', 'False', '--data_root', str(work / 'data'), *syn, *SMALL, cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    r = run(TRAIN, '--run_id', 'base', '--dataset_name', 'deepfashion', '--model_type', 'dual', '--data_root', str(work / 'data'), *syn, *SMALL, cwd=work)
    assert r.returncode != 0 and 'model_type: checkpoint has' in r.stderr
    r = run(PREDICT, 'gen_embedding', '--run_id', 'nothing', cwd=work)
    assert r.returncode != 0 and 'checkpoint not found' in r.stderr
    r = run(PREDICT, 'flip', cwd=work)
    assert r.returncode != 0 and 'unknown operation' in r.stderr

@pytest.mark.slow
def test_killed_run_resumes(work):
    args = ['--run_id', 'killed', '--dataset_name', 'deepfashion', '--data_root', str(work / 'data'), '--size', '32', '--bs', '8', '--extra-designs', '0']
    p = subprocess.Popen([sys.executable, '-c', TRAIN, *args, '--epochs', '100000'], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ck = work / 'ckpt/killed.json'
    t0 = time.time()
    while not ck.exists() and time.time() - t0 < 240: time.sleep(0.5)
    assert ck.exists(), 'no checkpoint after the first epoch'
    time.sleep(1); p.send_signal(signal.SIGINT); out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err[-2000:]
    assert 'interrupted: saved' in out
    epoch = json.loads(ck.read_text())['epoch']; assert epoch >= 1
    r = run(TRAIN, *args, '--epochs', str(epoch + 1), cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'resuming' in r.stdout and json.loads(ck.read_text())['epoch'] == epoch + 1
