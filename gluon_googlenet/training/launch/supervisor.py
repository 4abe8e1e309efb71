"""The processes of a distributed run, started from their Spawn and watched: one log per process
(``NAME.log``), the first failure, whether every worker has joined or ended well, and every
process stopped at the end."""
import os
import signal
import subprocess
import time
from collections import namedtuple

from ..workers.joined import joined_ranks
from .role import signal_group

STOP_GRACE = 10  # seconds between SIGTERM and SIGKILL when stopping the processes
Process = namedtuple("Process", "name role popen log")


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


class Supervisor:
    """The processes of one run, each logged to ``log_dir``, each in a session of its own."""

    def __init__(self, log_dir, workers):
        self.log_dir, self.workers, self.processes = log_dir, workers, []
        os.makedirs(log_dir, exist_ok=True)

    def start(self, spawn):
        """Start ``spawn`` (stdin a pipe: its end tells role.py the launcher is gone)."""
        log = os.path.join(self.log_dir, f"{spawn.name}.log")
        with open(log, "ab") as out:
            popen = subprocess.Popen(spawn.argv, env=dict(os.environ, **spawn.env), stdin=subprocess.PIPE,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(Process(spawn.name, spawn.role, popen, log))

    def failure(self):
        """The first process that ended with a non-zero code, or None."""
        ended = [p for p in self.processes if p.popen.poll() not in (None, 0)]
        return ended[0] if ended else None

    def _workers(self):
        return [p for p in self.processes if p.role in ("worker", "workers")]

    def workers_done(self):
        """True when every worker process (or the workers' mpirun) ended with code 0."""
        workers = self._workers()
        return bool(workers) and all(p.popen.poll() == 0 for p in workers)

    def workers_joined(self):
        """How many workers have printed their joined line (joined.py) in their logs."""
        ranks = set()
        for p in self._workers():
            with open(p.log, encoding="utf-8", errors="replace") as handle:
                ranks |= joined_ranks(handle.read())
        return len(ranks)

    def stop_all(self, grace=STOP_GRACE):
        """SIGTERM every process group still running, SIGKILL what is left after ``grace`` s.
        A remote role stops when its ssh client goes (role.py); mpirun stops its ranks."""
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
