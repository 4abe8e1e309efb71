"""The launcher's own spawner: who runs where with which variables, the command lines (an
argument with a quote and a space survives ssh's remote shell), the joined line, a scheduler
port that cannot be bound, and the GPUs of each local worker (device queries replaced)."""
import json
import os
import shlex
import socket
import subprocess
import sys
import time

from gluon_googlenet.base.errors import ConfigError, ContextError
from gluon_googlenet.training.launch.hosts import Host, read_hosts, scheduler_port
from gluon_googlenet.training.launch.spawn import ROLE_MODULE, forwarded, plan, ssh_argv
from gluon_googlenet.training.launch.supervisor import Supervisor, describe_exit
from gluon_googlenet.training.workers.environment import worker_devices
from gluon_googlenet.training.workers.joined import joined_line, joined_ranks

import pytest

HOSTS = [Host("10.0.0.1", 22), Host("10.0.0.2", 2222)]


def _remote_words(spawn):
    """The words ssh's remote shell runs for ``spawn``: after ``exec``."""
    line = spawn.argv[-1]
    return shlex.split(line.split("; exec ", 1)[1])


def test_ssh_places_servers_then_workers_over_the_hosts_in_turn_with_their_variables():
    spawns = plan("ssh", ["--epochs", "1"], workers=3, servers=2, scheduler=("10.0.0.9", 9123), hosts=HOSTS,
                  env={"OMP_NUM_THREADS": "2", "HOME": "/root", "GLUON_GOOGLENET_LOCAL_RANK": "7"})
    assert [s.name for s in spawns] == ["scheduler-0@10.0.0.9", "server-0@10.0.0.1", "server-1@10.0.0.2",
                                        "worker-0@10.0.0.1", "worker-1@10.0.0.2", "worker-2@10.0.0.1"]
    scheduler = spawns[0]
    assert scheduler.argv[:3] == [sys.executable, "-m", ROLE_MODULE] and os.path.isabs(sys.executable)
    assert {k: scheduler.env[k] for k in ("DMLC_ROLE", "DMLC_PS_ROOT_URI", "DMLC_PS_ROOT_PORT", "DMLC_NUM_WORKER",
                                          "DMLC_NUM_SERVER")} == {
        "DMLC_ROLE": "scheduler", "DMLC_PS_ROOT_URI": "10.0.0.9", "DMLC_PS_ROOT_PORT": "9123",
        "DMLC_NUM_WORKER": "3", "DMLC_NUM_SERVER": "2"}
    ranks = []
    for spawn, host in zip(spawns[1:], [HOSTS[0], HOSTS[1], HOSTS[0], HOSTS[1], HOSTS[0]]):
        assert spawn.argv[0] == "ssh" and spawn.argv[-2] == host.address
        assert spawn.argv[spawn.argv.index("-p") + 1] == str(host.port)
        assert "BatchMode=yes" in spawn.argv and "StrictHostKeyChecking=no" in spawn.argv and spawn.env == {}
        words = _remote_words(spawn)
        variables = dict(w.split("=", 1) for w in words[1:words.index(sys.executable)])
        assert words[0] == "env" and variables["DMLC_ROLE"] == spawn.role
        assert variables["DMLC_NODE_HOST"] == host.address and variables["DMLC_PS_ROOT_URI"] == "10.0.0.9"
        assert variables["OMP_NUM_THREADS"] == "2" and "HOME" not in variables
        assert words[words.index(sys.executable):] == [sys.executable, "-m", ROLE_MODULE, "--watch-stdin",
                                                       "--epochs", "1"]
        ranks.append(variables.get("GLUON_GOOGLENET_LOCAL_RANK"))
    assert ranks == [None, None, "0", "0", "1"]  # the launcher's own value is never forwarded


def test_local_processes_get_their_variables_and_mpi_one_mpirun_per_role(tmp_path):
    local = plan("local", [], workers=2, servers=1, scheduler=("127.0.0.1", 9000), env={})
    assert [s.name for s in local] == ["scheduler-0@127.0.0.1", "server-0@127.0.0.1", "worker-0@127.0.0.1",
                                       "worker-1@127.0.0.1"]
    assert all(s.env["DMLC_INTERFACE"] == "lo" and s.env["DMLC_NODE_HOST"] == "127.0.0.1" for s in local)
    assert [s.env.get("GLUON_GOOGLENET_LOCAL_RANK") for s in local] == [None, None, "0", "1"]
    assert forwarded({})["OMP_NUM_THREADS"] == "1"
    mpi = plan("mpi", ["--out", "a b"], workers=2, servers=2, scheduler=("10.0.0.9", 9001), hosts=HOSTS,
               mpi_hostfile="/x/hostfile.mpi", env={"DMLC_INTERFACE": "eth1"})
    assert [s.name for s in mpi] == ["scheduler-0@10.0.0.9", "workers@mpirun", "servers@mpirun"]
    workers = mpi[1].argv
    assert workers[:5] == ["mpirun", "-n", "2", "--hostfile", "/x/hostfile.mpi"]
    exported = [workers[i + 1] for i, w in enumerate(workers) if w == "-x"]
    assert "DMLC_ROLE=worker" in exported and "DMLC_INTERFACE=eth1" in exported and "DMLC_PS_ROOT_PORT=9001" in exported
    assert not any(e.startswith("DMLC_NODE_HOST=") for e in exported)  # each rank's host: DMLC_INTERFACE's
    assert workers[-5:] == [sys.executable, "-m", ROLE_MODULE, "--out", "a b"]  # no shell, no stdin watch


