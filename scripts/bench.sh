#!/usr/bin/env bash
# Benchmark: set up (.venv and .venv-torch with PyTorch and ONNX Runtime), then time MXNet against
# the peers a user weighs, each pair interleaved over rounds, and print the table with median
# ratios, their ranges, verdicts and the SGEMM-line column (also benchmarks/peers.json).
# Extra arguments go to benchmarks/peers.py, e.g. --isa AVX2 (cap both frameworks' oneDNN),
# --models googlenet_d2l, --rounds 7. The package's own paths against each other (imperative,
# hybrid, fused, bf16, INT8, threads, whole trainer): .venv/bin/python benchmarks/run.py.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
bash "$ROOT/benchmarks/setup_torch.sh"
cd "$ROOT"
exec .venv/bin/python benchmarks/peers.py "$@"
