"""Progress: plain lines off a terminal, one finish-time estimate, durations."""
from gluon_googlenet import cli

import pytest


@pytest.mark.slow
def test_piped_progress_is_a_few_plain_lines_and_one_estimate(fashion_dir, tmp_path, capsys):
    assert cli.main(["train", "--data-dir", fashion_dir, "--resize", "32", "--limit-train", "1024",
                     "--limit-test", "128", "--batch-size", "64", "--epochs", "2",
                     "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.out + captured.err  # pytest's stderr is no terminal: no bar
    lines = captured.out.splitlines()
    quarter = [line for line in lines if "batches, loss" in line]
    assert [line.split(":")[0].strip() for line in quarter] == ["epoch 1/2"] * 3 + ["epoch 2/2"] * 3
    assert [line.split(",")[0].split(": ")[1] for line in quarter[:3]] == ["4/16 batches", "8/16 batches",
                                                                          "12/16 batches"]
    estimates = [i for i, line in enumerate(lines) if line.startswith("estimated time to finish: about ")]
    first_epoch = next(i for i, line in enumerate(lines) if line.startswith("epoch 1, loss"))
    assert len(estimates) == 1 and estimates[0] < first_epoch
    assert "(2 epoch(s) of 16 batches at " in lines[estimates[0]]


def test_progress_mode_and_durations():
    from gluon_googlenet.training.run.progress import format_duration, progress_mode

    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty
    assert progress_mode(True, Stream(True)) == "bar"
    assert progress_mode(True, Stream(False)) == "lines"
    assert progress_mode(False, Stream(True)) == "off"
    assert [format_duration(s) for s in (4.6, 425, 3720)] == ["5 s", "7 min 05 s", "1 h 02 min"]
    assert progress_mode(True) == "lines"  # pytest is no Jupyter kernel, and its stderr no terminal


def test_the_live_plot_starts_from_a_resumed_history_and_adds_points_within_the_epoch():
    from gluon_googlenet.training.run.live import LivePlot, in_jupyter
    assert not in_jupyter()
    history = [{"epoch": e, "train_loss": 2.0 / e, "train_acc": 0.3 * e, "test_acc": 0.25 * e} for e in (1, 2)]
    live = LivePlot(4, history)
    live.draw = lambda: None  # only a Jupyter kernel can show it; the data and figure are checked here
    live.add_train(0.5, 0.8, 0.7)
    live.add_train(1.0, 0.6, 0.75)
    live.add_test(0.7)
    assert live.train == [(1, 2.0, 0.3), (2, 1.0, 0.6), (2.5, 0.8, 0.7), (3.0, 0.6, 0.75)]
    assert live.test == [(1, 0.25), (2, 0.5), (3, 0.7)] and live.epochs_done == 3
    ax = live.figure().axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["train loss", "train acc", "test acc"]
    assert list(ax.get_lines()[2].get_xdata()) == [1, 2, 3] and ax.get_xlim() == (0, 4)
    assert ax.get_title() == "epoch 4 of 4, test acc 0.700"


@pytest.fixture(scope="module")
def small_idx(tmp_path_factory):
    from conftest import make_idx_dir
    return make_idx_dir(tmp_path_factory.mktemp("idx"), n_train=60, n_test=10)


@pytest.mark.slow
@pytest.mark.parametrize("progress", [True, False])
def test_a_run_stopped_after_any_batch_resumes_with_or_without_progress(small_idx, tmp_path, monkeypatch,
                                                                         progress):
    """A real SIGTERM after batch k of a 30-batch epoch, k = 1..25, then --resume: the finish-time
    estimate counts the batches this process timed (it once indexed from the epoch's start and
    failed for every k from 17 to 19)."""
    import os
    import signal

    from gluon_googlenet import TrainConfig, train
    from gluon_googlenet.base.errors import Stopped
    from gluon_googlenet.training.position import RunPosition
    stop_at = {"batch": None}
    after_batch = RunPosition.after_batch

    def after_batch_then_signal(self, step):
        after_batch(self, step)
        if step == stop_at["batch"]:
            os.kill(os.getpid(), signal.SIGTERM)
    monkeypatch.setattr(RunPosition, "after_batch", after_batch_then_signal)
    for k in range(1, 26):
        config = TrainConfig(model="mnist_resnet", data_dir=small_idx, verify_data=False, resize=0, epochs=1,
                             batch_size=2, limit_test=10, out=str(tmp_path / f"run{k}"), progress=progress)
        stop_at["batch"] = k
        with pytest.raises(Stopped, match=f"after batch {k} of epoch 1"):
            train(config)
        stop_at["batch"] = None
        result = train(TrainConfig(**dict(vars(config), resume=True)))
        assert len(result.history) == 1, k


SCRIPT = """
import logging, sys
from gluon_googlenet import TrainConfig, train
if sys.argv[2] == "logging":
    logging.basicConfig(level=logging.INFO, format="LOG %(message)s")
train(TrainConfig(model="mnist_resnet", data_dir=sys.argv[1], verify_data=False, resize=0, epochs=2,
                  batch_size=16, out=sys.argv[3], verbose=int(sys.argv[4])))
"""


@pytest.mark.slow
@pytest.mark.parametrize("setup, verbose", [("plain", 1), ("plain", 2), ("plain", 0), ("logging", 1)])
def test_train_from_python_prints_each_epoch_once(small_idx, tmp_path, setup, verbose):
    """train(TrainConfig(...)) in a script prints what the command line prints: one line per epoch
    (verbose 1 and 2), nothing at 0; once, through the caller's handler, when it configured logging."""
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", SCRIPT, small_idx, setup, str(tmp_path / "run"), str(verbose)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    text = result.stdout + result.stderr
    for epoch in (1, 2):
        lines = [line for line in text.splitlines() if f"epoch {epoch}, loss" in line]
        assert len(lines) == (0 if verbose == 0 else 1), text
        if setup == "logging":
            assert lines[0].startswith("LOG epoch")
    assert ("estimated time to finish" in text) == (verbose != 0)
