"""Stopping a run cleanly: SIGTERM and SIGINT ask the trainer to stop after the current batch.

Schedulers (SLURM, Kubernetes, spot machines) send SIGTERM before they kill; Ctrl-C sends
SIGINT. While ``StopRequests`` is active both are only recorded; the trainer finishes the batch,
writes a checkpoint and raises ``Stopped`` (exit code 128 + the signal: 143, 130). A second
signal changes nothing, so the save it interrupts still completes (and is atomic anyway).
"""
import signal
import threading


class StopRequests:
    """A context manager recording SIGTERM and SIGINT (``signal``: the first one, or None).

    It also ignores SIGXFSZ, so a file growing past the process's size limit (RLIMIT_FSIZE)
    fails with an error the trainer reports instead of killing the process. Handlers can only
    be set in the main thread; elsewhere signals keep their usual effect.
    """
    HANDLED = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.signal, self._previous = None, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (*self.HANDLED, signal.SIGXFSZ):
                self._previous[sig] = signal.getsignal(sig)
            for sig in self.HANDLED:
                signal.signal(sig, self._record)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _record(self, signum, _frame):
        if self.signal is None:
            self.signal = signum

    @property
    def requested(self):
        """Whether a signal asked the run to stop."""
        return self.signal is not None

    @property
    def name(self):
        """The signal's name (SIGTERM, SIGINT)."""
        return signal.Signals(self.signal).name

    @property
    def exit_code(self):
        """128 + the signal, as a shell reports a process it stopped."""
        return 128 + self.signal
