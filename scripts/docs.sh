#!/usr/bin/env bash
# Build the documentation site: set up (venv, pinned packages with the docs extra, the data the
# notebook trains on), then Sphinx with warnings as errors. Prints the page to open.
#   bash scripts/docs.sh [OUTPUT_DIR]      # default: docs/_build/html
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/docs/_build/html}"
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
# The notebook trains on Fashion-MNIST: Debian's package where set-up installed it, else MXNet's copy.
if ! .venv/bin/python -c "from gluon_googlenet.training.data.idx_files import find_data_dir; \
from gluon_googlenet.training.data.datasets import FASHION_MNIST; find_data_dir(FASHION_MNIST)" 2>/dev/null; then
  .venv/bin/gluon-googlenet data fetch fashion-mnist
fi
.venv/bin/python -m sphinx -W --keep-going -q -b html docs "$OUT"
echo "open: $OUT/index.html"
