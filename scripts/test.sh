#!/usr/bin/env bash
# Set up (venv, pinned packages, Debian Fashion-MNIST), then run the test suite.
# Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APT_EXTRA=chromium bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
# Where set-up could install the data and the browser, tests needing them must not be skipped.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export GLUON_GOOGLENET_REQUIRE_DATA=1 GLUON_GOOGLENET_REQUIRE_BROWSER=1
fi
# The PyTorch venv holds the torchvision / timm reference models for the pretrained-weights tests.
if bash "$ROOT/benchmarks/setup_torch.sh"; then
  export GLUON_GOOGLENET_REQUIRE_TORCH=1
else
  echo "test: no PyTorch venv; the tests against torchvision and timm will be skipped" >&2
fi
exec .venv/bin/python -m pytest -q "$@"
