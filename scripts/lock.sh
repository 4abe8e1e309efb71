#!/usr/bin/env bash
# Resolve the pins of every supported Python: requirements/py3.X.txt, each the `pip freeze` of a
# fresh venv of that Python with requirements/{main,test,docs}.txt, MXNet 1.9.1 and the numpy MXNet
# imports with there (1.23.5 up to 3.11; 1.26.4 on 3.12, which has no wheel of numpy<1.24). An
# existing pin file constrains its own resolution, so only what no longer resolves moves; delete
# it to resolve that Python afresh. scripts/setup.sh installs from these; scripts/interpreters.sh
# tests them.
#   bash scripts/lock.sh            # every Python found (pyenv, else PATH)
#   PYTHONS="3.12" bash scripts/lock.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/pythons.sh"
for version in ${PYTHONS:-$SUPPORTED_PYTHONS}; do
  python="$(find_python "$version")"
  [ -n "$python" ] || { echo "lock: Python $version not found, skipped"; continue; }
  pins="$ROOT/requirements/py$version.txt" scratch="$(mktemp -d)"
  seed=(); [ -f "$pins" ] && seed=(-c "$pins")
  "$python" -m venv "$scratch/venv"
  read -r -a mxnet <<< "$(mxnet_args mxnet "$version")"
  [ "${mxnet[0]}" = --no-deps ] && "$scratch/venv/bin/pip" install --quiet --disable-pip-version-check "${mxnet[@]}"
  [ "${mxnet[0]}" = --no-deps ] && mxnet=()  # 3.13: MXNet without its metadata's numpy<2, the rest resolved beside it
  "$scratch/venv/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/requirements/main.txt" \
    -r "$ROOT/requirements/test.txt" -r "$ROOT/requirements/docs.txt" "${mxnet[@]}" \
    "numpy==$(numpy_for "$version")" "${seed[@]}"
  { echo "# Pins for Python $version, resolved by scripts/lock.sh on $("$scratch/venv/bin/python" -V 2>&1)."
    "$scratch/venv/bin/pip" freeze --all --disable-pip-version-check | grep -v '^pip=='; } > "$pins.new"
  mv "$pins.new" "$pins"
  rm -rf "$scratch"
  echo "lock: $pins ($(grep -vc '^#' "$pins") pins)"
done
