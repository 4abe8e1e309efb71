"""Stopping on a signal, for real: a training process gets SIGTERM (or SIGINT) from the test at a
random batch, saves where it is, exits 143 (130) with one line, and the run it resumes ends with
the weights of a run never stopped."""
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import time

from gluon_googlenet.training.run.checkpoint import read_checkpoint

import numpy as np
import pytest
from conftest import make_idx_dir

# googlenet_d2l at 32x32, batch 16, 512 images: 32 batches an epoch of about 0.1 s each here.
OPTIONS = ["--resize", "32", "--batch-size", "16", "--epochs", "2", "--optimizer", "nag", "--lr", "0.05",
           "--seed", "3", "--no-verify"]
BATCHES = 32


def _cli(*args):
    return [sys.executable, "-m", "gluon_googlenet", *args]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_idx_dir(tmp_path_factory.mktemp("idx"), n_train=512, n_test=64, size=28)


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory):
    """The run never stopped: its final weights and history."""
    out = tmp_path_factory.mktemp("straight")
    subprocess.run(_cli("train", "--data-dir", data, "--out", str(out), "--no-progress", *OPTIONS),
                   check=True, capture_output=True, timeout=600)
    meta, params, _, _ = read_checkpoint(str(out / "last.ckpt"))
    return meta, params


def _start(data, out):
    """A training process with plain progress lines on stdout; returns it once its first batches ran."""
    proc = subprocess.Popen(_cli("train", "--data-dir", data, "--out", str(out), *OPTIONS),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("estimated time to finish"):  # after the first 20 batches
            return proc
    raise AssertionError(f"the run ended before training: {proc.wait()} {proc.stderr.read()}")


def _stop_mid_epoch(data, out, signals=(signal.SIGTERM,), tries=4):
    """Send ``signals`` to a run at a random moment until one stops mid-epoch; return
    (exit code, stderr lines, epoch, batch) of that one."""
    for _ in range(tries):
        for path in out.glob("*"):
            path.unlink()
        proc = _start(data, out)
        time.sleep(random.uniform(0.0, 1.5))
        for sig in signals:
            proc.send_signal(sig)
            time.sleep(0.02)
        code = proc.wait(timeout=300)
        lines = proc.stderr.read().strip().splitlines()
        found = re.search(r"after batch (\d+) of epoch (\d+)", lines[-1]) if lines else None
        if found and int(found.group(1)) < BATCHES:
            return code, lines, int(found.group(2)), int(found.group(1))
    raise AssertionError("no signal landed inside an epoch in %d tries" % tries)


@pytest.mark.slow
def test_sigterm_at_a_random_batch_saves_and_the_resumed_run_ends_as_if_never_stopped(data, straight, tmp_path):
    out = tmp_path / "run"
    code, lines, epoch, batch = _stop_mid_epoch(data, out)
    assert code == 143 and len(lines) == 1, lines
    assert lines[0].startswith("gluon-googlenet train: stopped by SIGTERM after batch")
    meta = read_checkpoint(str(out / "last.ckpt")).meta
    assert (meta["epoch"], meta["batch"]) == (epoch - 1, batch) and 0 < batch < BATCHES
    assert meta["epoch_totals"]["batches"] == batch and meta["epoch_totals"]["seen"] == 16 * batch
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    command = shlex.split(lines[0].split("resume with: ", 1)[1])
    assert command[:2] == ["gluon-googlenet", "train"] and "--resume" in command
    resumed = subprocess.run(_cli(*command[1:], "--no-progress"), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming from {out / 'last.ckpt'}: {epoch - 1} epoch(s) done, then {batch} batch(es) of epoch " \
           f"{epoch}" in resumed.stdout
    final, params, _, _ = read_checkpoint(str(out / "last.ckpt"))
    want_meta, want = straight
    assert final["epoch"] == 2 and params.keys() == want.keys()
    for name in want:  # the standard of the epoch-boundary resume test
        np.testing.assert_allclose(params[name].asnumpy(), want[name].asnumpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)
    for got, expected in zip(final["history"], want_meta["history"]):
        assert got["train_loss"] == pytest.approx(expected["train_loss"], rel=1e-4)
        assert got["test_acc"] == pytest.approx(expected["test_acc"], abs=1e-9)


@pytest.mark.slow
def test_sigint_exits_130_and_a_second_signal_during_the_save_corrupts_nothing(data, tmp_path):
    out = tmp_path / "run"
    code, lines, epoch, batch = _stop_mid_epoch(data, out, signals=(signal.SIGINT, signal.SIGTERM))
    assert code == 130 and len(lines) == 1 and "stopped by SIGINT" in lines[0], lines
    meta, params, states, _ = read_checkpoint(str(out / "last.ckpt"))  # checksummed: whole
    assert (meta["epoch"], meta["batch"]) == (epoch - 1, batch) and params and states


@pytest.mark.slow
def test_a_timer_checkpoint_bounds_what_a_kill_loses(data, tmp_path):
    """--checkpoint-every writes mid-epoch checkpoints; after kill -9 the run resumes from the newest."""
    out = tmp_path / "run"
    proc = subprocess.Popen(_cli("train", "--data-dir", data, "--out", str(out), "--checkpoint-every", "0.01",
                                 *OPTIONS), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if line.strip().startswith("checkpoint:") and "epoch 2" in line:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    meta = read_checkpoint(str(out / "last.ckpt")).meta
    assert meta["epoch"] == 1 and meta["batch"] > 0
    resumed = subprocess.run(_cli("train", "--data-dir", data, "--out", str(out), "--resume", "--no-progress",
                                  *OPTIONS), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"1 epoch(s) done, then {meta['batch']} batch(es) of epoch 2" in resumed.stdout


def test_a_signal_outside_training_keeps_its_usual_effect():
    """StopRequests restores the handlers it replaced."""
    from gluon_googlenet.training.run.stopping import StopRequests
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGXFSZ)}
    with StopRequests() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested and stop.name == "SIGTERM" and stop.exit_code == 143
        assert signal.getsignal(signal.SIGXFSZ) == signal.SIG_IGN
    assert {sig: signal.getsignal(sig) for sig in before} == before
