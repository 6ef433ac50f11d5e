"clothembed-search on a small synthetic catalogue: index, query (table, --json, --html, folders), re-index after changes, bad input"
import json, shutil
import numpy as np
import pytest
from PIL import Image
from cli_helpers import run_python

SEARCH = 'from clothembed.search import search_cli; search_cli()'
TINY = dict(synth_designs=30, synth_photos=2, size=32, epochs=1, bs=8, extra_designs=0)

@pytest.fixture(scope='module')
def work(tmp_path_factory):
    d = tmp_path_factory.mktemp('search')
    with pytest.MonkeyPatch.context() as mp:                                        # the module's own cache, restored after it
        mp.setenv('CLOTHEMBED_CACHE', str(d / 'cache'))
        from clothembed.search import default_checkpoint
        from clothembed.synth import default_data
        said = []
        ck = default_checkpoint(quiet=True, log=said.append, **TINY)       # the default model's path, at a tiny size
        assert len(said) == 1 and 'training the default model' in said[0] and ck.exists()
        assert default_checkpoint(log=said.append, **TINY) == ck and len(said) == 1      # trained once, then reused
        data = default_data(TINY['synth_designs'], TINY['synth_photos'])
        cat = d / 'catalogue'; shutil.copytree(data / 'simplicity', cat)                  # a copy the tests may change
        yield dict(d=d, ck=ck, cat=cat, photos=sorted((data / 'simplicity' / 'validation').glob('*/photos/*.jpg')))

def run(*args, cwd): return run_python(SEARCH, *args, cwd=cwd)

def cli_error(*args) -> str:
    "Run the CLI in this process; the one-line message it ends with"
    from clothembed.search import search_cli
    with pytest.raises(SystemExit) as e: search_cli([str(a) for a in args])
    msg = str(e.value); assert '\n' not in msg and 'Traceback' not in msg
    return msg

def test_index_and_query(work):
    d, ix = work['d'], work['d'] / 'ix'
    r = run('index', work['cat'], '--out', ix, '--ckpt', work['ck'], cwd=d)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'of 30 patterns from 30 files' in r.stdout and 'embedded 30 new or changed files' in r.stdout, r.stdout
    rec = json.loads((ix / 'records.json').read_text())
    assert rec['count'] == len(rec['figures']) and rec['model']['path'] == str(work['ck'])
    assert {'pattern', 'sheet', 'box', 'view'} <= set(rec['figures'][0])
    photos = work['photos'][:3]
    r = run('query', *photos, '--index', ix, '-k', 5, '--json', '--html', d / 'results.html', cwd=d)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(r.stdout)
    assert [q['query'] for q in res] == [str(p) for p in photos]
    for q in res:
        assert [x['rank'] for x in q['results']] == [1, 2, 3, 4, 5]
        assert len({x['pattern'] for x in q['results']}) == 5                    # best figure per pattern: no pattern twice
        s = [x['score'] for x in q['results']]; assert s == sorted(s, reverse=True) and -1 <= s[-1] <= s[0] <= 1
    page = (d / 'results.html').read_text()
    assert page.count('<img') == 3 + 15 and all(p.name in page for p in photos)
    r = run('query', photos[0].parent, '--index', ix, '--k', 2, cwd=d)              # a folder, the table
    assert r.returncode == 0, r.stderr[-2000:]
    lines = r.stdout.splitlines()
    assert lines[1].split() == ['rank', 'pattern', 'view', 'score', 'sheet'] and len(lines) == 2 * (2 + 2)

