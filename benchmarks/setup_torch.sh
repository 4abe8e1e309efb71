#!/usr/bin/env bash
# A separate venv with PyTorch (CPU), torchvision, timm, safetensors and ONNX Runtime (+ onnx, for
# its quantizer): the peers of the benchmarks, and the reference models the pretrained-weights
# tests compare with. onnxruntime needs numpy>=1.24, which MXNet 1.9.1 cannot import beside.
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
import torch, torchvision, timm, safetensors, onnxruntime, onnx; print('torch', torch.__version__, \
'torchvision', torchvision.__version__, 'timm', timm.__version__, 'onnxruntime', onnxruntime.__version__)"
if ! "$TORCH_VENV/bin/python" -c "$PROBE" >/dev/null 2>&1; then
  echo "torch venv: installing torch 2.13.0 (CPU), torchvision, timm, safetensors, onnxruntime into $TORCH_VENV"
  "$TORCH_VENV/bin/pip" install --quiet --disable-pip-version-check "torch==2.13.0" \
    "torchvision==0.28.0" "timm==1.0.31" "safetensors==0.8.0" "onnxruntime==1.32.0" "onnx==1.23.2" numpy
fi
"$TORCH_VENV/bin/python" -c "$PROBE"
