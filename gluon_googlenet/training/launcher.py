"""Distributed training on several hosts: ``launch`` starts ps-lite's scheduler, servers and
workers through MXNet's own launcher (``dmlc_tracker``: local, ssh or mpi, through dmlc_shim)
and supervises them: one log per process, and every process stopped when one fails, a host
cannot be reached, the run hangs or the launcher is stopped.

Each process runs ``role.py`` (the role's program as a child that never outlives it) with this
venv's Python by absolute path. ps-lite has no authentication: its processes bind to the
addresses named here (the scheduler to ``scheduler_host``, the others to their host file
address, or ``DMLC_INTERFACE``'s), never to every interface, and belong on a private network.
"""
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import namedtuple

from ..base.errors import ConfigError, GluonGoogLeNetError, Stopped
from .dmlc_shim import patched_tracker
from .role import signal_group

LAUNCHERS = ("local", "ssh", "mpi")
# variables every process gets as the launcher has them: threads, interface, ps-lite and ours
FORWARDED = re.compile(r"^(OMP_NUM_THREADS|DMLC_INTERFACE|PS_[A-Z_]+|MXNET_[A-Z_]+|DNNL_[A-Z_]+|"
                       r"GLUON_GOOGLENET_[A-Z_]+)$")
_SAFE_WORD = re.compile(r"^[A-Za-z0-9_./:=,@+%-]+$")
STOP_GRACE = 10  # seconds between SIGTERM and SIGKILL when stopping the processes
Host = namedtuple("Host", "address port")
Process = namedtuple("Process", "name role popen log")


class LaunchError(GluonGoogLeNetError):
    """A process of a distributed run failed, hung or could not be started; all were stopped."""


def read_hosts(path):
    """Hosts of a host file: one ``host[:port]`` per line (port: ssh's, default 22); blank
    lines and ``#`` comments are skipped. ConfigError, one line, for a missing or bad file."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as err:
        raise ConfigError(f"host file {path}: {err.strerror}") from None
    hosts = []
    for number, line in enumerate(lines, 1):
        text = line.split("#")[0].strip()
        if not text:
            continue
        address, _, port = text.partition(":")
        if not address or (port and not port.isdigit()) or " " in text:
            raise ConfigError(f"host file {path}, line {number}: {line.strip()!r} is not host[:port]")
        hosts.append(Host(address, int(port or 22)))
    if not hosts:
        raise ConfigError(f"host file {path} names no host")
    return hosts


def address_toward(host):
    """This machine's address on the route to ``host`` (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((host, 9))
        except OSError as err:
            raise ConfigError(f"no route to {host} ({err.strerror}); give --scheduler-host") from None
        return sock.getsockname()[0]


def free_port(host="127.0.0.1"):
    """A TCP port on ``host`` that nothing listens on right now."""
    try:
        with socket.socket() as sock:
            sock.bind((host, 0))
            return sock.getsockname()[1]
    except OSError as err:
        raise ConfigError(f"--scheduler-host {host} is not an address of this machine ({err.strerror})") from None


def quote(word):
    """``word`` for the command line the submitters pass through bash (and ssh's single quotes)."""
    if _SAFE_WORD.match(word):
        return word
    if "'" in word:
        raise ConfigError(f"launch: arguments cannot contain a single quote (ssh carries them in one): {word!r}")
    return '"' + re.sub(r'([\\"$`])', r"\\\1", word) + '"'


def role_command(train_args, launcher, scheduler_host, env=None):
    """The command every process runs (its role comes from DMLC_ROLE): role.py under this venv's
    Python by absolute path, the forwarded variables set in front."""
    env = os.environ if env is None else env
    settings = {k: v for k, v in sorted(env.items()) if FORWARDED.match(k)}
    settings.setdefault("OMP_NUM_THREADS", "1")
    if launcher == "local":  # on ssh the submitter sets each host's address; on mpi, DMLC_INTERFACE's
        settings["DMLC_NODE_HOST"] = scheduler_host
        if scheduler_host.startswith("127."):
            settings["DMLC_INTERFACE"] = "lo"
    watch = ["--watch-stdin"] if launcher != "mpi" else []  # mpirun keeps stdin for rank 0 only
    words = ["env", *(f"{k}={v}" for k, v in settings.items()), sys.executable, "-m",
             "gluon_googlenet.training.role", *watch, *train_args]
    return [quote(w) for w in words]


