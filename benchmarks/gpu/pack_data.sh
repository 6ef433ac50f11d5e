#!/usr/bin/env bash
# Copy the real data the GPU script can use into .gpudata/ (ignored by git, carried with the tree; about 19 MB):
# ../shared/data/qmul_sbir, ../shared/data/deepfashion2_sample and Debian's Fashion-MNIST test files. run.sh finds them there.
#   bash benchmarks/gpu/pack_data.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${SHARED:-../shared/data}; FM=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}; OUT=.gpudata
mkdir -p "$OUT"
for d in qmul_sbir deepfashion2_sample; do
  if [ -d "$SHARED/$d" ]; then rm -rf "$OUT/$d"; cp -r "$SHARED/$d" "$OUT/"; else echo "note: no $SHARED/$d (that check will be skipped)"; fi
done
if ls "$FM"/t10k-* >/dev/null 2>&1; then mkdir -p "$OUT/fashion-mnist"; cp "$FM"/t10k-* "$OUT/fashion-mnist/"; else echo "note: no Fashion-MNIST at $FM (that check will be skipped)"; fi
echo "$OUT: $(du -sm "$OUT" | cut -f1) MB"
