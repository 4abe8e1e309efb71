#!/usr/bin/env bash
# A venv of the book's own package, d2l==1.0.3 with its pins (numpy 1.23.5, matplotlib 3.7.2,
# pandas 2.0.3, ...), MXNet 1.9.1 and this package installed from the tree (not editable), for
# tests/test_d2l_book.py: the book's own code (Classifier.layer_summary, d2l.Trainer,
# d2l.FashionMNIST) running our nets. Idempotent: the dependencies once, the package every time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
D2L_VENV="${D2L_VENV:-$ROOT/.venv-d2l}"
if [ ! -x "$D2L_VENV/bin/python" ]; then
  "${PYTHON:-python3.11}" -m venv "$D2L_VENV"
fi
if ! "$D2L_VENV/bin/python" -c "import d2l, mxnet" >/dev/null 2>&1; then
  echo "d2l venv: installing d2l==1.0.3 and mxnet==1.9.1 into $D2L_VENV"
  "$D2L_VENV/bin/pip" install --quiet --disable-pip-version-check "d2l==1.0.3" "mxnet==1.9.1"
fi
"$D2L_VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --force-reinstall "$ROOT"
"$D2L_VENV/bin/python" -c "import d2l, mxnet, numpy; print('d2l venv: d2l', d2l.__version__, 'mxnet', mxnet.__version__, 'numpy', numpy.__version__)" 2>/dev/null
