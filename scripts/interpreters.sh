#!/usr/bin/env bash
# The package's wheel on every other Python it supports (3.9, 3.10, 3.12; the full suite runs on
# 3.11): for each interpreter found (pyenv, else PATH), a venv .venv-pyX.Y with the wheel, the
# stack pinned for that Python (mxnet 1.9.1; numpy 1.23.5 up to 3.11, 1.26.4 on 3.12) and pytest,
# nothing from the repository; then the smoke subset (tests marked smoke) against it, from a folder
# outside the repository. One line per interpreter; one not found is a line, not a failure.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHONS="${PYTHONS:-3.9 3.10 3.12}"

find_python() {  # the interpreter of version $1, or nothing
  local prefix
  if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E "^$1\.[0-9]+$" | sort -t. -k3 -n -r); do
      prefix="$(pyenv prefix "$version" 2>/dev/null)" && [ -x "$prefix/bin/python$1" ] &&
        { echo "$prefix/bin/python$1"; return; }
    done
  fi
  command -v "python$1" 2>/dev/null || true
}

numpy_for() {  # the numpy pin for Python $1
  case "$1" in 3.12) echo 1.26.4 ;; *) echo 1.23.5 ;; esac
}

# The wheel, built once from this tree (the same a user gets from `python -m build`).
DIST="$ROOT/dist"
rm -rf "$DIST" && mkdir -p "$DIST"
"$ROOT/.venv/bin/pip" wheel --quiet --disable-pip-version-check --no-deps -w "$DIST" "$ROOT" >/dev/null ||
  { echo "interpreters: the wheel did not build" >&2; exit 1; }
WHEEL="$(ls "$DIST"/gluon_googlenet-*.whl)"
WHEEL_SUM="$(sha256sum "$WHEEL" | cut -c1-16)"

failed=0
for version in $PYTHONS; do
  python="$(find_python "$version")"
  if [ -z "$python" ]; then
    echo "interpreters: Python $version: not found (pyenv or python$version on PATH), skipped"
    continue
  fi
  venv="$ROOT/.venv-py$version" numpy="$(numpy_for "$version")"
  stamp="$venv/.stamp" want="$WHEEL_SUM-$numpy"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    rm -rf "$venv"
    if ! { "$python" -m venv "$venv" &&
           "$venv/bin/pip" install --quiet --disable-pip-version-check "${WHEEL}[test]" "numpy==$numpy" \
             "mxnet==1.9.1" >"$venv.log" 2>&1; }; then
      echo "interpreters: Python $version: the wheel did not install (see $venv.log)"
      failed=1; continue
    fi
    echo "$want" > "$stamp"
  fi
  scratch="$(mktemp -d)"
  start=$SECONDS
  # From a folder outside the repository: the package comes from the wheel, the tests from tests/.
  (cd "$scratch" && "$venv/bin/python" -m pytest -q -p no:cacheprovider -c "$ROOT/pytest.ini" \
     --rootdir "$ROOT" -m smoke "$ROOT/tests/test_smoke.py" "$ROOT/tests/training/test_fetch.py") >"$venv.out" 2>&1
  code=$?
  rm -rf "$scratch"
  summary="$(tail -n 1 "$venv.out")"
  where="$(cd / && "$venv/bin/python" -c 'import gluon_googlenet, numpy; print(gluon_googlenet.__file__.startswith("'"$venv"'"))' 2>/dev/null)"
  if [ "$code" != 0 ] || [ "$where" != True ]; then
    echo "interpreters: Python $version ($("$venv/bin/python" -V 2>&1)), numpy $numpy: FAILED: $summary (see $venv.out)"
    failed=1
  else
    echo "interpreters: Python $version ($("$venv/bin/python" -V 2>&1 | cut -d' ' -f2)), numpy $numpy, wheel: $summary ($((SECONDS - start)) s)"
  fi
done
exit $failed
