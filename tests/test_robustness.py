"Bad input never escapes as anything but a `DataError`: property tests over the readers, and one test per case of issue 11"
import io, json, os, struct, tempfile, zlib
from pathlib import Path
import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck, strategies as st
from PIL import Image, ImageDraw

from clothembed.core import DataError, write_json
from clothembed.data import load_image, apply_mode, deepfashion2, simplicity

from clothembed.cache import ItemStore
FAST = settings(max_examples=int(os.environ.get('CLOTHEMBED_FUZZ_EXAMPLES', 100)), deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

@pytest.fixture(scope='module')
def cache(tmp_path_factory):
    "A cache folder of this module's own, as `$CLOTHEMBED_CACHE` until the module ends"
    d = tmp_path_factory.mktemp('cache')
    with pytest.MonkeyPatch.context() as mp: mp.setenv('CLOTHEMBED_CACHE', str(d)); yield d

def no_tmp(*folders):
    "Temporary files or lock files left anywhere under `folders`"
    return [p for f in folders for p in Path(f).rglob('*') if '.tmp' in p.name or p.suffix == '.lock']

# ---------- inputs

def _jpeg(w=96, h=96, colour=(200, 80, 40)):
    b = io.BytesIO(); Image.new('RGB', (w, h), colour).save(b, 'JPEG'); return b.getvalue()

def _png_header(w, h):
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
            + chunk(b'IDAT', zlib.compress(b'\0' * 64)) + chunk(b'IEND', b''))

GOOD_ITEM = dict(category_id=1, category_name='short sleeve top', style=1, bounding_box=[10, 10, 80, 90],
                 segmentation=[[10, 10, 80, 10, 80, 90, 10, 90]], landmarks=[], scale=1)
GOOD_ANNO = dict(source='user', pair_id=1, item1=GOOD_ITEM, item2={**GOOD_ITEM, 'category_name': 'skirt'})

def df2_tree(root:Path, n=3):
    "A DeepFashion2 split with `n` images of one garment"
    (root / 'train/annos').mkdir(parents=True); (root / 'train/image').mkdir()
    for i in range(1, n + 1):
        (root / f'train/image/{i:06d}.jpg').write_bytes(_jpeg())
        write_json(GOOD_ANNO, root / f'train/annos/{i:06d}.json')
    return root

def coco_obj(n=2):
    return dict(images=[dict(id=i, file_name=f'{i:06d}.jpg') for i in range(1, n + 1)], categories=[dict(id=1, name='top')],
                annotations=[dict(id=i, image_id=i, category_id=1, pair_id=1, style=1, bbox=[10, 10, 70, 80],
                                  segmentation=[[10, 10, 80, 10, 80, 90]]) for i in range(1, n + 1)])

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
json_values = st.recursive(json_scalars, lambda c: st.one_of(st.lists(c, max_size=6), st.dictionaries(st.text(max_size=8), c, max_size=6)),
                           max_leaves=25)

@st.composite
def mutated(draw, base):
    "`base` with a few fields (at any depth) replaced by random JSON, deleted, or given extra keys"
    obj = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        path, node = [], obj
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            k = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
            path.append(k); node = node[k]
        if not path: obj = draw(json_values) if draw(st.integers(0, 9)) == 0 else obj; continue
        parent = obj
        for k in path[:-1]: parent = parent[k]
        if draw(st.booleans()): parent[path[-1]] = draw(json_values)
        elif isinstance(parent, dict): del parent[path[-1]]
        else: parent[path[-1]] = draw(json_scalars)
    return obj

def only_data_errors(f, *a, **kw):
    "Call f; a DataError is fine, anything else escapes to fail the test"
    try: return f(*a, **kw)
    except DataError: return None

def _dump(obj): return json.dumps(obj, allow_nan=True)

# ---------- property tests: nothing but DataError escapes

@FAST
@given(anno=st.one_of(mutated(GOOD_ANNO), json_values), skip=st.booleans(), mode=st.sampled_from(['color_mask_crop', 'color_crop', 'grayscale_mask']),
       group_by=st.sampled_from(['pair_style', 'pair']))
def test_annotation_reader_only_data_errors(cache, anno, skip, mode, group_by):
    with tempfile.TemporaryDirectory() as d:
        root = df2_tree(Path(d) / 'df2'); (root / 'train/annos/000001.json').write_text(_dump(anno))
        ds = only_data_errors(deepfashion2, root, 'train', mode, group_by=group_by, skip_bad=skip)
        if ds is not None:
            for i in range(len(ds)): only_data_errors(ds.image, i)
            if skip: assert len(ds.skipped) <= 1

