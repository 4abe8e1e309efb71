# Sourced by the set-up scripts: the Pythons this package supports, how to find one, and the numpy
# MXNet 1.9.1 imports with on each (numpy<1.24 has no wheel for 3.12, numpy 1.x none for 3.13; the
# names MXNet reads that those lack are put back by gluon_googlenet/base/numpy_aliases.py).
SUPPORTED_PYTHONS="3.13 3.12 3.11 3.10 3.9"

numpy_for() {  # the numpy pin for Python $1
  case "$1" in 3.13) echo 2.2.6 ;; 3.12) echo 1.26.4 ;; *) echo 1.23.5 ;; esac
}

mxnet_args() {  # how pip installs MXNet build $1 (version 1.9.1) on Python $2: on 3.13 without its
  # metadata's numpy<2 (scripts/setup.sh then installs what else it requires: requests, graphviz)
  case "$2" in 3.13) echo "--no-deps $1==1.9.1" ;; *) echo "$1==1.9.1" ;; esac
}

python_version_of() {  # "3.X" of the interpreter $1, or nothing where it does not run
  "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

find_python() {  # an interpreter of version $1 that runs: pyenv's, else python$1 on PATH
  local prefix version
  if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E "^$1\.[0-9]+$" | sort -t. -k3 -n -r); do
      prefix="$(pyenv prefix "$version" 2>/dev/null)" && [ -x "$prefix/bin/python$1" ] &&
        { echo "$prefix/bin/python$1"; return; }
    done
  fi
  if command -v "python$1" >/dev/null 2>&1 && [ "$(python_version_of "python$1")" = "$1" ]; then
    command -v "python$1"
  fi
}
