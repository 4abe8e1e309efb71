#!/usr/bin/env bash
# Optional: a separate venv with PyTorch (CPU) for the side-by-side benchmark. gluoncv refuses
# to import beside torch>=2, so PyTorch never goes into .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_VENV="${TORCH_VENV:-$ROOT/.venv-torch}"
if [ ! -x "$TORCH_VENV/bin/python" ]; then
  "${PYTHON:-python3.11}" -m venv "$TORCH_VENV"
fi
if ! "$TORCH_VENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "bench: installing torch==2.13.0 (CPU) into $TORCH_VENV"
  "$TORCH_VENV/bin/pip" install --quiet --disable-pip-version-check "torch==2.13.0" numpy
fi
"$TORCH_VENV/bin/python" -c "import torch; print('bench: torch', torch.__version__)"