@FAST
@given(coco=st.one_of(mutated(coco_obj()), json_values), skip=st.booleans(), min_items=st.sampled_from([1, 2]))
def test_coco_reader_only_data_errors(cache, coco, skip, min_items):
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); (d / '000001.jpg').write_bytes(_jpeg()); (d / '000002.jpg').write_bytes(_jpeg())
        (d / 'coco.json').write_text(_dump(coco))
        ds = only_data_errors(deepfashion2, d / 'coco.json', mode='grayscale_mask', min_items=min_items, skip_bad=skip)
        if ds is not None:
            for i in range(len(ds)): only_data_errors(ds.image, i)

ORIG = dict(other_images=[['a.jpg', 'x'], ['b.jpg']], line_image=['sheet.png', 'y'])

@FAST
@given(pattern=st.one_of(mutated(ORIG), json_values), boxes=st.one_of(mutated([[5, 5, 40, 60], [45, 5, 60, 60]]), json_values),
       skip=st.booleans(), mode=st.sampled_from(['natural_image', 'line_drawing']), views=st.sampled_from(['principal', 'all']))
def test_sheet_readers_only_data_errors(cache, pattern, boxes, skip, mode, views):
    "The original Simplicity layout: a mutated pattern file and detections file"
    with tempfile.TemporaryDirectory() as d:
        r = Path(d)
        for sub in ('pattern_images', 'pattern_clean_data', 'line_drawing_detections'): (r / sub).mkdir()
        for n in ('a.jpg', 'b.jpg'): (r / 'pattern_images' / n).write_bytes(_jpeg(64, 64))
        Image.new('RGB', (64, 64), 'white').save(r / 'pattern_images/sheet.png')
        (r / 'pattern_clean_data/p1.json').write_text(_dump(pattern)); (r / 'line_drawing_detections/p1.json').write_text(_dump(boxes))
        ds = only_data_errors(simplicity, r, mode, views=views, skip_bad=skip)
        if ds is not None:
            for i in range(len(ds)): only_data_errors(ds.image, i)

@st.composite
def image_bytes(draw):
    kind = draw(st.sampled_from(['random', 'flip', 'truncate', 'header']))
    if kind == 'random': return draw(st.binary(max_size=300))
    if kind == 'header': return _png_header(draw(st.integers(0, 2**31 - 1)), draw(st.integers(0, 2**31 - 1)))
    b = bytearray(draw(st.sampled_from([_jpeg(32, 24), _png_header(16, 16)])) if draw(st.booleans()) else _good_png())
    if kind == 'truncate': return bytes(b[:draw(st.integers(0, len(b)))])
    for _ in range(draw(st.integers(1, 8))): b[draw(st.integers(0, len(b) - 1))] = draw(st.integers(0, 255))
    return bytes(b)

def _good_png():
    b = io.BytesIO(); Image.new('RGB', (20, 12), 'blue').save(b, 'PNG'); return b.getvalue()

@FAST
@given(data=image_bytes(), ext=st.sampled_from(['.jpg', '.png', '.bmp', '.tif', '.webp', '.gif']))
def test_image_reader_only_data_errors(data, ext):
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f'x{ext}'; p.write_bytes(data)
        im = only_data_errors(load_image, p)
        if im is not None: assert im.mode == 'RGB'

@FAST
@given(sheet=st.one_of(image_bytes(), st.just('blank'), st.just('figures')), skip=st.booleans(),
       mode=st.sampled_from(['natural_image', 'line_drawing']), views=st.sampled_from(['principal', 'all']))
def test_plain_sheet_layout_only_data_errors(cache, sheet, skip, mode, views):
    "The plain Simplicity layout (`<pattern>/photos`, `<pattern>/line_drawings`): any bytes as the sheet, whose figures are found by the detector"
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / 'plain/p1'; (p / 'photos').mkdir(parents=True); (p / 'line_drawings').mkdir()
        (p / 'photos/a.jpg').write_bytes(_jpeg(64, 64))
        if sheet in ('blank', 'figures'):
            s = Image.new('RGB', (120, 80), 'white')
            if sheet == 'figures':
                for b in ([10, 10, 40, 70], [70, 10, 100, 70]): ImageDraw.Draw(s).rectangle(b, outline='black', width=3)
            s.save(p / 'line_drawings/sheet.png')
        else: (p / 'line_drawings/sheet.png').write_bytes(sheet)
        ds = only_data_errors(simplicity, p.parent, mode, views=views, skip_bad=skip)
        if ds is not None:
            for i in range(len(ds)): only_data_errors(ds.image, i)
        assert not no_tmp(d, cache)

coord = st.one_of(st.integers(-200, 300), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=2), st.none())
@FAST
@given(bbox=st.one_of(st.lists(coord, max_size=5), json_values), seg=st.one_of(st.lists(st.lists(coord, max_size=10), max_size=3), json_values),
       mode=st.sampled_from(['color_mask_crop', 'color_crop', 'grayscale_mask', 'line_drawing', 'natural_image']),
       w=st.integers(1, 120), h=st.integers(1, 120))
