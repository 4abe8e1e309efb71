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
exec .venv/bin/python -m pytest -q "$@"
