#!/usr/bin/env bash
# Set up (venv, pinned packages, Debian Fashion-MNIST), check the layering and lint, run the test
# suite and print its time, then the smoke subset on Python 3.9, 3.10, 3.12 and 3.13 (there, on
# numpy 2, the whole fast subset too) against the built wheel (scripts/interpreters.sh). Extra arguments go to pytest (e.g. -m "not slow" for the fast
# subset), and then only the suite runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
echo "test: set-up also installs the tests' tools where apt is there (openssh, Open MPI, iproute2, chromium)"
TEST_TOOLS=1 APT_EXTRA=chromium bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
# Each layer imports only those below it (.importlinter); the code passes ruff (ruff.toml).
.venv/bin/lint-imports --no-cache
.venv/bin/ruff check .
# Where set-up could install the data, the browser, sshd and Open MPI (and, as root, can make
# network namespaces), tests needing them must not be skipped.
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export GLUON_GOOGLENET_REQUIRE_DATA=1 GLUON_GOOGLENET_REQUIRE_BROWSER=1 GLUON_GOOGLENET_REQUIRE_HOSTS=1
fi
# The PyTorch venv holds the torchvision / timm reference models for the pretrained-weights tests.
if bash "$ROOT/benchmarks/setup_torch.sh"; then
  export GLUON_GOOGLENET_REQUIRE_TORCH=1
else
  echo "test: no PyTorch venv; the tests against torchvision and timm will be skipped" >&2
fi
# The book's own package (d2l==1.0.3) in a venv of its own, for the tests that run the book's code.
if bash "$ROOT/scripts/setup_d2l.sh"; then
  export GLUON_GOOGLENET_REQUIRE_D2L=1
else
  echo "test: no d2l venv; the tests with the book's own code will be skipped" >&2
fi
start=$SECONDS
status=0
# With no arguments: the whole suite, and its 10 slowest tests named at the end.
if [ "$#" = 0 ]; then set -- --durations=10; ran_all=1; fi
# One pytest worker per usable core (at most 4), each on one OpenMP thread: the suite's
# single-threaded parts (imports, graph builds, subprocesses, waits) overlap, and no two OpenMP
# teams spin on the same cores. A file's tests stay on one worker (--dist loadfile), with their
# module fixtures (the two test hosts, shared runs). `.venv/bin/python -m pytest` runs it in one process.
workers="$(.venv/bin/python -c 'from gluon_googlenet.base.threads import usable_cores; print(min(usable_cores(), 4))')"
one_thread=() parallel=()
if [ "$workers" -gt 1 ]; then one_thread=(env OMP_NUM_THREADS=1) parallel=(-n "$workers" --dist loadfile); fi
echo "test: $workers pytest worker(s)"
"${one_thread[@]}" .venv/bin/python -m pytest -q "${parallel[@]}" "$@" || status=$?
echo "test: the suite took $((SECONDS - start)) s on this machine ($(.venv/bin/python -c 'from gluon_googlenet.base.cpu import cpu_info; print(cpu_info().describe())' 2>/dev/null || echo 'CPU unknown'))"
# The wheel on the other Pythons (3.9, 3.10, 3.12, 3.13) with the smoke subset (3.13: and the fast subset); not when pytest was asked
# for part of the suite.
if [ "${ran_all:-0}" = 1 ]; then
  bash "$ROOT/scripts/interpreters.sh" || status=1
fi
exit $status