def test_boxes_and_polygons_only_data_errors(bbox, seg, mode, w, h):
    im = Image.new('RGB', (w, h), 'red')
    out = only_data_errors(apply_mode, im, dict(id='i', path='x.jpg', bbox=bbox, segmentation=seg), mode)
    if out is not None: assert out.size[0] > 0 and out.size[1] > 0

# ---------- one test per case of the issue

@pytest.mark.parametrize('text,msg', [
    ('[1, 2]', '000001.json: expected a JSON object'),
    (json.dumps({**GOOD_ANNO, 'item1': 'x'}), '000001.json: item1: expected an object'),
    (json.dumps({**GOOD_ANNO, 'item1': {**GOOD_ITEM, 'style': '1'}}), "000001.json: item1: style must be an integer, found '1'"),
    (json.dumps({**GOOD_ANNO, 'item1': {k: v for k, v in GOOD_ITEM.items() if k != 'bounding_box'}}), '000001.json: item1: no bounding_box'),
    (json.dumps({**GOOD_ANNO, 'item1': {**GOOD_ITEM, 'segmentation': [10, 10, 80, 10, 80, 90]}}), '000001.json: item1: segmentation must be a list of polygons'),
    (json.dumps({**GOOD_ANNO, 'item1': {**GOOD_ITEM, 'segmentation': [['a', 'b', 1, 2, 3, 4]]}}), '000001.json: item1: segmentation polygon 0 has a coordinate that is not a finite number'),
])
def test_annotation_shapes(cache, tmp_path, text, msg):
    root = df2_tree(tmp_path / 'df2'); (root / 'train/annos/000001.json').write_text(text)
    with pytest.raises(DataError, match=None) as e: deepfashion2(root, 'train')
    assert msg in str(e.value), str(e.value)
    ds = deepfashion2(root, 'train', skip_bad=True)
    assert len(ds.skipped) == 1 and msg in ds.skipped[0] and len(ds) == 4

@pytest.mark.parametrize('field', ['bbox', 'image_id', 'category_id'])
def test_coco_missing_fields(cache, tmp_path, field):
    c = coco_obj(3); del c['annotations'][1][field]; write_json(c, tmp_path / 'coco.json')
    with pytest.raises(DataError) as e: deepfashion2(tmp_path / 'coco.json', min_items=1)
    assert f'coco.json: annotations[1]: no {field}' in str(e.value)
    ds = deepfashion2(tmp_path / 'coco.json', min_items=1, skip_bad=True)
    assert len(ds) == 2 and len(ds.skipped) == 1

def test_inverted_and_outside_boxes_name_the_file(cache, tmp_path):
    im = Image.new('RGB', (100, 80))
    for b, msg in [([60, 20, 20, 50], 'is inverted'), ([200, 20, 260, 50], 'lies outside the 100x80 image')]:
        with pytest.raises(DataError) as e: apply_mode(im, dict(id='000001_item1', path='/d/000001.jpg', bbox=b), 'color_crop')
        assert str(e.value).startswith('/d/000001.jpg: item 000001_item1: bounding box') and msg in str(e.value)
    root = df2_tree(tmp_path / 'df2')   # an inverted box in a file: found by the reader
    write_json({**GOOD_ANNO, 'item2': {**GOOD_ITEM, 'bounding_box': [80, 10, 10, 90]}}, root / 'train/annos/000002.json')
    with pytest.raises(DataError, match=r'000002.json: item2: bounding_box \[80, 10, 10, 90\] is inverted'): deepfashion2(root, 'train')

def test_polygon_outside_image_is_an_error_not_black(cache):
    im = Image.new('RGB', (100, 80), 'white')
    it = dict(id='a_item1', path='/d/a.jpg', bbox=[10, 10, 50, 50], segmentation=[[150, 100, 190, 100, 190, 150]])
    for mode in ('color_mask_crop', 'grayscale_mask'):
        with pytest.raises(DataError, match='/d/a.jpg: item a_item1: segmentation lies outside'): apply_mode(im, it, mode)

def test_pixel_bomb(tmp_path):
    (tmp_path / 'bomb.png').write_bytes(_png_header(60_000, 60_000))
    with pytest.raises(DataError, match='bomb.png: image too large'): load_image(tmp_path / 'bomb.png')
    old = Image.MAX_IMAGE_PIXELS; Image.MAX_IMAGE_PIXELS = 100
    try:
        Image.new('RGB', (12, 12)).save(tmp_path / 'big.png')   # over the limit, under twice it: Pillow only warns
        with pytest.raises(DataError, match=r'big.png: image too large \(12x12 pixels'): load_image(tmp_path / 'big.png')
    finally: Image.MAX_IMAGE_PIXELS = old

