#!/usr/bin/env bash
# Create .venv with the pinned packages and, where apt is there, the Debian
# Fashion-MNIST package. Idempotent: a second run only checks.
#   MXNET_PACKAGE=mxnet-cu117 bash scripts/setup.sh   # CUDA 11.7 build instead of CPU
#   VENV=/path/to/venv bash scripts/setup.sh          # another venv location
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
STAMP="$VENV/.gluon-googlenet-stamp"
# The MXNet build chosen once (MXNET_PACKAGE=mxnet-cu117 ...) stays until another is named.
MXNET_PACKAGE="${MXNET_PACKAGE:-$(sed -n 's/^[0-9a-f]*-//p' "$STAMP" 2>/dev/null || true)}"
MXNET_PACKAGE="${MXNET_PACKAGE:-mxnet}"

pick_python() {
  for py in "${PYTHON:-}" python3.11 python3; do
    [ -n "$py" ] || continue
    if command -v "$py" >/dev/null 2>&1 &&
       "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      echo "$py"; return 0
    fi
  done
  echo "setup: Python 3.11 is required (mxnet 1.9.1 and gluoncv need distutils); set PYTHON=/path/to/python3.11" >&2
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY="$(pick_python)"
  echo "setup: creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi

# Reinstall only when the pins or the MXNet build change.
WANT="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-docs.txt" "$ROOT/constraints.txt" "$ROOT/setup.py" | sha256sum | cut -c1-16)-$MXNET_PACKAGE"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  echo "setup: installing pinned packages ($MXNET_PACKAGE==1.9.1)"
  # Only one MXNet build may own the 'mxnet' module.
  for other in $("$VENV/bin/pip" list --format=freeze 2>/dev/null | sed -n 's/^\(mxnet[a-z0-9-]*\)==.*/\1/p'); do
    [ "$other" = "$MXNET_PACKAGE" ] || "$VENV/bin/pip" uninstall --quiet -y "$other"
  done
  # One pip command: installing gluoncv on its own later pulls numpy 2.x.
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    -r "$ROOT/requirements.txt" -r "$ROOT/requirements-docs.txt" -c "$ROOT/constraints.txt" "$MXNET_PACKAGE==1.9.1"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$ROOT"
  echo "$WANT" > "$STAMP"
fi

# Debian packages, where apt is available and we are root: Fashion-MNIST (MIT licence) and
# Graphviz (for 'gluon-googlenet diagram'); for the tests only (TEST_TOOLS=1, which scripts/test.sh
# sets), ssh, sshd, Open MPI and iproute2 (the multi-host tests of 'launch'), and any extra the
# caller names in APT_EXTRA (scripts/test.sh adds chromium for the report and site tests).
DATA_DIR=/usr/share/datasets/fashion-mnist
WANT_APT=()
[ -f "$DATA_DIR/train-images-idx3-ubyte.gz" ] || WANT_APT+=(dataset-fashion-mnist)
command -v dot >/dev/null 2>&1 || WANT_APT+=(graphviz)
if [ "${TEST_TOOLS:-0}" = 1 ]; then
  command -v ssh >/dev/null 2>&1 || WANT_APT+=(openssh-client)
  [ -x /usr/sbin/sshd ] || WANT_APT+=(openssh-server)
  command -v mpirun >/dev/null 2>&1 || WANT_APT+=(openmpi-bin)
  command -v ip >/dev/null 2>&1 || WANT_APT+=(iproute2)
  for extra in ${APT_EXTRA:-}; do command -v "$extra" >/dev/null 2>&1 || WANT_APT+=("$extra"); done
fi
if [ "${#WANT_APT[@]}" -gt 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "setup: installing Debian packages: ${WANT_APT[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${WANT_APT[@]}" >/dev/null
fi
if [ ! -f "$DATA_DIR/train-images-idx3-ubyte.gz" ]; then
  echo "setup: note: $DATA_DIR not found; pass --data-dir or set GLUON_GOOGLENET_FASHION_MNIST to your Fashion-MNIST IDX files" >&2
fi
# MXNet loads here (a CUDA build: its CUDA libraries too); where it does not, one line says why.
if ! REPORT="$("$VENV/bin/python" -c 'import mxnet, gluoncv, numpy; print("setup: mxnet", mxnet.__version__, "numpy", numpy.__version__, "GPUs", mxnet.context.num_gpus())' 2>&1)"; then
  echo "setup: MXNet ($MXNET_PACKAGE) does not load: $(printf '%s\n' "$REPORT" | grep -E 'Error|error' | tail -n 1)" >&2
  exit 1
fi
printf '%s\n' "$REPORT" | tail -n 1
