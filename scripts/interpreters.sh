#!/usr/bin/env bash
# The package's wheel on every other Python it supports (the full suite runs on .venv's): for each
# interpreter found (pyenv, else PATH), a venv .venv-pyX.Y made as a user with an MXNet build of
# their own makes it: MXNet first (the CPU wheel standing in for mxnet-cu1xx or NVIDIA's build),
# then the wheel with every extra ([gluoncv,onnx,notebook,docs,test], no [cpu]), both under that
# Python's pins (requirements/py3.X.txt); nothing from the repository. Then the smoke subset against
# it, from a folder outside the repository: it checks that one MXNet build is there and every
# dependency with it, and exports a net to ONNX; on Python 3.13 (numpy 2) the whole fast subset
# (pytest -m "not slow") runs too. One line per interpreter; one not found is a line, not a failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/pythons.sh"
HERE="$(python_version_of "$ROOT/.venv/bin/python")"
PYTHONS="${PYTHONS:-$(for v in $SUPPORTED_PYTHONS; do [ "$v" = "$HERE" ] || printf '%s ' "$v"; done)}"
EXTRAS="gluoncv,onnx,notebook,docs,test"

# The wheel, built once from this tree (the same a user gets from `python -m build`).
DIST="$ROOT/dist"
rm -rf "$DIST" && mkdir -p "$DIST"
"$ROOT/.venv/bin/pip" wheel --quiet --disable-pip-version-check --no-deps -w "$DIST" "$ROOT" >/dev/null ||
  { echo "interpreters: the wheel did not build" >&2; exit 1; }
WHEEL="$(ls "$DIST"/gluon_googlenet-*.whl)"
WHEEL_SUM="$(sha256sum "$WHEEL" "$ROOT"/requirements/py*.txt | sha256sum | cut -c1-16)"

failed=0
for version in $PYTHONS; do
  python="$(find_python "$version")"
  if [ -z "$python" ]; then
    echo "interpreters: Python $version: not found (pyenv or python$version on PATH), skipped"
    continue
  fi
  venv="$ROOT/.venv-py$version" pins="$ROOT/requirements/py$version.txt"
  stamp="$venv/.stamp" want="$WHEEL_SUM"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$venv"
    if ! { "$python" -m venv "$venv" &&
           "$venv/bin/pip" install --quiet --disable-pip-version-check -c "$pins" $(mxnet_args mxnet "$version") \
             >"$venv.log" 2>&1 &&
           "$venv/bin/pip" install --quiet --disable-pip-version-check -c "$pins" "${WHEEL}[$EXTRAS]" \
             >>"$venv.log" 2>&1; }; then
      echo "interpreters: Python $version: the wheel did not install with its extras (see $venv.log)"
      failed=1; continue
    fi
    echo "$want" > "$stamp"
  fi
  scratch="$(mktemp -d)"
  start=$SECONDS
  # Which tests: the smoke subset; on the numpy-2 Python (numpy_for) the whole fast subset beside it,
  # a worker per core (at most 2) as scripts/test.sh runs the suite.
  tests=(-m smoke "$ROOT/tests/test_smoke.py" "$ROOT/tests/training/test_fetch.py")
  if [ "$(numpy_for "$version" | cut -d. -f1)" -ge 2 ]; then
    tests=(-m "smoke or not slow" -n "$(nproc | awk '{print ($1 > 2) ? 2 : $1}')" --dist loadfile "$ROOT/tests")
  fi
  # From a folder outside the repository: the package comes from the wheel, the tests from tests/.
  (cd "$scratch" && OMP_NUM_THREADS=1 GLUON_GOOGLENET_REQUIRE_EXTRAS=1 "$venv/bin/python" -m pytest -q \
     -p no:cacheprovider -c "$ROOT/pytest.ini" --rootdir "$ROOT" "${tests[@]}") >"$venv.out" 2>&1
  code=$?
  rm -rf "$scratch"
  summary="$(tail -n 1 "$venv.out")"
  where="$(cd / && "$venv/bin/python" -c 'import gluon_googlenet, numpy; print(gluon_googlenet.__file__.startswith("'"$venv"'"))' 2>/dev/null)"
  numpy="$("$venv/bin/python" -c 'import numpy; print(numpy.__version__)' 2>/dev/null)"
  if [ "$code" != 0 ] || [ "$where" != True ]; then
    echo "interpreters: Python $version ($("$venv/bin/python" -V 2>&1)), numpy $numpy: FAILED: $summary (see $venv.out)"
    failed=1
  else
    echo "interpreters: Python $version ($("$venv/bin/python" -V 2>&1 | cut -d' ' -f2)), numpy $numpy, wheel with [$EXTRAS]: $summary ($((SECONDS - start)) s)"
  fi
done
exit $failed