def test_any_argument_survives_the_remote_shell():
    """What sshd does with the remote line: the user's shell runs it with -c."""
    tricky = ["it's", 'a "quoted" word', "$HOME and `date`", "back\\slash", "new\nline", ""]
    spawn = plan("ssh", tricky, workers=1, servers=1, scheduler=("10.0.0.9", 1), hosts=HOSTS[:1], env={})[-1]
    printer = [sys.executable, "-c", "import json, os, sys; print(json.dumps([os.getcwd(), sys.argv[1:]]))"]
    line = ssh_argv(HOSTS[0], {"X": "1 2"}, [*printer, *tricky])[-1]
    cwd, argv = json.loads(subprocess.run(["bash", "-c", line], capture_output=True, text=True, check=True).stdout)
    assert argv == tricky and cwd == os.getcwd()
    assert _remote_words(spawn)[-len(tricky):] == tricky


def test_the_joined_line_is_read_back_from_a_log():
    text = f"loading...\n{joined_line(1, 2)}\nepoch 1\n{joined_line(0, 2)}\nworker 5 of 9\n"
    assert joined_ranks(text) == {0, 1} and joined_ranks("worker 1 of 2") == set()


def test_processes_are_logged_by_name_and_their_exits_described(tmp_path):
    from gluon_googlenet.training.launch.spawn import Spawn
    supervisor = Supervisor(str(tmp_path), 1)
    supervisor.start(Spawn("worker-0@10.0.0.1", "worker", "10.0.0.1", ["sh", "-c", "echo hi; exit 3"], {}))
    supervisor.processes[0].popen.wait(10)
    failed = supervisor.failure()
    assert failed.name == "worker-0@10.0.0.1" and failed.popen.returncode == 3
    assert open(failed.log).read() == "hi\n" and failed.log == str(tmp_path / "worker-0@10.0.0.1.log")
    assert not supervisor.workers_done() and supervisor.workers_joined() == 0
    assert describe_exit(137) == "code 137 (SIGKILL)" and describe_exit(-15) == "code -15 (SIGTERM)"
    assert describe_exit(255).startswith("code 255 (ssh could not reach")


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


def test_a_scheduler_port_in_use_is_one_line_at_once(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port} \\(--port\\)"):
            scheduler_port("127.0.0.1", port)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "gluon_googlenet", "launch", "--port", str(port), "--",
                                 "--epochs", "1", "--out", str(tmp_path / "run")],
                                capture_output=True, text=True, timeout=120)
        took = time.monotonic() - started
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr == (f"gluon-googlenet launch: error: the scheduler cannot listen on 127.0.0.1:{port} "
                             "(--port): Address already in use\n")
    assert took < 30 and not (tmp_path / "run").exists()
    assert scheduler_port("127.0.0.1") > 0


@pytest.mark.parametrize("spec, env, expected", [
    ("gpu", {"GLUON_GOOGLENET_LOCAL_RANK": "1"}, "gpu:1"),
    ("gpu", {"GLUON_GOOGLENET_LOCAL_RANK": "1", "GLUON_GOOGLENET_GPUS_PER_WORKER": "2"}, "gpu:2,3"),
    ("gpu:4,5,6,7", {"OMPI_COMM_WORLD_LOCAL_RANK": "1", "GLUON_GOOGLENET_GPUS_PER_WORKER": "2"}, "gpu:6,7"),
    ("gpu", {}, "gpu"), ("cpu", {"GLUON_GOOGLENET_LOCAL_RANK": "1"}, "cpu"),
])
def test_each_local_worker_takes_its_own_gpus(spec, env, expected):
    assert worker_devices(spec, env) == expected


def test_too_few_listed_gpus_for_a_worker_is_one_line():
    with pytest.raises(ContextError, match="--ctx gpu:0,1 lists 2 GPU\\(s\\): too few for local worker 2"):
        worker_devices("gpu:0,1", {"GLUON_GOOGLENET_LOCAL_RANK": "2"})


def test_a_launched_workers_run_trains_on_its_gpus(monkeypatch, tmp_path):
    """resolve_run of worker 1 of a host, 2 GPUs each, 4 GPUs seen: gpu(2), gpu(3) (the device
    queries replaced: no GPU here). One process (no kvstore) keeps --ctx gpu as gpu(0)."""
    from gluon_googlenet.base import context
    from gluon_googlenet.training.run.config import TrainConfig
    from gluon_googlenet.training.run.resolve import resolve_run

    import mxnet as mx
    monkeypatch.setattr(mx.context, "num_gpus", lambda: 4)
    monkeypatch.setattr(context, "gpu_capability", lambda index: 86)
    monkeypatch.setenv("GLUON_GOOGLENET_LOCAL_RANK", "1")
    monkeypatch.setenv("GLUON_GOOGLENET_GPUS_PER_WORKER", "2")

    class Kv:
        rank, num_workers = 3, 4
    config = TrainConfig(ctx="gpu", out=str(tmp_path / "run"))
    assert resolve_run(config, kv=Kv()).ctxs == (mx.gpu(2), mx.gpu(3))
    assert resolve_run(config).ctxs == (mx.gpu(0),)
