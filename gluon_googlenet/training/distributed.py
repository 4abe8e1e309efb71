"""Multi-process training on MXNet's distributed kvstore (ps-lite ``dist_sync``), on one host.

``launch_local`` starts a scheduler, servers and workers as the DMLC_* variables say and
waits for the workers; on several machines the same variables are set by hand (README).
"""
import os
import signal
import socket
import subprocess
import sys
import time

from ..base.errors import ConfigError, GluonGoogLeNetError


def free_port(host="127.0.0.1"):
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def dmlc_env(role, workers, servers, host, port):
    """Environment of one ps-lite process."""
    env = dict(os.environ, DMLC_ROLE=role, DMLC_PS_ROOT_URI=host, DMLC_PS_ROOT_PORT=str(port),
               DMLC_NUM_WORKER=str(workers), DMLC_NUM_SERVER=str(servers), DMLC_NODE_HOST=host)
    if host.startswith("127."):
        env["DMLC_INTERFACE"] = "lo"
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def launch_local(train_args, workers=2, servers=1, host="127.0.0.1", port=None, timeout=3600):
    """Run ``gluon-googlenet train TRAIN_ARGS --kvstore dist_sync`` as ``workers`` processes
    with ``servers`` parameter servers and a scheduler on ``host``; return the exit code.

    Every process is stopped when the workers end, fail or run past ``timeout`` seconds.
    """
    if workers < 1 or servers < 1:
        raise ConfigError("--workers and --servers must be >= 1")
    port = port or free_port(host)
    args = list(train_args)
    if "--kvstore" not in args:
        args += ["--kvstore", "dist_sync"]
    serve = [sys.executable, "-c", "import mxnet"]  # importing MXNet in these roles serves
    procs = [subprocess.Popen(serve, env=dmlc_env("scheduler", workers, servers, host, port))]
    procs += [subprocess.Popen(serve, env=dmlc_env("server", workers, servers, host, port))
              for _ in range(servers)]
    worker_procs = [subprocess.Popen([sys.executable, "-m", "gluon_googlenet", "train", *args],
                                     env=dmlc_env("worker", workers, servers, host, port))
                    for _ in range(workers)]
    deadline = time.time() + timeout
    try:
        codes = []
        for proc in worker_procs:
            codes.append(proc.wait(timeout=max(1, deadline - time.time())))
    except subprocess.TimeoutExpired:
        raise GluonGoogLeNetError(f"distributed training ran past {timeout} s; all processes stopped") from None
    finally:
        for proc in worker_procs + procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in worker_procs + procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return max(codes, default=0)
