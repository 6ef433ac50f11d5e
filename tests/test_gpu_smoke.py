"benchmarks/gpu/run.sh --smoke from a fresh folder: the GPU script's whole path (install check, every stage, the JSON) on the CPU"
import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

@pytest.mark.slow
def test_gpu_script_smoke(tmp_path):
    env = {**os.environ, 'CLOTHEMBED_SKIP_INSTALL': '1', 'PYTHON': sys.executable, 'PYTHONWARNINGS': 'ignore', 'OUT': str(tmp_path / 'out')}
    if (ROOT / '.whl').is_dir(): env.pop('CLOTHEMBED_SKIP_INSTALL'); env['CLOTHEMBED_SITE'] = str(tmp_path / 'site')   # the install step too
    env.pop('CLOTHEMBED_CACHE', None)
    r = subprocess.run(['bash', str(ROOT / 'benchmarks/gpu/run.sh'), '--smoke', '--work', str(tmp_path / 'work'),
                        '--budget-scale', os.environ.get('CLOTHEMBED_BUDGET_SCALE', '3')], cwd=tmp_path,   # a shared CI machine is slow
                       env=env, capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    rep = json.loads((tmp_path / 'out' / 'gpu_bench.json').read_text())
    st = rep['stages']
    for s in ('ceiling', 'pipeline', 'profile', 'bench'): assert st[s]['status'] == 'done', (s, st[s])
    assert st['ceiling']['images_per_s'] > 0 and st['pipeline']['images_per_s'] > 0 and rep['pipeline_to_ceiling'] > 0
    assert st['pipeline']['checkpoint_epoch'] == rep['settings']['epochs'] and st['pipeline']['config']['recipe'] == 'paper' and st['pipeline']['config']['schedule'] == 'step'
    assert len(st['pipeline']['per_epoch']) == rep['settings']['epochs']
    m = st['bench']['models']
    assert set(m) == set(rep['settings']['bench_only']) and all(0 <= v['precision_at_1'] <= 1 for v in m.values())
    assert st['qmul']['status'] == 'done'   # trained on the tiny setting when the data is beside the tree, else skipped with a reason
    assert ('shoes' in st['qmul']) != ('skipped' in st['qmul'])
    assert rep['environment']['torch'] and rep['environment']['cpu_count'] >= 1
    assert (tmp_path / 'out' / 'bench.md').exists()

def test_gpu_profile_smoke(tmp_path):
    "The profile stage alone on the CPU (about a minute): sections timed for fastai as it was and for `gpu_speedups`, forced on"
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore', 'OUT': str(tmp_path / 'out'), 'CLOTHEMBED_CACHE': str(tmp_path / 'cache')}
    r = subprocess.run([sys.executable, str(ROOT / 'benchmarks/gpu/run.py'), '--smoke', '--stages', 'profile', '--work', str(tmp_path / 'work')],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    p = json.loads((tmp_path / 'out' / 'gpu_bench.json').read_text())['stages']['profile']
    assert p['status'] == 'done', p
    v = p['variants']
    assert v['fastai_as_before']['optimiser'] == 'Optimizer' and v['gpu_speedups']['optimiser'] == 'ForeachOptimizer'
    assert v['gpu_speedups']['loaders']['train']['workers'] > 0 and v['fastai_as_before']['loaders']['train']['workers'] == 0
    for x in v.values():
        assert set(x['attributed']['ms_per_batch']) == set(p['sections']) and x['free_running']['images_per_s'] > 0
    assert v['gpu_speedups']['torch_profiler_top'] and p['speedup_free_running'] > 0
    lines = [json.loads(l) for l in (tmp_path / 'out' / 'stages.jsonl').read_text().splitlines()]
    assert [l['stage'] for l in lines] == ['profile']