def test_own_figure_finds_its_pattern(work, tmp_path):
    "A figure cut from a sheet, searched with the model that indexed it (a Siamese one: the same encoder both ways), finds its pattern first"
    from clothembed.models import create_model
    from clothembed.checkpoint import save_checkpoint, make_meta
    from clothembed.search import build_index, SearchIndex, Searcher
    ck = tmp_path / 'siamese.safetensors'
    save_checkpoint(ck, create_model('siamese'), make_meta(dict(model_type='siamese', encoder='lite0',
                                                      dim=256, dset_mode='natural_image', dataset_name='simplicity', size=32)))
    build_index(work['cat'], tmp_path / 'ix', ck, progress=False)
    ix = SearchIndex(tmp_path / 'ix')
    for i in (0, len(ix) // 2, len(ix) - 1):
        ix.figure_image(i).save(tmp_path / f"fig{i}.png")
        top = Searcher(ix).query([tmp_path / f"fig{i}.png"], 3)[0]['results'][0]
        assert top['pattern'] == ix.record(i)['pattern'] and top['score'] > 0.99, (top, ix.record(i))

def test_reindex_add_change_delete(work, tmp_path):
    from clothembed.search import build_index, SearchIndex
    cat = tmp_path / 'cat'; shutil.copytree(work['cat'], cat)
    ix, fresh = tmp_path / 'ix', tmp_path / 'fresh'
    build_index(cat, ix, work['ck'], progress=False)
    before = SearchIndex(ix)
    pats = sorted(p for p in (cat / 'train').iterdir())
    shutil.copytree(pats[0], cat / 'train' / 'added1')                                   # add
    sheet = pats[1] / 'line_drawings' / 'sheet.png'                                       # change
    Image.open(sheet).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(sheet)
    shutil.rmtree(pats[2])                                                                # delete
    out = []
    s = build_index(cat, ix, progress=False, log=out.append)                              # the index's own model
    assert (s['embedded'], s['kept'], s['dropped'], s['files']) == (2, 28, 1, 30), s
    after = SearchIndex(ix)
    assert pats[2].name not in after.patterns and 'added1' in after.patterns
    keep = [i for i in range(len(before)) if before.record(i)['pattern'] not in (pats[1].name, pats[2].name)]
    rows = {(r['sheet'], r['view']): i for i in range(len(after)) for r in [after.record(i)]}
    for i in keep:                                                                        # kept figures: the very same vectors
        r = before.record(i)
        np.testing.assert_array_equal(before.X[i], after.X[rows[(r['sheet'], r['view'])]])
    build_index(cat, fresh, work['ck'], progress=False)                                   # = an index made from scratch
    a, b = json.loads((ix / 'records.json').read_text()), json.loads((fresh / 'records.json').read_text())
    assert a['figures'] == b['figures'] and a['files'] == b['files']
    np.testing.assert_allclose(np.asarray(after.X, np.float32), np.asarray(SearchIndex(fresh).X, np.float32), atol=2e-3)
    assert build_index(cat, ix, progress=False)['unchanged']
    assert len(list(ix.glob('embeddings-*.npy'))) == 1                                    # older arrays removed

def test_reverse_direction(work, tmp_path):
    "An index of photos, searched with a line drawing"
    from clothembed.search import build_index, Searcher
    s = build_index(work['cat'] / 'validation', tmp_path / 'ix', work['ck'], domain='photos', progress=False)
    assert s['figures'] == 6 * 2 and s['patterns'] == 6
    sheet = next((work['cat'] / 'validation').glob('*/line_drawings/sheet.png'))
    res = Searcher(tmp_path / 'ix').query([sheet], 3)[0]['results']
    assert len(res) == 3 and all(r['sheet'].split('/')[1] == 'photos' for r in res)

def test_bad_catalogues(work, tmp_path):
    from clothembed.search import build_index
    (tmp_path / 'empty').mkdir()
    assert cli_error('index', tmp_path / 'empty', '--out', tmp_path / 'never', '--ckpt', work['ck']) == \
        f"clothembed-search index: error: {tmp_path / 'empty'}: no line drawings found (.jpg, .jpeg, .png, .bmp, .webp, .tif, .tiff)"
    assert not (tmp_path / 'never').exists()
    assert 'catalogue folder not found' in cli_error('index', tmp_path / 'nothing', '--out', tmp_path / 'never', '--ckpt', work['ck'])
    assert 'ckpt/nope.safetensors: checkpoint not found' in cli_error('index', work['cat'], '--out', tmp_path / 'never', '--run-id', 'nope')
    assert not (tmp_path / 'never').exists()
    cat = tmp_path / 'cat'; shutil.copytree(work['cat'] / 'validation', cat)
    ix = tmp_path / 'ix'; build_index(cat, ix, work['ck'], progress=False)
    before = {p.name: p.read_bytes() for p in ix.iterdir()}
    bad = sorted(cat.glob('*/line_drawings/sheet.png'))[2]
    bad.write_bytes(b'not a picture at all')                                              # unreadable sheet
    msg = cli_error('index', cat, '--out', ix)
    assert msg.startswith(f"clothembed-search index: error: {bad}: cannot read image"), msg
    assert {p.name: p.read_bytes() for p in ix.iterdir()} == before                       # the index is untouched
    Image.new('RGB', (64, 64), 'white').save(bad)                                         # a blank sheet
    assert f"{bad}: no figure found on this sheet" in cli_error('index', cat, '--out', ix)
    s = build_index(cat, ix, skip_bad=True, progress=False, log=lambda m: None)           # skipped, said so; the rest indexed
    assert s['files'] == 5 and len(s['skipped']) == 1 and bad.parent.parent.name not in json.dumps(json.loads((ix / 'records.json').read_text())['files'])

def test_bad_index(work, tmp_path):
    from clothembed.search import build_index, SearchIndex
    from clothembed.models import create_model
    from clothembed.checkpoint import save_checkpoint, make_meta
    ix = tmp_path / 'ix'; build_index(work['cat'] / 'validation', ix, work['ck'], progress=False)
    photo = work['photos'][0]
    other = tmp_path / 'other.safetensors'
    save_checkpoint(other, create_model('dual', pretrained=False), make_meta(dict(model_type='dual', encoder='lite0',
                                                                        dim=256, dset_mode='natural_image', dataset_name='simplicity', size=32)))
    msg = cli_error('query', photo, '--index', ix, '--ckpt', other)                     # made with another model
    assert msg.startswith(f"clothembed-search query: error: {ix / 'records.json'}: this index was made with the model {work['ck']}"), msg
    assert 'or --rebuild' in cli_error('index', work['cat'] / 'validation', '--out', ix, '--ckpt', other)
    (tmp_path / 'notes.txt').write_text('hi')
    assert f"{tmp_path / 'notes.txt'}: cannot read image" in cli_error('query', tmp_path / 'notes.txt', '--index', ix)
    assert f"{tmp_path / 'gone.jpg'}: file not found" in cli_error('query', tmp_path / 'gone.jpg', '--index', ix)
    rec = json.loads((ix / 'records.json').read_text()); npy = ix / rec['embeddings']['file']
    keep = npy.read_bytes()
    np.save(npy, np.zeros((3, 256), np.float16))                                         # files disagree: another array
    assert f"{npy}: does not match records.json" in cli_error('query', photo, '--index', ix)
    npy.write_bytes(keep); SearchIndex(ix)
    r2 = dict(rec, figures=rec['figures'][:-1]); (ix / 'records.json').write_text(json.dumps(r2))     # one figure fewer
    assert f"{ix / 'records.json'}: lists {rec['count'] - 1} figures but its count says {rec['count']}" in cli_error('query', photo, '--index', ix)
    r3 = dict(rec, figures=rec['figures'][:-1], count=rec['count'] - 1); (ix / 'records.json').write_text(json.dumps(r3))
    assert f"{npy}: holds an array of shape ({rec['count']}, 256), but records.json lists {rec['count'] - 1} figures" in cli_error('query', photo, '--index', ix)
    (ix / 'records.json').write_text('{"format": "clothembed-search-index", "vers')
    assert f"{ix / 'records.json'}: not valid JSON" in cli_error('query', photo, '--index', ix)
    (ix / 'records.json').write_text(json.dumps(rec)); npy.unlink()
    assert f"{npy}: missing" in cli_error('query', photo, '--index', ix)

def test_crash_leaves_old_index(work, tmp_path, monkeypatch):
    "A crash while writing leaves the old index whole; the next run clears what the crash left"
    import clothembed.search as S
    cat = tmp_path / 'cat'; shutil.copytree(work['cat'] / 'validation', cat)
    ix = tmp_path / 'ix'; S.build_index(cat, ix, work['ck'], progress=False)
    rec = (ix / 'records.json').read_bytes()
    shutil.copytree(next(cat.iterdir()), cat / 'added1')
    def crash(*a, **k): raise RuntimeError('power cut')
    monkeypatch.setattr(S, 'write_json', crash)
    with pytest.raises(RuntimeError): S.build_index(cat, ix, progress=False)
    assert (ix / 'records.json').read_bytes() == rec and len(S.SearchIndex(ix)) == json.loads(rec)['count']
    monkeypatch.undo()
    assert S.build_index(cat, ix, progress=False)['embedded'] == 1
    assert len(list(ix.glob('embeddings-*.npy'))) == 1 and not list(ix.glob('.*'))
