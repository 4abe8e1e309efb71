#!/usr/bin/env bash
# Set up .venv: a Python of 3.9-3.13 (3.13 with numpy 2), the packages pinned for it (requirements/py3.X.txt) and
# MXNet 1.9.1; as root where apt is there, Debian's Fashion-MNIST too (elsewhere the package
# downloads it on first use). Idempotent: a second run only checks. No root needed.
#   PYTHON=/path/to/python3.X bash scripts/setup.sh   # that Python (default: the newest of 3.12..3.9, then 3.13)
#   MXNET_PACKAGE=mxnet-cu117 bash scripts/setup.sh   # a CUDA build instead of the CPU one
#   VENV=/path/to/venv bash scripts/setup.sh          # another venv location
#   TEST_TOOLS=1 ...                                  # also the tests' packages and Debian tools (scripts/test.sh)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/pythons.sh"
VENV="${VENV:-$ROOT/.venv}"
STAMP="$VENV/.gluon-googlenet-stamp"
# The MXNet build chosen once (MXNET_PACKAGE=mxnet-cu117 ...) stays until another is named.
MXNET_PACKAGE="${MXNET_PACKAGE:-$(cut -s -d' ' -f3 "$STAMP" 2>/dev/null || true)}"
MXNET_PACKAGE="${MXNET_PACKAGE:-mxnet}"
SETS="main"; [ "${TEST_TOOLS:-0}" = 1 ] && SETS="main test docs"

supported() { case " $SUPPORTED_PYTHONS " in *" $1 "*) return 0 ;; esac; return 1; }

pick_python() {  # PYTHON, else the first of python3.12 .. python3.9, python3 that runs a supported version
  local py version
  if [ -n "${PYTHON:-}" ]; then
    version="$(python_version_of "$PYTHON")"
    supported "$version" && { echo "$PYTHON"; return 0; }
    echo "setup: PYTHON=$PYTHON is ${version:+Python $version}${version:-no Python that runs here}; MXNet 1.9.1 runs on Python 3.9-3.13" >&2
    return 1
  fi
  for py in python3.12 python3.11 python3.10 python3.9 python3.13 python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    version="$(python_version_of "$py")"
    supported "$version" && { command -v "$py"; return 0; }
  done
  version="$(python_version_of python3)"
  echo "setup: no Python 3.9-3.13 here${version:+ (python3 is $version)}, and MXNet 1.9.1 runs on no other; get one with 'uv python install 3.12' or 'pyenv install 3.12', or a conda env as the d2l book makes ('conda create -n d2l python=3.9'), then run again with PYTHON=/path/to/that/python" >&2
  return 1
}

VERSION="$(python_version_of "$VENV/bin/python")"
if [ -n "$VERSION" ] && [ -n "${PYTHON:-}" ] && [ "$(python_version_of "$PYTHON")" != "$VERSION" ]; then
  echo "setup: $VENV has Python $VERSION, PYTHON=$PYTHON another: making it anew"
  rm -rf "$VENV"; VERSION=""
fi
if [ -z "$VERSION" ]; then
  PY="$(pick_python)"
  if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "setup: $PY cannot make a venv (no venv or ensurepip module; Debian and Ubuntu ship them apart): as root, apt-get install python$(python_version_of "$PY")-venv, or name another Python with PYTHON=/path/to/python" >&2
    exit 1
  fi
  echo "setup: creating $VENV with $PY (Python $(python_version_of "$PY"))"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  VERSION="$(python_version_of "$VENV/bin/python")"
fi
supported "$VERSION" || { echo "setup: $VENV has Python $VERSION; MXNet 1.9.1 runs on 3.9-3.13: remove it, or set PYTHON" >&2; exit 1; }
PINS="$ROOT/requirements/py$VERSION.txt"

# Reinstall only when the pins, the sets or the MXNet build change.
REQUIREMENTS=(); for set in $SETS; do REQUIREMENTS+=(-r "$ROOT/requirements/$set.txt"); done
HASH="$(cat "$ROOT"/requirements/{main,test,docs}.txt "$PINS" "$ROOT/setup.py" | sha256sum | cut -c1-16)"
read -r had_hash had_sets _ 2>/dev/null < "$STAMP" || true
if [ "${had_hash:-}" != "$HASH" ] || [ "$(cut -s -d' ' -f3 "$STAMP" 2>/dev/null)" != "$MXNET_PACKAGE" ] ||
   { [ "$SETS" != main ] && [ "${had_sets:-}" != full ]; }; then
  echo "setup: installing the packages pinned for Python $VERSION ($MXNET_PACKAGE==1.9.1; $SETS)"
  # Only one MXNet build may own the 'mxnet' module.
  for other in $("$VENV/bin/pip" list --format=freeze 2>/dev/null | sed -n 's/^\(mxnet[a-z0-9-]*\)==.*/\1/p'); do
    [ "$other" = "$MXNET_PACKAGE" ] || "$VENV/bin/pip" uninstall --quiet -y "$other"
  done
  # One pip command: numpy stays pinned however the others ask (gluoncv on its own pulls numpy 2.x).
  read -r -a MXNET_ARGS <<< "$(mxnet_args "$MXNET_PACKAGE" "$VERSION")"
  if [ "${MXNET_ARGS[0]}" = --no-deps ]; then  # Python 3.13: MXNet's metadata asks for numpy<2, which has no wheel there
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" -c "$PINS"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${MXNET_ARGS[@]}"
  else
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" -c "$PINS" "${MXNET_ARGS[@]}"
  fi
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e "$ROOT"
  sets="full"; [ "$SETS" = main ] && sets=main
  echo "$HASH $sets $MXNET_PACKAGE" > "$STAMP"
fi

# Debian packages, where apt is there and we are root: Fashion-MNIST (MIT licence); for the tests
# only (TEST_TOOLS=1, which scripts/test.sh sets), Graphviz ('diagram'), ssh, sshd, Open MPI and
# iproute2 (the multi-host tests of 'launch'), and any extra the caller names in APT_EXTRA.
DATA_DIR=/usr/share/datasets/fashion-mnist
WANT_APT=()
[ -f "$DATA_DIR/train-images-idx3-ubyte.gz" ] || WANT_APT+=(dataset-fashion-mnist)
if [ "${TEST_TOOLS:-0}" = 1 ]; then
  command -v dot >/dev/null 2>&1 || WANT_APT+=(graphviz)
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
  echo "setup: no Debian Fashion-MNIST here: the first run downloads it into \$MXNET_HOME/datasets (default ~/.mxnet/datasets)"
fi
# MXNet loads here (a CUDA build: its CUDA libraries too); where it does not, one line says why.
if ! REPORT="$("$VENV/bin/python" -c 'import gluon_googlenet, mxnet, numpy, sys; print("setup: Python", sys.version.split()[0], "mxnet", mxnet.__version__, "numpy", numpy.__version__, "GPUs", mxnet.context.num_gpus())' 2>&1)"; then
  echo "setup: MXNet ($MXNET_PACKAGE) does not load: $(printf '%s\n' "$REPORT" | grep -E 'Error|error' | tail -n 1)" >&2
  exit 1
fi
printf '%s\n' "$REPORT" | tail -n 1
