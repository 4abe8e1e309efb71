#!/usr/bin/env bash
# Benchmark: set up (.venv and, for the PyTorch peer, .venv-torch), then time every path side by
# side and print the table with ratios (also benchmarks/results.json). Extra arguments go to
# benchmarks/run.py, e.g. --epoch-accuracy 12800 to compare bf16 and fp32 accuracy after an epoch.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
bash "$ROOT/benchmarks/setup_torch.sh" || echo "bench: no PyTorch peer (torch did not install)" >&2
cd "$ROOT"
exec .venv/bin/python benchmarks/run.py "$@"
