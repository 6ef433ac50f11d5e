"clothembed-convert on small files in the original's formats: a .pth checkpoint becomes one that clothembed-predict embeds with, a JSON embedding and a duplicates file become ours"
import json
import numpy as np
import pytest
torch = pytest.importorskip('torch')
import torch.nn as nn, torchvision
from cli_helpers import run_python, synthetic_workdir

CONVERT = 'from clothembed.convert import convert_cli; convert_cli()'
PREDICT = 'from clothembed.predict import predict_cli; predict_cli()'

run = run_python

@pytest.fixture(scope='module')
def work(tmp_path_factory):
    with synthetic_workdir(tmp_path_factory.mktemp('convert'), 6, 2, 48) as d: yield d

def original_checkpoint(path, dim=8):
    "The original's train.py checkpoint of its Siamese model, with a ResNet-18 in place of ResNeXt-50 to stay small"
    torch.manual_seed(0)
    m = nn.Module(); m.encoder = torchvision.models.resnet18(weights=None); m.encoder.fc = nn.Linear(512, dim)
    dp = nn.DataParallel(m); opt = torch.optim.SGD(dp.parameters(), lr=0.01, momentum=0.9)
    torch.save(dict(epoch=2, it=50, model_state_dict=dp.state_dict(), optimizer_state_dict=opt.state_dict(),
                    dset_mode='color_mask_crop', dataset_name='deepfashion', model_type='siamese'), path)

def test_checkpoint_converts_and_embeds(work):
    (work / 'ckpt').mkdir(exist_ok=True); original_checkpoint(work / 'ckpt' / 'old.pth')
    r = run(CONVERT, 'ckpt/old.pth', cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    meta = json.loads((work / 'ckpt' / 'old.json').read_text())
    assert (meta['model_type'], meta['encoder'], meta['dim'], meta['size'], meta['dset_mode']) == ('siamese', 'resnet18', 8, 224, 'color_mask_crop')
    r = run(PREDICT, 'gen_embedding', '--run_id', 'old', '--data_root', work / 'data', '--bs', '4', cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    X = np.load(work / 'preds' / 'old_validation_embedding.npy')
    assert X.shape[1] == 8 and np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-4)

def test_refuses_what_is_not_a_state_dict(work):
    import argparse
    torch.save({'model_state_dict': argparse.Namespace(a=1)}, work / 'odd.pth')   # an object torch's safe loader does not allow
    r = run(CONVERT, 'odd.pth', cwd=work)
    assert r.returncode != 0 and 'odd.pth: not a plain state dict, refused' in r.stderr and 'Traceback' not in r.stderr
    torch.save({'weight': torch.zeros(3)}, work / 'plain.pth')
    r = run(CONVERT, 'plain.pth', cwd=work)
    assert r.returncode != 0 and 'plain.pth: no encoder weights' in r.stderr

def test_embedding_and_duplicates(work):
    emb = {f"{i:06d}_item1": [float(i), 1.0, 0.0] for i in (2, 1, 3, 4)}
    (work / 'old').mkdir(exist_ok=True)
    (work / 'old' / 'run_validation_embedding.json').write_text(json.dumps(emb))
    (work / 'old' / 'groupid_to_itemids_train.json').write_text(json.dumps({'g1': ['000001_item1', '000002_item1'], 'g2': ['000003_item1', '000004_item1']}))
    r = run(CONVERT, 'old/run_validation_embedding.json', '--groups', 'old/groupid_to_itemids_train.json', cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    info = json.loads((work / 'preds' / 'run_validation_embedding.json').read_text())
    assert info['ids'] == sorted(emb) and info['groups'] == ['g1', 'g1', 'g2', 'g2']
    r = run(CONVERT, 'old/groupid_to_itemids_train.json', '--df2_root', work / 'data' / 'deepfashion2', cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    from clothembed.data import deepfashion2
    s = deepfashion2(work / 'old' / 'train.json', group_by='pair')
    assert s.ids == sorted(emb) and s.groups == ['1', '1', '2', '2']          # groups g1 and g2 as integer pair ids
    r = run(CONVERT, 'old/run_validation_embedding.json', '--out', 'old', cwd=work)
    assert r.returncode != 0 and 'would replace the input' in r.stderr
