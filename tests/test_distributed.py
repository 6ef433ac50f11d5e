"Two processes on the CPU (gloo) through fastai's distrib_ctx: data sharded, one checkpoint by rank 0, resumable, one log"
import csv, os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ['-m', 'clothembed.train']   # the form accelerate's examples use

def launcher():
    "accelerate launch when installed (--multi_gpu: its --cpu starts a single process), else torchrun"
    if shutil.which('accelerate'): return ['accelerate', 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1',
                                           '--mixed_precision', 'no', '--dynamo_backend', 'no']
    return [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2']

@pytest.mark.slow
def test_two_processes_on_cpu(tmp_path):
    pytest.importorskip('accelerate')
    env = {**os.environ, 'CLOTHEMBED_CACHE': str(tmp_path / 'cache'), 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
    from clothembed.synth import write_dataset
    write_dataset(tmp_path / 'data', 12, 2, 64, progress=False)
    args = ['--run_id', 'two', '--data_root', str(tmp_path / 'data'), '--size', '32', '--bs', '4', '--device', 'cpu', '--extra-designs', '0']
    r = subprocess.run([*launcher(), *ENTRY, *args, '--epochs', '2'], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    from clothembed.train import load_model, read_checkpoint
    ck = tmp_path / 'ckpt/two.safetensors'
    sd, meta, _ = read_checkpoint(ck)
    assert not any(k.startswith('module.') for k in sd)                   # the bare model, not DistributedDataParallel's wrapper
    from clothembed.train import TrainConfig, build_dls
    dl = build_dls(TrainConfig(data_root=str(tmp_path / 'data'), size=32, bs=4, extra_designs=0), ([0.5] * 3, [0.5] * 3), progress=False).train
    single, drawn = len(dl), len(dl.get_idxs())                            # one process: batches, and items drawn, an epoch
    per_rank = -(-(-(-drawn // 2)) // dl.bs)                               # each rank gets half the items drawn
    assert per_rank < single and meta['epoch'] == 2 and meta['iteration'] == 2 * per_rank
    rows = list(csv.reader((tmp_path / 'logs/two.csv').open()))
    assert [r[0] for r in rows] == ['epoch', '0', '1']                    # one header and one line an epoch: rank 0 alone logs
    load_model(ck)
    r = subprocess.run([*launcher(), *ENTRY, *args, '--epochs', '3'], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert 'resuming' in r.stdout and 'at epoch 2' in r.stdout
    _, meta, _ = read_checkpoint(ck)
    assert meta['epoch'] == 3 and meta['iteration'] == 3 * per_rank