class Supervisor:
    """The processes dmlc_tracker starts (through ``spawn``), each logged to ``log_dir`` as
    ``ROLE-INDEX@HOST.log``, watched until the workers are done or one process fails."""

    def __init__(self, log_dir, scheduler_host, workers):
        self.log_dir, self.scheduler_host, self.workers = log_dir, scheduler_host, workers
        self.processes, self.stopping = [], threading.Event()
        self._lock = threading.Lock()
        os.makedirs(log_dir, exist_ok=True)

    def spawn(self, command, env):
        """Start ``command`` (a shell line) with ``env``, log it, wait for it; return its code."""
        role, host = self._identify(command, env)
        with self._lock:
            if self.stopping.is_set():
                return 0
            index = sum(p.role == role for p in self.processes)
            name = f"{role}@{host}" if host == "mpirun" else f"{role}-{index}@{host}"
            log = os.path.join(self.log_dir, f"{name}.log")
            with open(log, "ab") as out:
                popen = subprocess.Popen(command, shell=True, executable="/bin/bash", env=env,
                                         stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            self.processes.append(Process(name, role, popen, log))
        return popen.wait()

    def _identify(self, command, env):
        """(role, host) of a process the tracker starts: the scheduler and local roles by their
        environment, ssh's by the variables in its command line, mpirun's as a whole."""
        role = (env or {}).get("DMLC_ROLE") or _exported(command, "DMLC_ROLE") or "process"
        if command.startswith("mpirun "):
            return role + "s", "mpirun"
        host = _exported(command, "DMLC_NODE_HOST") if command.startswith("ssh ") else self.scheduler_host
        return role, host or self.scheduler_host

    def failure(self):
        """The first process that ended with a non-zero code, or None."""
        ended = [p for p in self.processes if p.popen.poll() not in (None, 0)]
        return ended[0] if ended else None

    def workers_done(self):
        """True when every worker process (or the workers' mpirun) ended with code 0."""
        workers = [p for p in self.processes if p.role.startswith("worker")]
        expected = 1 if any(p.role == "workers" for p in workers) else self.workers
        return len(workers) >= expected and all(p.popen.poll() == 0 for p in workers)

    def workers_started(self):
        """How many workers have logged their start line (they start after ps-lite connected all)."""
        ranks = set()
        for p in self.processes:
            if p.role.startswith("worker") and os.path.exists(p.log):
                with open(p.log, encoding="utf-8", errors="replace") as handle:
                    ranks.update(re.findall(r"worker (\d+) of \d+", handle.read()))
        return len(ranks)

    def stop_all(self, grace=STOP_GRACE):
        """SIGTERM every process group still running, SIGKILL what is left after ``grace`` s.
        A remote role stops when its ssh client goes (role.py); mpirun stops its ranks."""
        self.stopping.set()
        with self._lock:
            running = [p for p in self.processes if p.popen.poll() is None]
        for p in running:
            signal_group(p.popen.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in running:
            try:
                p.popen.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                signal_group(p.popen.pid, signal.SIGKILL)
                p.popen.wait()


def _exported(command, name):
    found = re.search(rf"\b{name}=([^;\s'\"]+)", command)
    return found.group(1) if found else None


def describe_exit(code):
    """What an exit code says: a signal's name, ssh's failure, or the code."""
    if code == 255:
        return "code 255 (ssh could not reach the host or log in)"
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        try:
            return f"code {code} ({signal.Signals(number).name})"
        except ValueError:
            pass
    return f"code {code}"


def _tracker_args(launcher, command, workers, servers, hostfile):
    """dmlc_tracker's own options (opts.get_opts) for this launch."""
    from dmlc_tracker import opts
    argv = ["--cluster", launcher, "--num-workers", str(workers), "--num-servers", str(servers)]
    if hostfile:
        argv += ["--host-file", hostfile]
    return opts.get_opts(argv + ["--"] + command)


def submitter_hostfile(launcher, hosts, slots, log_dir):
    """The hosts as the submitter reads them (ssh: ``host:port``; mpi: Open MPI's ``host slots=N``,
    ``slots`` processes per host), written beside the logs: dmlc's own reader takes no comments."""
    if launcher == "mpi" and any(h.port != 22 for h in hosts):
        raise ConfigError("--launcher mpi reaches hosts through Open MPI's ssh: a host file port is for "
                          "--launcher ssh (set ssh's port in ~/.ssh/config)")
    path = os.path.join(log_dir, f"hostfile.{launcher}")
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(f"{h.address} slots={slots}\n" if launcher == "mpi" else f"{h.address}:{h.port}\n"
                          for h in hosts)
    return path


def launch(train_args, log_dir, launcher="local", hostfile=None, workers=2, servers=1,  # noqa: PLR0913
           scheduler_host=None, port=None, timeout=3600, start_timeout=300):
    """Train with ``gluon-googlenet train TRAIN_ARGS --kvstore dist_sync`` on ``workers`` worker
    and ``servers`` server processes started by dmlc_tracker's ``launcher`` submitter over the
    hosts of ``hostfile`` (ssh, mpi), with the scheduler on this machine at ``scheduler_host``.

    Returns when every worker ended with code 0. LaunchError (one line naming the host, role and
    log of the first failure) after stopping every process when one ends otherwise, when not
    every worker has started within ``start_timeout`` s, or when the run takes more than
    ``timeout`` s; Stopped when this process gets SIGTERM or SIGINT.
    """
    if launcher not in LAUNCHERS:
        raise ConfigError(f"--launcher must be one of {', '.join(LAUNCHERS)}, got {launcher!r}")
    if workers < 1 or servers < 1:
        raise ConfigError("--workers and --servers must be >= 1")
    if launcher != "local" and not hostfile:
        raise ConfigError(f"--launcher {launcher} needs a host file (-H HOSTFILE): one host[:port] per line")
    hosts = read_hosts(hostfile) if hostfile and launcher != "local" else []
    scheduler_host = scheduler_host or (address_toward(hosts[0].address) if hosts else "127.0.0.1")
    port = port or free_port(scheduler_host)
    args = list(train_args) + ([] if "--kvstore" in train_args else ["--kvstore", "dist_sync"])
    command = role_command(args, launcher, scheduler_host)
    supervisor = Supervisor(log_dir, scheduler_host, workers)
    if hosts:
        hostfile = submitter_hostfile(launcher, hosts, -(-max(workers, servers) // len(hosts)), log_dir)
    tracker_args = _tracker_args(launcher, command, workers, servers, hostfile)
    with _mpi_as_root(launcher), patched_tracker(supervisor.spawn, scheduler_host, port):
        from dmlc_tracker import local, mpi, ssh
        submit = {"local": local.submit, "ssh": ssh.submit, "mpi": mpi.submit}[launcher]
        threading.Thread(target=submit, args=(tracker_args,), daemon=True).start()
        _supervise(supervisor, timeout, start_timeout)


def _supervise(supervisor, timeout, start_timeout):
    """Wait for the workers; stop everything on a failure, a hang, the timeout or a signal."""
    stop = {}
    previous = {sig: signal.signal(sig, lambda number, frame: stop.setdefault("signal", number))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    start, problem, all_started = time.monotonic(), None, False
    try:
        while problem is None and not supervisor.workers_done():
            time.sleep(0.2)
            elapsed, failed = time.monotonic() - start, supervisor.failure()
            if not all_started and elapsed > start_timeout:  # the logs are read until every worker is in
                started = supervisor.workers_started()
                all_started = started >= supervisor.workers
            if "signal" in stop:
                problem = "signal"
            elif failed:
                where = failed.name.replace("@", " on ", 1)
                problem = f"{where} exited with {describe_exit(failed.popen.returncode)}; its log: {failed.log}"
            elif elapsed > start_timeout and not all_started:
                problem = (f"{started} of {supervisor.workers} workers started within {start_timeout} s "
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


@contextlib.contextmanager
def _mpi_as_root(launcher):
    """Open MPI refuses to run as root unless told twice; the launcher is root in containers."""
    keys = ("OMPI_ALLOW_RUN_AS_ROOT", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM")
    saved = {key: os.environ.get(key) for key in keys}
    if launcher == "mpi" and os.geteuid() == 0:
        os.environ.update(dict.fromkeys(keys, "1"))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
