"""The package root: version, lazy public names, threads set before MXNet loads."""
import os
import subprocess
import sys

import pytest
from conftest import LOADED

TEAMS = """import os
import gluon_googlenet
import mxnet as mx, numpy as np
mx.nd.ones((8, 8)).asnumpy()
before = len(os.listdir("/proc/self/task"))
mx.nd.array(np.ones((1000, 1000), np.float32)).asnumpy()
print(before, len(os.listdir("/proc/self/task")))
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_a_big_copy_in_pythons_thread_starts_no_second_openmp_team():
    """MXNet copies big arrays with OpenMP in the calling thread; a second OpenMP team slows every
    later step (base/threads.py). With the package's setting the copy adds no thread; with MXNet's
    default size it adds the team's second thread."""
    def threads(**env):
        inherited = {k: v for k, v in os.environ.items() if k != "MXNET_CPU_PARALLEL_SIZE"}
        run = subprocess.run([sys.executable, "-c", TEAMS], capture_output=True, text=True, timeout=120,
                             env=dict(inherited, OMP_NUM_THREADS="2", **env))
        assert run.returncode == 0, run.stderr
        return [int(n) for n in run.stdout.split()]
    before, after = threads()
    assert after == before
    before, after = threads(MXNET_CPU_PARALLEL_SIZE="200000")
    assert after == before + 1


@pytest.mark.slow
def test_version_and_package_import():
    from gluon_googlenet import __version__
    result = subprocess.run([sys.executable, "-m", "gluon_googlenet", "--version"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"gluon-googlenet {__version__}"
    code = "import gluon_googlenet, os\nprint(os.environ['OMP_NUM_THREADS'])\n" + LOADED
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
                           ).stdout.splitlines()
    assert lines == [str(len(os.sched_getaffinity(0))), ""]
