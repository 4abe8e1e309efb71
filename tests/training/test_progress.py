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
    from gluon_googlenet.training.progress import format_duration, progress_mode

    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty
    assert progress_mode(True, Stream(True)) == "bar"
    assert progress_mode(True, Stream(False)) == "lines"
    assert progress_mode(False, Stream(True)) == "off"
    assert [format_duration(s) for s in (4.6, 425, 3720)] == ["5 s", "7 min 05 s", "1 h 02 min"]
