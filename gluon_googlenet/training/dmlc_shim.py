"""The compatibility shim that lets this package drive ``dmlc_tracker``, the launcher MXNet 1.9.1's
wheel ships (its local, ssh and mpi submitters and its ps-lite tracker), on Python 3.9+ and
under a supervisor; nothing of the tracker is copied.

``patched_tracker`` changes, for the time it is active and in those modules only:

- ``Thread``: the tracker calls ``Thread.isAlive``, removed in Python 3.9 (dmlc-core fixed it
  upstream after the wheel was built);
- ``subprocess``: every process the tracker and the submitters start (the scheduler, ``ssh
  host '...'``, ``mpirun ...``, local roles) goes to ``spawn(command, env)``, which starts and
  watches it; ssh is made to fail rather than ask for a password or wait on a dead host;
- ``get_host_ip``: the scheduler's address is the one given (the tracker takes the address of
  the route toward 10.255.255.255);
- ``PSTracker``'s port: the one given.
"""
import contextlib
import functools
import subprocess
import threading
import types

SSH_OPTIONS = "-o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3"


class TrackerThread(threading.Thread):
    """threading.Thread with the Python 2 names the tracker and its submitters call."""

    def isAlive(self):  # noqa: N802 (the tracker's name)
        """Thread.is_alive under the name the tracker calls."""
        return self.is_alive()

    def setDaemon(self, daemonic):  # noqa: N802 (deprecated since 3.10: no warning)
        """Set ``daemon`` (Thread.setDaemon without its deprecation warning)."""
        self.daemon = daemonic


def with_ssh_options(command):
    """``command`` with SSH_OPTIONS after a leading ``ssh`` (the ssh submitter's form)."""
    return f"ssh {SSH_OPTIONS} {command[4:]}" if command.startswith("ssh ") else command


def _subprocess_for(spawn):
    """A stand-in for the ``subprocess`` module as the tracker uses it: check_call and call go to
    ``spawn`` and report success whatever the process's code, since a failure is the supervisor's
    to handle (the local submitter would retry it or raise in its thread, printing a traceback);
    Popen and PIPE are the real ones (mpi's ``mpirun --version``)."""
    def run(command, shell=False, env=None, **_ignored):
        text = command if isinstance(command, str) else " ".join(command)
        spawn(with_ssh_options(text), env)
        return 0
    return types.SimpleNamespace(check_call=run, call=run, Popen=subprocess.Popen, PIPE=subprocess.PIPE)


@contextlib.contextmanager
def patched_tracker(spawn, scheduler_host, port):
    """While active, dmlc_tracker starts its processes through ``spawn(command, env)``, puts
    the scheduler at ``scheduler_host``:``port`` and runs on this Python (module docstring)."""
    from dmlc_tracker import local, mpi, ssh, tracker
    saved = []

    def patch(module, name, value):
        saved.append((module, name, getattr(module, name)))
        setattr(module, name, value)

    stand_in = _subprocess_for(spawn)
    for module in (tracker, ssh, mpi, local):
        patch(module, "Thread", TrackerThread)
        patch(module, "subprocess", stand_in)
    patch(tracker, "get_host_ip", lambda host_ip=None: scheduler_host)
    patch(tracker, "PSTracker", functools.partial(tracker.PSTracker, port=port, port_end=port + 1))
    try:
        yield
    finally:
        for module, name, value in reversed(saved):
            setattr(module, name, value)
