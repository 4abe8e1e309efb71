"""`launch` on this machine (dmlc_tracker's local submitter) and the parts of the launcher:
host files, the command every process runs, the compatibility shim around dmlc_tracker."""
import os
import subprocess
import sys
import threading

from gluon_googlenet.base.errors import ConfigError
from gluon_googlenet.training import dmlc_shim
from gluon_googlenet.training.checkpoint import read_checkpoint
from gluon_googlenet.training.launcher import Supervisor, describe_exit, quote, read_hosts, role_command

import numpy as np
import pytest


def test_host_files_take_host_and_port_and_say_what_is_wrong(tmp_path):
    good = tmp_path / "hosts"
    good.write_text("# the lab\n10.0.0.1\n\nnode-b:2222  # its sshd\n")
    assert [(h.address, h.port) for h in read_hosts(str(good))] == [("10.0.0.1", 22), ("node-b", 2222)]
    for text, message in (("", "names no host"), ("a:b\n", "line 1: 'a:b' is not host\\[:port\\]"),
                          ("a b\n", "is not host")):
        bad = tmp_path / "bad"
        bad.write_text(text)
        with pytest.raises(ConfigError, match=message):
            read_hosts(str(bad))
    with pytest.raises(ConfigError, match="host file .*nope: No such file"):
        read_hosts(str(tmp_path / "nope"))


def test_every_process_runs_this_venvs_python_with_the_forwarded_variables():
    env = {"OMP_NUM_THREADS": "4", "DMLC_INTERFACE": "eth1", "GLUON_GOOGLENET_X": "1", "HOME": "/root",
           "MXNET_HOME": "/data/mx", "PS_VERBOSE": "1"}
    words = role_command(["--out", "/runs/a b", "--epochs", "2"], "ssh", "10.0.0.1", env)
    assert words[:6] == ["env", "DMLC_INTERFACE=eth1", "GLUON_GOOGLENET_X=1", "MXNET_HOME=/data/mx",
                         "OMP_NUM_THREADS=4", "PS_VERBOSE=1"]
    assert words[6] == sys.executable and os.path.isabs(words[6])
    assert words[7:] == ["-m", "gluon_googlenet.training.role", "--watch-stdin", "--out", '"/runs/a b"',
                         "--epochs", "2"]
    local = role_command([], "local", "127.0.0.1", {})
    assert "DMLC_NODE_HOST=127.0.0.1" in local and "DMLC_INTERFACE=lo" in local and "OMP_NUM_THREADS=1" in local
    assert "--watch-stdin" not in role_command([], "mpi", "10.0.0.1", {})  # mpirun gives rank 0 stdin only
    assert quote('a"$b') == '"a\\"\\$b"'
    with pytest.raises(ConfigError, match="single quote"):
        quote("it's")


def test_the_shim_gives_the_tracker_what_python_3_took_away_and_puts_everything_back():
    from dmlc_tracker import local, ssh, tracker
    originals = (tracker.Thread, ssh.subprocess, local.subprocess, tracker.get_host_ip, tracker.PSTracker)
    started = []
    with dmlc_shim.patched_tracker(lambda command, env: started.append((command, env)) or 3, "10.1.2.3", 9123):
        thread = tracker.Thread(target=lambda: None)
        thread.setDaemon(True)
        thread.start()
        thread.join()
        assert thread.isAlive() is False  # the name tracker.submit calls; gone since Python 3.9
        assert tracker.get_host_ip("auto") == "10.1.2.3"
        # a failure is the supervisor's to handle: the submitter is told the process succeeded
        assert ssh.subprocess.check_call("ssh -o StrictHostKeyChecking=no h -p 22 'x'", shell=True) == 0
        tracker.PSTracker(hostIP="10.1.2.3", cmd="serve", envs={"DMLC_NUM_WORKER": 1}).thread.join()
    assert (tracker.Thread, ssh.subprocess, local.subprocess, tracker.get_host_ip, tracker.PSTracker) == originals
    assert started[0] == (f"ssh {dmlc_shim.SSH_OPTIONS} -o StrictHostKeyChecking=no h -p 22 'x'", None)
    command, env = started[1]
    assert command == "serve" and env["DMLC_ROLE"] == "scheduler" and env["DMLC_PS_ROOT_PORT"] == "9123"
    assert "BatchMode=yes" in dmlc_shim.SSH_OPTIONS and "ConnectTimeout=" in dmlc_shim.SSH_OPTIONS


def test_processes_are_named_by_role_and_host_as_the_submitters_start_them(tmp_path):
    supervisor = Supervisor(str(tmp_path), "10.0.0.1", 2)
    ssh_line = ("ssh -o BatchMode=yes node -p 22 'export DMLC_ROLE=worker; export DMLC_NODE_HOST=10.0.0.7; "
                "cd /w; env true'")
    assert supervisor._identify(ssh_line, None) == ("worker", "10.0.0.7")
    assert supervisor._identify("mpirun -n 2 -x DMLC_ROLE=server --hostfile h cmd", None) == ("servers", "mpirun")
    assert supervisor._identify("cmd", {"DMLC_ROLE": "scheduler"}) == ("scheduler", "10.0.0.1")
    done = threading.Event()
    threading.Thread(target=lambda: (supervisor.spawn("echo hi; exit 3", {"DMLC_ROLE": "worker", "PATH": "/bin"}),
                                     done.set())).start()
    assert done.wait(10)
    failed = supervisor.failure()
    assert failed.name == "worker-0@10.0.0.1" and failed.popen.returncode == 3
    assert open(failed.log).read() == "hi\n" and failed.log == str(tmp_path / "worker-0@10.0.0.1.log")
    assert describe_exit(137) == "code 137 (SIGKILL)" and describe_exit(-15) == "code -15 (SIGTERM)"
    assert describe_exit(255).startswith("code 255 (ssh could not reach")


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
    assert "worker 0 of 2" in text and "worker 1 of 2" in text
    assert text.count("128 train") == 2  # each worker trains on its half of the 256 images
    assert text.count("exported") == 1  # one worker writes the run folder
    meta, weights, _ = read_checkpoint(str(out / "last.ckpt"))
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
