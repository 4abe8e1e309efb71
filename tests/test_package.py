"""The package root: version, lazy public names, threads set before MXNet loads."""
import os
import subprocess
import sys

import pytest
from conftest import LOADED


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
