"""Figures leave the caller's matplotlib backend alone."""
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_plots_leave_the_matplotlib_backend_alone(tmp_path):
    code = ("import matplotlib\nmatplotlib.use('svg')\nimport sys\n"
            "from gluon_googlenet.training.plots import plot_history\n"
            f"plot_history([{{'epoch': 1, 'train_loss': 1.0, 'test_loss': 1.1, 'train_acc': 0.5, "
            f"'test_acc': 0.4}}], {str(tmp_path / 'c.png')!r})\n"
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "svg False", result.stderr
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
