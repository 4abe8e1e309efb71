"""``launch``: distributed training on this machine or several hosts. ps-lite's scheduler, the
servers and the workers are started by this package (spawn.py: local children, ``ssh`` or
``mpirun``), each told its role and ps-lite's ``DMLC_*`` variables at its start, and supervised
(supervisor.py): one log per process, and every process stopped when one fails, a host cannot be
reached, the run hangs or the launcher is stopped.

ps-lite has no authentication: its processes bind to the addresses named here (the scheduler to
``scheduler_host``, the others to their host file address, or ``DMLC_INTERFACE``'s), never to
every interface, and belong on a private network.
"""
import signal
import time

from ...base.errors import ConfigError, GluonGoogLeNetError, Stopped
from .hosts import address_toward, mpi_hostfile, read_hosts, scheduler_port
from .spawn import LAUNCHERS, plan
from .supervisor import Supervisor, describe_exit


class LaunchError(GluonGoogLeNetError):
    """A process of a distributed run failed, hung or could not be started; all were stopped."""


def launch(train_args, log_dir, launcher="local", hostfile=None, workers=2, servers=1,  # noqa: PLR0913
           scheduler_host=None, port=None, timeout=3600, start_timeout=300, gpus_per_worker=1):
    """Train with ``gluon-googlenet train TRAIN_ARGS --kvstore dist_sync`` on ``workers`` worker
    and ``servers`` server processes started by ``launcher`` (local, ssh or mpi) over the hosts
    of ``hostfile``, with the scheduler on this machine at ``scheduler_host``:``port``; local
    worker k on a host trains on GPUs k*G .. k*G+G-1 under ``--ctx gpu`` (G ``gpus_per_worker``).

    Returns when every worker ended with code 0. LaunchError (one line naming the host, role and
    log of the first failure) after stopping every process when one ends otherwise, when not
    every worker has joined within ``start_timeout`` s, or when the run takes more than
    ``timeout`` s; Stopped when this process gets SIGTERM or SIGINT.
    """
    if launcher not in LAUNCHERS:
        raise ConfigError(f"--launcher must be one of {', '.join(LAUNCHERS)}, got {launcher!r}")
    if workers < 1 or servers < 1 or gpus_per_worker < 1:
        raise ConfigError("--workers, --servers and --gpus-per-worker must be >= 1")
    if launcher != "local" and not hostfile:
        raise ConfigError(f"--launcher {launcher} needs a host file (-H HOSTFILE): one host[:port] per line")
    hosts = read_hosts(hostfile) if launcher != "local" else []
    scheduler_host = scheduler_host or (address_toward(hosts[0].address) if hosts else "127.0.0.1")
    port = scheduler_port(scheduler_host, port)
    args = list(train_args) + ([] if "--kvstore" in train_args else ["--kvstore", "dist_sync"])
    supervisor = Supervisor(log_dir, workers)
    mpi_hosts = mpi_hostfile(hosts, -(-max(workers, servers) // len(hosts)), log_dir) if launcher == "mpi" else None
    spawns = plan(launcher, args, workers, servers, (scheduler_host, port), hosts, mpi_hosts, gpus_per_worker)
    _supervise(supervisor, spawns, timeout, start_timeout)


def _supervise(supervisor, spawns, timeout, start_timeout):
    """Start ``spawns``, wait for the workers; stop everything on a failure, a hang, the timeout
    or a signal."""
    stop = {}
    previous = {sig: signal.signal(sig, lambda number, frame: stop.setdefault("signal", number))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    start, problem, joined = time.monotonic(), None, 0
    try:
        for spawn in spawns:
            supervisor.start(spawn)
        while problem is None and not supervisor.workers_done():
            time.sleep(0.2)
            elapsed, failed = time.monotonic() - start, supervisor.failure()
            if joined < supervisor.workers and elapsed > start_timeout:  # logs are read until every worker is in
                joined = supervisor.workers_joined()
            if "signal" in stop:
                problem = "signal"
            elif failed:
                where = failed.name.replace("@", " on ", 1)
                problem = f"{where} exited with {describe_exit(failed.popen.returncode)}; its log: {failed.log}"
            elif elapsed > start_timeout and joined < supervisor.workers:
                problem = (f"{joined} of {supervisor.workers} workers started within {start_timeout} s "
                           f"(--start-timeout): a host or port is unreachable; logs in {supervisor.log_dir}")
            elif elapsed > timeout:
                problem = f"the run took more than {timeout} s (--timeout); logs in {supervisor.log_dir}"
    finally:
        supervisor.stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if problem == "signal":
        name = signal.Signals(stop["signal"]).name
        raise Stopped(f"stopped by {name}: every process was stopped; logs in {supervisor.log_dir}",
                      128 + stop["signal"])
    if problem:
        raise LaunchError(f"{problem}; every process was stopped")
