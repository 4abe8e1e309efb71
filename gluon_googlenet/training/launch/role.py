"""One process of a distributed run, as the launcher starts it on any host: the role's program
(``DMLC_ROLE``: scheduler and server serve ps-lite on ``import mxnet``; a worker trains) run as
a child that never outlives this process.

``python -m gluon_googlenet.training.launch.role [--watch-stdin] TRAIN ARGS``. With
``--watch-stdin`` the end of standard input (the launcher's pipe, or ssh's channel when the
launcher or its ssh client is gone) stops the child: SIGTERM, then SIGKILL after 5 s. SIGTERM,
SIGINT and SIGHUP to this process do the same. The exit code is the child's (128 + N for a
signal N, as a shell reports it).
"""
import os
import signal
import subprocess
import sys
import threading

GRACE_SECONDS = 5


def role_command(role, train_args):
    """The program of ``role``: ps-lite's scheduler and servers run inside ``import mxnet``."""
    if role in ("scheduler", "server"):
        # the package first: it gives numpy back the names MXNet reads (numpy 2) and sets the threads
        return [sys.executable, "-c", "import gluon_googlenet, mxnet", *train_args]  # the arguments name the run in ps
    if role == "worker":
        return [sys.executable, "-m", "gluon_googlenet", "train", *train_args]
    raise SystemExit(f"role: DMLC_ROLE must be scheduler, server or worker, got {role!r}")


class _Child:
    """The role's process in a session of its own, stopped at most once."""

    def __init__(self, command):
        self.proc = subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent)
        self._stopping = threading.Lock()

    def stop(self, why):
        if not self._stopping.acquire(blocking=False) or self.proc.poll() is not None:
            return
        signal_group(self.proc.pid, signal.SIGTERM)
        try:  # the launcher may be gone with the other end of stderr
            print(f"role: {why}; stopping {os.environ.get('DMLC_ROLE')} (pid {self.proc.pid})", file=sys.stderr,
                  flush=True)
        except OSError:
            pass
        try:
            self.proc.wait(GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            signal_group(self.proc.pid, signal.SIGKILL)


def _die_with_parent():
    """In the child, before exec: Linux sends it SIGKILL when this process dies, even by SIGKILL."""
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def signal_group(pid, sig):
    """Send ``sig`` to the process group ``pid`` leads, if it is still there."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _watch_stdin(child):
    """Stop ``child`` when standard input ends (its writer, local or across ssh, is gone)."""
    while os.read(sys.stdin.fileno(), 4096):
        pass
    child.stop("the launcher is gone (standard input closed)")


def main(argv=None):
    """Run the role DMLC_ROLE names with the train arguments ``argv``; return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    watch = "--watch-stdin" in argv[:1]
    train_args = argv[1:] if watch else argv
    child = _Child(role_command(os.environ.get("DMLC_ROLE", ""), train_args))
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda number, frame: child.stop(f"got {signal.Signals(number).name}"))
    if watch:
        threading.Thread(target=_watch_stdin, args=(child,), daemon=True).start()
    code = child.proc.wait()
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main())
