#!/usr/bin/env bash
# Copy the real data the GPU script can use into .gpudata/ (ignored by git, carried with the tree; about 19 MB):
# ../shared/data/qmul_sbir, ../shared/data/deepfashion2_sample and Debian's Fashion-MNIST test files (with PACK_CLOTHING=1, clothing_small too).
# run.sh finds them there.
#   bash benchmarks/gpu/pack_data.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared/data}; FM=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}; OUT=.gpudata
mkdir -p "$OUT"
for d in qmul_sbir deepfashion2_sample; do
  if [ -d "$SHARED/$d" ]; then rm -rf "$OUT/$d"; cp -r "$SHARED/$d" "$OUT/"; else echo "note: no $SHARED/$d (that check will be skipped)"; fi
done
# clothing_small (the default recipe's real photos and the real-photo benchmark): 60 MB as shipped, too much beside the rest for the
# device's 64 MiB carry, so only with PACK_CLOTHING=1, train and test re-encoded at most 224 px (the embedding size), JPEG quality 85
if [ "${PACK_CLOTHING:-0}" = "1" ] && [ -d "$SHARED/clothing_small" ]; then
  python3 - "$SHARED/clothing_small" "$OUT/clothing_small" <<'PY'
import sys
from pathlib import Path
from PIL import Image
src, out = map(Path, sys.argv[1:])
for split in ('train', 'test'):
    for f in sorted((src / split).glob('*/*')):
        d = out / split / f.parent.name; d.mkdir(parents=True, exist_ok=True)
        im = Image.open(f).convert('RGB'); im.thumbnail((224, 224)); im.save(d / (f.stem + '.jpg'), quality=85)
PY
fi
if ls "$FM"/t10k-* >/dev/null 2>&1; then mkdir -p "$OUT/fashion-mnist"; cp "$FM"/t10k-* "$OUT/fashion-mnist/"; else echo "note: no Fashion-MNIST at $FM (that check will be skipped)"; fi
echo "$OUT: $(du -sm "$OUT" | cut -f1) MB"
