"""Fuzz the readers: generated inputs through the DeepFashion2 annotation and COCO readers, the Simplicity sheet readers
(both layouts), the image reader and the box/polygon checks of the modes; counts the exceptions other than `DataError`.

    nice -n 10 python benchmarks/fuzz_readers.py            # 10,000 inputs (target: 0 escaped)
    python benchmarks/fuzz_readers.py --n 200 --seed 1      # a quick smoke run

Each input is read, then every item it yields is turned into pixels (`ItemSet.image`), so a bad box or polygon that the
reader let through is caught too. Prints one line per reader and, for each escaped exception, its type, message and input.
Exit status 1 when anything but `DataError` escaped."""
import argparse, io, json, math, os, random, struct, sys, tempfile, time, traceback, zlib
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

# ---------- generators (seeded: a run is reproducible)

def rand_scalar(r):
    return r.choice([None, True, False, 0, 1, -1, 7, 2**31, -2**63, 10**40, 0.5, -3.25, 1e300, float('nan'), float('inf'), -float('inf'),
                     '', 'a', '1', 'item1', 'NaN', '\0', 'x' * 50, r.randint(-1000, 1000), r.uniform(-1e4, 1e4)])

def rand_json(r, depth=0):
    k = r.random()
    if depth > 3 or k < 0.5: return rand_scalar(r)
    if k < 0.75: return [rand_json(r, depth + 1) for _ in range(r.randint(0, 6))]
    return {r.choice(['item1', 'item2', 'style', 'bbox', 'id', 'a', '', 'segmentation', 'pair_id']): rand_json(r, depth + 1) for _ in range(r.randint(0, 5))}

def mutate(r, obj, n=None):
    "A copy of `obj` with 1-3 fields, at random depths, replaced, deleted or wrapped"
    obj = json.loads(json.dumps(obj))
    for _ in range(n or r.randint(1, 3)):
        path, node = [], obj
        while isinstance(node, (dict, list)) and node and r.random() < 0.7:
            k = r.choice(sorted(node) if isinstance(node, dict) else range(len(node))); path.append(k); node = node[k]
        if not path:
            if r.random() < 0.1: obj = rand_json(r)
            continue
        parent = obj
        for k in path[:-1]: parent = parent[k]
        op = r.random()
        if op < 0.45: parent[path[-1]] = rand_json(r)
        elif op < 0.6 and isinstance(parent, dict): del parent[path[-1]]
        elif op < 0.75: parent[path[-1]] = [parent[path[-1]]]
        elif op < 0.85 and isinstance(parent[path[-1]], list) and parent[path[-1]]: parent[path[-1]] = parent[path[-1]][0]
        else: parent[path[-1]] = rand_scalar(r)
    return obj

def json_text(r, obj):
    t = json.dumps(obj, allow_nan=True)
    if r.random() < 0.05: t = t[:r.randint(0, len(t))]                      # truncated
    if r.random() < 0.03: t = t.encode('utf-8', 'surrogatepass').decode('latin-1')
    return t