def test_replaced_image_is_not_served_stale(cache, tmp_path):
    root = df2_tree(tmp_path / 'df2'); ds = deepfashion2(root, 'train', 'color_crop')
    a = np.asarray(ItemStore(ds, 16, cache=tmp_path / 'items').arr).copy()
    (root / 'train/image/000002.jpg').write_bytes(_jpeg(colour=(10, 200, 10)))
    b = np.asarray(ItemStore(ds, 16, cache=tmp_path / 'items').arr)
    rows = [i for i, it in enumerate(ds.items) if it['id'].startswith('000002')]
    assert not np.array_equal(a[rows], b[rows]) and np.array_equal(np.delete(a, rows, 0), np.delete(b, rows, 0))
    assert b[rows[0], 1].mean() > 150                                     # the new, green pixels
    assert len(list((tmp_path / 'items').glob('*.npy'))) == 1 and not no_tmp(tmp_path / 'items')

def test_redrawn_sheet_is_detected_again(cache, tmp_path):
    p = tmp_path / 'sp/p1'; (p / 'photos').mkdir(parents=True); (p / 'line_drawings').mkdir()
    Image.new('RGB', (64, 64)).save(p / 'photos/a.jpg')
    def sheet(boxes):
        s = Image.new('RGB', (120, 80), 'white'); d = ImageDraw.Draw(s)
        for b in boxes: d.rectangle(b, outline='black', width=3)
        s.save(p / 'line_drawings/sheet.png')
    sheet([[10, 10, 40, 70]]); assert len(simplicity(p.parent, 'line_drawing', views='all')) == 1
    sheet([[10, 10, 40, 70], [70, 10, 100, 70]]); assert len(simplicity(p.parent, 'line_drawing', views='all')) == 2

def test_edited_annotation_with_older_mtime(cache, tmp_path):
    root = df2_tree(tmp_path / 'df2'); f = root / 'train/annos/000001.json'
    assert {it['category'] for it in deepfashion2(root, 'train').items if it['id'] == '000001_item1'} == {'short sleeve top'}
    t = f.stat().st_mtime_ns
    write_json({**GOOD_ANNO, 'item1': {**GOOD_ITEM, 'category_name': 'long sleeve top'}}, f); os.utime(f, ns=(t - 10**10, t - 10**10))
    assert {it['category'] for it in deepfashion2(root, 'train').items if it['id'] == '000001_item1'} == {'long sleeve top'}

def test_lenient_index_not_reused_by_strict_run(cache, tmp_path):
    root = df2_tree(tmp_path / 'df2', 4); (root / 'train/annos/000003.json').write_text('{"item1": 3}')
    assert len(deepfashion2(root, 'train', skip_bad=True)) == 6
    with pytest.raises(DataError, match='000003.json: item1: expected an object'): deepfashion2(root, 'train')

def test_lenient_empty_sheet_not_reused_by_strict_run(cache, tmp_path):
    p = tmp_path / 'sp/p1'; (p / 'photos').mkdir(parents=True); (p / 'line_drawings').mkdir()
    Image.new('RGB', (64, 64)).save(p / 'photos/a.jpg'); Image.new('RGB', (64, 64), 'white').save(p / 'line_drawings/sheet.png')
    assert len(simplicity(p.parent, 'natural_image', skip_bad=True).skipped) == 1
    for mode in ('natural_image', 'line_drawing'):
        with pytest.raises(DataError, match='sheet.png: empty sheet'): simplicity(p.parent, mode)

def test_failed_build_leaves_nothing(cache, tmp_path):
    root = df2_tree(tmp_path / 'df2'); (root / 'train/image/000002.jpg').write_bytes(b'truncated')
    ds = deepfashion2(root, 'train')
    with pytest.raises(DataError, match='000002.jpg: cannot read image'): ItemStore(ds, 16, cache=tmp_path / 'items')
    assert not no_tmp(tmp_path / 'items') and not list((tmp_path / 'items').glob('*.npy'))

def test_zero_size_arguments():
    from clothembed.core import ArgumentError
    from clothembed.train import TrainConfig
    for k in ('size', 'bs'):
        with pytest.raises(ArgumentError, match=f'{k} must be a positive integer'): TrainConfig(**{k: 0})
    with pytest.raises(ArgumentError): ItemStore.__new__(ItemStore).__init__(None, 0)

def test_siamese_checkpoint_with_principal_encoder_2(tmp_path):
    from clothembed.models import create_model
    from clothembed.checkpoint import save_checkpoint, load_model, make_meta
    m = create_model('siamese', 'resnet18', 8, pretrained=False)
    p = save_checkpoint(tmp_path / 'm.safetensors', m, make_meta(dict(model_type='siamese', encoder='resnet18', dim=8), epoch=1, iteration=1))
    with pytest.raises(DataError, match='principal_encoder 2 needs a dual model'): load_model(p, principal_encoder=2)
