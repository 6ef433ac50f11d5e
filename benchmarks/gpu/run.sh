#!/usr/bin/env bash
# On a GPU machine without network, from the repository root (copied with its .whl/ folder):
#   bash benchmarks/gpu/run.sh            # about 8 minutes; writes gpu_bench.json to $OUT, else to the working folder
#   bash benchmarks/gpu/run.sh --smoke    # the same path on the CPU with tiny sizes, a minute or two
# Installs what clothembed lacks from .whl/ into a folder of its own (never a second torch), then runs run.py.
# Real data for the checks: .gpudata/ (benchmarks/gpu/pack_data.sh), else ../shared/data, else those checks are skipped.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SITE="${CLOTHEMBED_SITE:-${TMPDIR:-/tmp}/clothembed_site}"
PY="${PYTHON:-python3}"
if [ "${CLOTHEMBED_SKIP_INSTALL:-0}" != "1" ]; then
  "$PY" "$ROOT/benchmarks/gpu/install.py" "$ROOT/.whl" "$SITE" ${CLOTHEMBED_INSTALL_EVERY:+--every} || exit 1
  export PYTHONPATH="$ROOT:$SITE${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
fi
"$PY" -c "import torch, clothembed.train, clothembed.bench; print('clothembed from', clothembed.__file__, '| torch', torch.__version__, 'from', torch.__file__)" || {
  echo "clothembed does not import: see the error above (a module missing here can be added to .whl/ with make_wheelhouse.sh --with-scientific)" >&2; exit 1; }
# the real data that pack_data.sh copied beside the code, unless the caller named other folders
D="$ROOT/.gpudata"
[ -d "$D/deepfashion2_sample" ] && export CLOTHEMBED_DF2_SAMPLE="${CLOTHEMBED_DF2_SAMPLE:-$D/deepfashion2_sample}"
[ -d "$D/fashion-mnist" ] && export CLOTHEMBED_FASHION_MNIST="${CLOTHEMBED_FASHION_MNIST:-$D/fashion-mnist}"
[ -d "$D/qmul_sbir" ] && export CLOTHEMBED_QMUL="${CLOTHEMBED_QMUL:-$D/qmul_sbir}"
[ -d "$D/clothing_small" ] && export CLOTHEMBED_DATA="${CLOTHEMBED_DATA:-$D}"   # the default recipe's real photos and the real-photo benchmark
export PYTHONUNBUFFERED=1
exec "$PY" "$ROOT/benchmarks/gpu/run.py" "$@"