def jpeg(w=96, h=96, colour=(200, 80, 40), fmt='JPEG'):
    b = io.BytesIO(); im = Image.new('RGB', (w, h), colour); ImageDraw.Draw(im).rectangle([w // 4, h // 4, w // 2, h // 2], outline='black', width=2)
    im.save(b, fmt); return b.getvalue()

def png_header(w, h):
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(b'\0' * 64)) + chunk(b'IEND', b'')

VALID = None
def valid_images():
    global VALID
    if VALID is None: VALID = [jpeg(40, 30, fmt=f) for f in ('JPEG', 'PNG', 'BMP', 'GIF', 'TIFF', 'WEBP')] + [png_header(16, 16)]
    return VALID

def rand_image(r):
    k = r.random()
    if k < 0.15: return bytes(r.getrandbits(8) for _ in range(r.randint(0, 400)))
    if k < 0.25: return png_header(*(r.choice([0, 1, 16, 3000, 2**16, 2**31 - 1, r.randint(0, 2**12)]) for _ in 'wh'))   # pixel bombs among them
    b = bytearray(r.choice(valid_images()))
    if k < 0.45: return bytes(b[:r.randint(0, len(b))])
    if k < 0.9:
        for _ in range(r.randint(1, 12)): b[r.randrange(len(b))] = r.getrandbits(8)
        return bytes(b)
    return bytes(b)                                                             # valid

# ---------- targets: each builds its input under `d` and reads it, returning the item sets to turn into pixels

ITEM = dict(category_id=1, category_name='short sleeve top', style=1, bounding_box=[10, 10, 80, 90],
            segmentation=[[10, 10, 80, 10, 80, 90, 10, 90]], landmarks=[1, 2, 2], scale=1, occlusion=1)
ANNO = dict(source='user', pair_id=1, item1=ITEM, item2={**ITEM, 'category_name': 'skirt', 'bounding_box': [5, 5, 60, 70]})
COCO = dict(images=[dict(id=i, file_name=f'{i:06d}.jpg', width=96, height=96) for i in (1, 2)], categories=[dict(id=1, name='top')],
            annotations=[dict(id=i, image_id=i, category_id=1, pair_id=1, style=1, bbox=[10, 10, 70, 80], area=5600, iscrowd=0,
                              segmentation=[[10, 10, 80, 10, 80, 90]]) for i in (1, 2)])
ORIG = dict(other_images=[['a.jpg', 'x'], ['b.jpg']], line_image=['sheet.png', 'y'])

def t_annotation(r, d):
    from clothembed.data import deepfashion2
    root = d / 'df2'
    if not root.exists():
        (root / 'train/annos').mkdir(parents=True); (root / 'train/image').mkdir()
        for i in (1, 2, 3): (root / f'train/image/{i:06d}.jpg').write_bytes(jpeg())
    for i in (1, 2, 3): (root / f'train/annos/{i:06d}.json').write_text(json.dumps(ANNO))
    obj = mutate(r, ANNO) if r.random() < 0.85 else rand_json(r)
    (root / f'train/annos/{r.randint(1, 3):06d}.json').write_text(json_text(r, obj))
    return [deepfashion2(root, 'train', r.choice(['color_mask_crop', 'color_crop', 'grayscale_mask']), group_by=r.choice(['pair_style', 'pair']),
                         skip_bad=r.random() < 0.5)], obj

def t_coco(r, d):
    from clothembed.data import deepfashion2
    for i in (1, 2):
        if not (d / f'{i:06d}.jpg').exists(): (d / f'{i:06d}.jpg').write_bytes(jpeg())
    obj = mutate(r, COCO) if r.random() < 0.85 else rand_json(r)
    (d / 'coco.json').write_text(json_text(r, obj))
    return [deepfashion2(d / 'coco.json', mode=r.choice(['color_mask_crop', 'color_crop', 'grayscale_mask']), min_items=r.choice([1, 2]),
                         skip_bad=r.random() < 0.5)], obj

def t_sheet_original(r, d):
    from clothembed.data import simplicity
    root = d / 'orig'
    if not root.exists():
        for s in ('pattern_images', 'pattern_clean_data', 'line_drawing_detections'): (root / s).mkdir(parents=True)
        for n in ('a.jpg', 'b.jpg'): (root / 'pattern_images' / n).write_bytes(jpeg(64, 64))
        (root / 'pattern_images/sheet.png').write_bytes(jpeg(120, 80, (255, 255, 255), 'PNG'))
    k = r.random()   # the pattern file, the detections, or both
    pat = mutate(r, ORIG) if k < 0.6 else ORIG
    boxes = mutate(r, [[5, 5, 40, 60], [45, 5, 60, 60]]) if k > 0.4 else [[5, 5, 40, 60], [45, 5, 60, 60]]
    (root / 'pattern_clean_data/p1.json').write_text(json_text(r, pat)); (root / 'line_drawing_detections/p1.json').write_text(json_text(r, boxes))
    mode = r.choice(['natural_image', 'line_drawing'])
    return [simplicity(root, mode, views=r.choice(['principal', 'all']), skip_bad=r.random() < 0.5)], dict(pattern=pat, boxes=boxes)

def t_sheet_plain(r, d):
    from clothembed.data import simplicity
    root = d / 'plain'; p = root / 'p1'
    if not p.exists():
        (p / 'photos').mkdir(parents=True); (p / 'line_drawings').mkdir(); (p / 'photos/a.jpg').write_bytes(jpeg(64, 64))
    data = rand_image(r) if r.random() < 0.8 else jpeg(120, 80, (255, 255, 255), 'PNG')
    (p / 'line_drawings/sheet.png').write_bytes(data)
    return [simplicity(root, r.choice(['natural_image', 'line_drawing']), skip_bad=r.random() < 0.5)], f'{len(data)} bytes'

def t_image(r, d):
    from clothembed.data import load_image
    data = rand_image(r); f = d / f'x{r.choice([".jpg", ".png", ".bmp", ".gif", ".tif", ".webp"])}'; f.write_bytes(data)
    load_image(f); return [], f'{len(data)} bytes: {data[:24]!r}'

def t_boxes(r, d):
    from clothembed.data import apply_mode
    im = Image.new('RGB', (r.randint(1, 120), r.randint(1, 120)), 'red')
    it = dict(id='x_item1', path='x.jpg', bbox=mutate(r, [10, 10, 50, 60]) if r.random() < 0.7 else rand_json(r),
              segmentation=mutate(r, [[10, 10, 50, 10, 50, 60, 10, 60]]) if r.random() < 0.7 else rand_json(r))
    out = apply_mode(im, it, r.choice(['color_mask_crop', 'color_crop', 'grayscale_mask', 'line_drawing', 'natural_image']))
    assert out.size[0] > 0 and out.size[1] > 0, f'empty image {out.size}'
    return [], it

TARGETS = dict(annotation=(t_annotation, 0.25), coco=(t_coco, 0.20), sheet_original=(t_sheet_original, 0.10),
               sheet_plain=(t_sheet_plain, 0.10), image=(t_image, 0.20), boxes=(t_boxes, 0.15))

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=10_000, help='inputs in all')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--show', type=int, default=5, help='escaped exceptions to print per reader')
    a = ap.parse_args()
    os.environ.setdefault('PYTHONWARNINGS', 'ignore')
    import warnings; warnings.simplefilter('ignore')
    from clothembed.core import DataError
    r = random.Random(a.seed); t0 = time.time()
    stats = {k: Counter() for k in TARGETS}; shown = Counter(); escaped = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ['CLOTHEMBED_CACHE'] = str(Path(tmp) / 'cache')
        dirs = {k: Path(tmp) / k for k in TARGETS}
        for p in dirs.values(): p.mkdir()
        names = list(TARGETS); weights = [TARGETS[k][1] for k in names]
        for i in range(a.n):
            name = r.choices(names, weights)[0]; f = TARGETS[name][0]; what = None
            try:
                sets, what = f(r, dirs[name])
                for s in sets:
                    for j in range(len(s)):
                        try: s.image(j)
                        except DataError: stats[name]['item DataError'] += 1
                stats[name]['ok'] += 1
            except DataError: stats[name]['DataError'] += 1
            except Exception as e:
                stats[name]['escaped'] += 1; escaped.append((name, type(e).__name__))
                if shown[name] < a.show:
                    shown[name] += 1
                    print(f"ESCAPED {name} #{i}: {type(e).__name__}: {str(e)[:200]}\n  input: {str(what)[:300]}\n  {traceback.format_exc().splitlines()[-3].strip()}", file=sys.stderr)
            stats[name]['inputs'] += 1
        leftovers = [str(p) for p in Path(tmp).rglob('*') if '.tmp' in p.name or p.suffix == '.lock']
    dt = time.time() - t0
    for k, c in stats.items():
        print(f"{k:15s} inputs {c['inputs']:5d}  read ok {c['ok']:5d}  DataError {c['DataError']:5d}  item DataError {c['item DataError']:5d}  escaped {c['escaped']}")
    print(f"total: {a.n} inputs in {dt:.0f} s; exceptions other than DataError: {len(escaped)} {dict(Counter(escaped)) if escaped else ''}; "
          f"temporary files left: {len(leftovers)}")
    return 1 if escaped or leftovers else 0

if __name__ == '__main__': sys.exit(main())
