#!/usr/bin/env bash
# A separate venv with PyTorch (CPU), torchvision, timm and safetensors: the side-by-side
# benchmark, and the reference models the pretrained-weights tests compare with.
# gluoncv refuses to import beside torch>=2, so PyTorch never goes into .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_VENV="${TORCH_VENV:-$ROOT/.venv-torch}"
if [ ! -x "$TORCH_VENV/bin/python" ]; then
  "${PYTHON:-python3.11}" -m venv "$TORCH_VENV"
fi
# torchvision's PyPI wheel links CUDA libraries: beside a CPU torch its compiled ops do not load
# (its models work; tests/reference/torch_models.py skips the op registrations).
PROBE="import sys, types; sys.modules['torchvision._meta_registrations'] = types.ModuleType('m'); \
import torch, torchvision, timm, safetensors; print('torch', torch.__version__, 'torchvision', \
torchvision.__version__, 'timm', timm.__version__)"
if ! "$TORCH_VENV/bin/python" -c "$PROBE" >/dev/null 2>&1; then
  echo "torch venv: installing torch 2.13.0 (CPU), torchvision, timm, safetensors into $TORCH_VENV"
  "$TORCH_VENV/bin/pip" install --quiet --disable-pip-version-check "torch==2.13.0" \
    "torchvision==0.28.0" "timm==1.0.31" "safetensors==0.8.0" numpy
fi
"$TORCH_VENV/bin/python" -c "$PROBE"
