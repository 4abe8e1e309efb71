"""Figures leave the caller's matplotlib backend alone."""
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_plots_leave_the_matplotlib_backend_alone(tmp_path):
    code = ("import matplotlib\nmatplotlib.use('svg')\nimport sys\n"
            "from gluon_googlenet.base.plots import plot_history\n"
            f"plot_history([{{'epoch': 1, 'train_loss': 1.0, 'test_loss': 1.1, 'train_acc': 0.5, "
            f"'test_acc': 0.4}}], {str(tmp_path / 'c.png')!r})\n"
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "svg False", result.stderr
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_the_curves_draw_the_books_figure_dashed_where_there_is_one():
    from gluon_googlenet.base.plots import BOOK_TEST_ACC, history_figure
    history = [{"epoch": e, "train_loss": 1.0 / e, "test_loss": 1.1 / e, "train_acc": 0.3 * e, "test_acc": 0.29 * e}
               for e in (1, 2, 3)]
    ax = history_figure(history, "t", BOOK_TEST_ACC["fashion-mnist"]).axes[1]
    book = [line for line in ax.get_lines() if line.get_label().startswith("the book's")]
    assert len(book) == 1 and book[0].get_linestyle() == "--" and list(book[0].get_ydata()) == [0.904, 0.904]
    assert all(not line.get_label().startswith("the book's") for line in history_figure(history).axes[1].get_lines())
