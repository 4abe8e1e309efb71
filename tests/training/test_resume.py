"""Resuming any run from the line a stop prints: every registered model, a real SIGTERM mid-epoch,
the printed command run as a user would (verbatim, in a new process), the weights of a run never
stopped at the end; and a flag that contradicts the run is one line naming both values."""
import os
import shlex
import signal
import subprocess
import sys

from gluon_googlenet import cli, list_models
from gluon_googlenet.training.position import RunPosition
from gluon_googlenet.training.run.checkpoint import read_checkpoint

import numpy as np
import pytest
from conftest import make_idx_dir, smallest_side


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_idx_dir(tmp_path_factory.mktemp("idx"), n_train=8, n_test=4, size=28)


def _options(name, data):
    side = smallest_side(name)  # the resume logic is the same at any side: the cheapest one
    return ["--model", name, "--data-dir", data, "--no-verify", "--resize", str(side), "--batch-size", "2",
            "--epochs", "1", "--optimizer", "nag", "--lr", "0.01", "--seed", "5", "--no-progress"]


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_the_printed_line_resumes_every_model_to_the_weights_of_a_run_never_stopped(name, data, tmp_path,
                                                                                  monkeypatch, capsys):
    assert cli.main(["train", *_options(name, data), "--out", str(tmp_path / "straight")]) == 0
    after_batch = RunPosition.after_batch

    def after_batch_then_sigterm(self, step):  # a real signal, at batch 2 of 4
        after_batch(self, step)
        if step == 2:
            os.kill(os.getpid(), signal.SIGTERM)
    monkeypatch.setattr(RunPosition, "after_batch", after_batch_then_sigterm)
    out = tmp_path / "stopped"
    options = [o for o in _options(name, data) if o != "--no-progress"]
    capsys.readouterr()
    assert cli.main(["train", *options, "--out", str(out)]) == 143
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "stopped by SIGTERM after batch 2 of epoch 1" in line and "--model" not in line, line
    command = shlex.split(line.split("resume with: ", 1)[1])
    exe = os.path.join(os.path.dirname(sys.executable), command[0])
    resumed = subprocess.run([exe, *command[1:]], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    _, want, _, _ = read_checkpoint(str(tmp_path / "straight" / "last.ckpt"))
    meta, got, _, _ = read_checkpoint(str(out / "last.ckpt"))
    assert meta["model"] == name and meta["epoch"] == 1 and got.keys() == want.keys()
    for key in want:
        np.testing.assert_allclose(got[key].asnumpy(), want[key].asnumpy(), rtol=1e-4, atol=1e-6, err_msg=key)


def test_a_flag_that_contradicts_the_run_is_one_line_naming_both(data, tmp_path, capsys):
    out = str(tmp_path / "run")
    options = _options("mnist_resnet", data)
    assert cli.main(["train", *options, "--out", out]) == 0
    capsys.readouterr()
    assert cli.main(["train", "--out", out, "--resume", "--epochs", "2", "--data-dir", data, "--no-verify",
                     "--batch-size", "4"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"gluon-googlenet train: error: --resume: the run in {out} has batch_size=2, --batch-size asks "
                   "for 4; a resumed run keeps its settings (train into a new --out to change them)"]
    assert cli.main(["train", "--out", out, "--resume", "--epochs", "2", "--data-dir", data, "--no-verify",
                     "--no-progress"]) == 0  # the model, size and recipe come from the run
    meta = read_checkpoint(os.path.join(out, "last.ckpt")).meta
    assert (meta["model"], meta["epoch"], meta["config"]["batch_size"]) == ("mnist_resnet", 2, 2)
