"""`launch` on this machine (the local launcher): usage errors, workers that do not join in time,
two workers training one net written once. The launcher's parts: test_launch.py."""
import os
import shlex
import subprocess
import sys

from gluon_googlenet.training.run.checkpoint import read_checkpoint

import numpy as np
import pytest


def test_launch_usage_errors_are_one_line(capsys):
    from gluon_googlenet import cli
    assert cli.main(["launch", "--launcher", "ssh", "--", "--epochs", "1"]) == 1
    assert capsys.readouterr().err == ("gluon-googlenet launch: error: --launcher ssh needs a host file "
                                       "(-H HOSTFILE): one host[:port] per line\n")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["launch", "--", "--epochs", "0x"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_workers_that_do_not_start_in_time_are_one_line_and_leave_nothing(tmp_path):
    """--start-timeout 1 s: the workers have not joined ps-lite yet; every process is stopped and
    the submitters' threads print nothing of their own."""
    out = tmp_path / "late"
    result = subprocess.run(
        [sys.executable, "-m", "gluon_googlenet", "launch", "--workers", "2", "--start-timeout", "1", "--",
         "--epochs", "1", "--resize", "32", "--limit-train", "64", "--out", str(out), "--no-progress"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("gluon-googlenet launch: error: 0 of 2 workers started within 1 s "
                                     "(--start-timeout)") and result.stderr.count("\n") == 1, result.stderr
    assert subprocess.run(["pgrep", "-f", str(out)], capture_output=True, text=True).stdout.strip() == ""


@pytest.mark.slow
def test_two_local_workers_train_one_net_written_once(fashion_dir, tmp_path):
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "gluon_googlenet", "launch", "--workers", "2", "--servers", "1",
         "--timeout", "240", "--", "--epochs", "2", "--resize", "32", "--limit-train", "256",
         "--limit-test", "64", "--batch-size", "32", "--out", str(out), "--no-progress",
         "--data-dir", fashion_dir], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    logs = sorted(os.listdir(out / "logs"))
    assert logs == ["scheduler-0@127.0.0.1.log", "server-0@127.0.0.1.log", "worker-0@127.0.0.1.log",
                    "worker-1@127.0.0.1.log"]
    text = "".join((out / "logs" / name).read_text() for name in logs)
    assert "joined the run as worker 0 of 2" in text and "joined the run as worker 1 of 2" in text
    assert text.count("128 train") == 2  # each worker trains on its half of the 256 images
    assert text.count("exported") == 1  # one worker writes the run folder
    meta, weights, _, _ = read_checkpoint(str(out / "last.ckpt"))
    assert meta["epoch"] == 2 and not os.path.exists(out / "worker0")
    # the workers trained: nearly every weight array left the common Xavier start, by a real step
    from gluon_googlenet import get_model

    import mxnet as mx
    start = get_model("googlenet_d2l")
    mx.random.seed(0)
    start.initialize(mx.init.Xavier())
    start.save_parameters(str(tmp_path / "start.params"))  # structural names, as checkpoints hold
    initial = {k: v.asnumpy() for k, v in mx.nd.load(str(tmp_path / "start.params")).items()}
    assert initial.keys() == weights.keys()
    changed = [k for k in weights if not np.array_equal(weights[k].asnumpy(), initial[k])]
    assert len(changed) >= 0.9 * len(weights)
    assert meta["history"][1]["train_loss"] < meta["history"][0]["train_loss"]
    leftovers = subprocess.run(["pgrep", "-f", str(out)], capture_output=True, text=True).stdout
    assert leftovers.strip() == ""


def test_the_relaunch_line_keeps_every_launch_setting_and_adds_resume():
    from gluon_googlenet.cli.commands import relaunch_command
    from gluon_googlenet.cli.parser import build_parser
    args = build_parser().parse_args(["launch", "--launcher", "ssh", "-H", "my hosts", "--workers", "4",
                                      "--gpus-per-worker", "2", "--port", "9100", "--", "--out", "it's here"])
    train_args = args.train_args[1:]
    line = relaunch_command(args, train_args)
    assert shlex.split(line) == ["gluon-googlenet", "launch", "--launcher", "ssh", "--workers", "4", "--servers", "1",
                                 "-H", "my hosts", "--port", "9100", "--gpus-per-worker", "2", "--",
                                 "--out", "it's here", "--resume"]
    args = build_parser().parse_args(["launch", "--", "--epochs", "1", "--resume"])
    assert "--gpus-per-worker" not in relaunch_command(args, args.train_args[1:]).split()
