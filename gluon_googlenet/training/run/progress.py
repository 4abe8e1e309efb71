"""Training progress: a tqdm bar on a terminal, a few plain lines elsewhere, live curves in
Jupyter, and the run's ETA.

Piped, under CI or nohup, a bar's every refresh would land in the log; there the epoch is
reported at its quarter marks instead. In a Jupyter kernel the same marks and each epoch's
test accuracy redraw one figure in place (live.LivePlot). In every mode, once the first
batches of a run are timed, one line estimates when the whole run will finish.
"""
import logging
import math
import sys
import time
from contextlib import contextmanager

from tqdm import tqdm

from .live import LivePlot, in_jupyter

log = logging.getLogger("gluon_googlenet.train")

ETA_AFTER = 20     # batches timed before the run's finish time is estimated
WARMUP = 3         # first batches left out of that estimate (graph build, memory allocation)
LINES_PER_EPOCH = 4
EVAL_COST = 1 / 3  # a test batch costs about a third of a training step (forward only)


@contextmanager
def run_output(verbose, to_stdout=False):
    """While a run trains, its lines (start, estimate, one per epoch) go to stdout as the command
    line prints them, unless the caller has configured logging (a handler on the root or the
    package's logger): then they go where the caller said, once. ``to_stdout``: to stdout even
    then (the command line). ``verbose`` 0: warnings only."""
    logger = logging.getLogger("gluon_googlenet")
    saved = logger.level, logger.propagate
    handler = None
    if verbose == 0:
        logger.setLevel(logging.WARNING)
    elif to_stdout or not (logger.handlers or logging.getLogger().handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # once, even after MXNet's AMP adds a root handler mid-run
    try:
        yield
    finally:
        if handler is not None:
            logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def progress_mode(enabled, stream=None):
    """'notebook' in a Jupyter kernel, else 'bar' when ``stream`` (default stderr) is a terminal,
    'lines' when it is not; 'off' when not ``enabled``."""
    if not enabled:
        return "off"
    if stream is None and in_jupyter():
        return "notebook"
    stream = stream or sys.stderr
    return "bar" if getattr(stream, "isatty", lambda: False)() else "lines"


def format_duration(seconds):
    """'45 s', '7 min 05 s', '1 h 02 min'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class RunProgress:
    """Reports the epochs of one run: ``start(desc)``, ``step(done, **stats)`` per batch, ``stop()``
    and ``tested(record)`` after each epoch's test.

    epochs: epochs this process will train; batches / test_batches: per epoch; mode: as
    progress_mode(); history: the epochs done before (a resumed run's). The finish-time line
    is logged in every mode, 'off' included.
    """

    def __init__(self, epochs, batches, test_batches, mode, history=()):
        self.epochs_left, self.batches, self.test_batches, self.mode = epochs, batches, test_batches, mode
        self.estimated = False
        self.bar = None
        self.live = LivePlot(len(history) + epochs, history) if mode == "notebook" else None

    def start(self, desc, done=0, examples=0):
        """An epoch begins, or goes on after ``done`` batches of ``examples`` (a resumed run's)."""
        self.desc, self.first, self.started, self.times = desc, done, time.perf_counter(), []
        self._examples_before = examples
        last = LINES_PER_EPOCH + 1 if self.live else LINES_PER_EPOCH  # the plot also gets the epoch's end
        self.marks = {math.ceil(self.batches * k / LINES_PER_EPOCH) for k in range(1, last)}
        if self.mode == "bar":
            self.bar = tqdm(total=self.batches, initial=done, desc=desc, unit="batch", leave=False,
                            dynamic_ncols=True)

    def step(self, done, examples, loss, acc):
        """Batch ``done`` (1-based in the epoch) finished; ``examples`` of the epoch so far; running
        ``loss`` and ``acc``. Rates and the finish time count the batches timed in this process."""
        now = time.perf_counter()
        if not self.estimated:
            self.times.append(now)
            if len(self.times) == min(ETA_AFTER, self.batches - self.first):
                self._estimate(done)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4f}", acc=f"{acc:.3f}", refresh=False)
        elif self.live is not None and done in self.marks:
            self.live.add_train(done / self.batches, loss, acc)
        elif self.mode == "lines" and done in self.marks:
            elapsed = now - self.started
            left = elapsed / (done - self.first) * (self.batches - done)
            log.info("  %s: %d/%d batches, loss %.4f, acc %.3f, %.1f examples/sec, %s left in the epoch",
                     self.desc, done, self.batches, loss, acc, (examples - self._examples_before) / elapsed,
                     format_duration(left))

    def stop(self):
        """Close the epoch's progress bar, if there is one."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.epochs_left -= 1

    def tested(self, record):
        """An epoch's history record (with its 'test_acc'), once the epoch is tested."""
        if self.live is not None:
            self.live.add_test(record["test_acc"])

    def _estimate(self, done):
        """Log the whole run's expected remaining time from the batches timed so far in this process
        (the first WARMUP of them left out where there are more)."""
        self.estimated = True
        timed = len(self.times)
        skip = min(WARMUP, timed - 1)
        first = self.times[skip - 1] if skip else self.started
        per_batch = (self.times[-1] - first) / (timed - skip)
        train_left = (self.batches - done) + self.batches * (self.epochs_left - 1)
        seconds = per_batch * (train_left + EVAL_COST * self.test_batches * self.epochs_left)
        log.info("estimated time to finish: about %s (%d epoch(s) of %d batches at %.2f s/batch, "
                 "testing included)", format_duration(seconds), self.epochs_left, self.batches,
                 per_batch)
