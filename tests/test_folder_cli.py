"A plain folder of photos embedded in a DeepFashion2 mode from the command line: the garment is estimated from each photo"
import json
import numpy as np
from cli_helpers import run_python

PREDICT = 'from clothembed.predict import predict_cli; predict_cli()'

run = run_python

def test_folder_masked_embedding(tmp_path, monkeypatch):
    monkeypatch.setenv('CLOTHEMBED_CACHE', str(tmp_path / 'cache'))
    from clothembed.synth import write_dataset
    from clothembed.models import create_model
    from clothembed.checkpoint import save_checkpoint, make_meta, ckpt_path
    data = write_dataset(tmp_path / 'data', n_designs=5, photos_per_design=2, size=64, progress=False)
    photos = data / 'deepfashion2' / 'train' / 'image'                       # a flat folder of photos, no annotation used
    m = create_model('siamese', 'lite0', 32, pretrained=False)
    run_cfg = dict(model_type='siamese', encoder='lite0', dim=32, size=32, dataset_name='deepfashion', dset_mode='color_mask_crop')
    save_checkpoint(ckpt_path('m', tmp_path / 'ckpt'), m, make_meta(run_cfg, epoch=1))
    r = run(PREDICT, 'gen_embedding', '--run_id', 'm', '--dataset_name', 'folder', '--data_root', photos, '--dset_mode', 'color_mask_crop',
            '--analysis_tag', 'mine', cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    X = np.load(tmp_path / 'preds' / 'm_mine_validation_embedding.npy')
    info = json.loads((tmp_path / 'preds' / 'm_mine_validation_embedding.json').read_text())
    assert X.shape == (8, 32) and info['meta']['dset_mode'] == 'color_mask_crop' and info['ids'][0] == '000001.jpg'
    r = run(PREDICT, 'gen_embedding', '--run_id', 'm', '--dataset_name', 'folder', '--data_root', photos, '--dset_mode', 'sketch', cwd=tmp_path)
    assert r.returncode != 0 and 'not supported by folder' in r.stderr
