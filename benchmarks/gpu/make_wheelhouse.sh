#!/usr/bin/env bash
# Fill .whl/ (ignored by git, carried with the tree) with clothembed's dependencies as wheels, for a GPU machine without
# network that has its own torch/torchvision. Never torch, torchvision, triton or nvidia-*: those stay the machine's.
#   bash benchmarks/gpu/make_wheelhouse.sh                     # pure-Python wheels (+ small abi3/per-version ones), <= 50 MB
#   bash benchmarks/gpu/make_wheelhouse.sh --with-scientific   # also numpy/scipy/pandas/matplotlib/scikit-learn/pillow (~90 MB a Python version)
# Versions are those installed here (tested here); wheels for CPython 3.10, 3.11 and 3.12 on manylinux x86_64.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=.whl; LIMIT_MB=${LIMIT_MB:-50}; SCI=0; NEWEST=${NEWEST:-3.12.3}; OLDER=${OLDER-"3.11.9 3.10.14"}   # OLDER= : wheels for NEWEST alone
[ "${1:-}" = "--with-scientific" ] && SCI=1
mkdir -p "$OUT"
python3 - "$OUT/requirements.txt" "$SCI" <<'PY'
import importlib.metadata as md, re, sys, tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as cn
out, sci = sys.argv[1], sys.argv[2] == '1'
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']
roots = [Requirement(r).name for r in deps['dependencies'] + deps['optional-dependencies']['distributed']]
skip = {'torch', 'torchvision', 'torchaudio', 'triton', 'spacy'}            # spacy: fastai.text only, never imported by clothembed
heavy = {'numpy', 'scipy', 'pandas', 'matplotlib', 'scikit-learn', 'pillow', 'fonttools', 'kiwisolver', 'contourpy'}
seen, todo = {}, [cn(r) for r in roots]
while todo:
    n = todo.pop()
    if n in seen or n in skip or n.startswith('nvidia-'): continue
    try: d = md.distribution(n)
    except md.PackageNotFoundError: sys.exit(f"{n} is not installed here: install clothembed's dependencies first")
    seen[n] = d.version
    for r in d.requires or []:
        q = Requirement(r)
        if q.marker is None or q.marker.evaluate({'extra': ''}): todo.append(cn(q.name))
keep = {n: v for n, v in seen.items() if sci or n not in heavy}
open(out, 'w').write(''.join(f"{n}=={v}\n" for n, v in sorted(keep.items())))
print(f"{len(keep)} distributions ({len(seen) - len(keep)} scientific ones left to the machine)")
PY
PLAT="--platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64"
get() { python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$1" --implementation cp $PLAT -d "$OUT" -r "$2" 2>&1 | grep -v '^WARNING' || true; }
get "$NEWEST" "$OUT/requirements.txt"            # pure wheels serve every version; binary ones are for this version
ls "$OUT"/*.whl | grep -v -- '-none-any.whl' | xargs -n1 basename | cut -d- -f1,2 | sed 's/-/==/' > "$OUT/binary.txt"
for v in $OLDER; do get "$v" "$OUT/binary.txt"; done   # the compiled ones again for the older versions
python3 - "$OUT" $OLDER <<'PY'
import re, sys, zipfile
from pathlib import Path
out, olds = Path(sys.argv[1]), sys.argv[2:]
for w in sorted(out.glob('*-none-any.whl')):          # pure wheels whose Requires-Python leaves an older version out
    meta = next(n for n in zipfile.ZipFile(w).namelist() if n.endswith('.dist-info/METADATA'))
    m = re.search(r'^Requires-Python: *(.+)$', zipfile.ZipFile(w).read(meta).decode(), re.M)
    if m: 
        from packaging.specifiers import SpecifierSet
        bad = [v for v in olds if v not in SpecifierSet(m.group(1))]
        if bad: print(f"note: {w.name} needs Python {m.group(1)}: on {', '.join(bad)} the machine must have its own")
PY
if ls "$OUT" | grep -Eiq '^(torch|torchvision|torchaudio|triton|nvidia)[-_]'; then echo "error: $OUT holds torch/triton/nvidia wheels" >&2; exit 1; fi
mb=$(du -sm "$OUT" | cut -f1); n=$(ls "$OUT"/*.whl | wc -l)
echo "$OUT: $n wheels, $mb MB"
if [ "$mb" -gt "$LIMIT_MB" ]; then echo "error: $OUT is $mb MB, over $LIMIT_MB MB" >&2; exit 1; fi
