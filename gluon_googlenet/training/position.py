"""Where a run is, in one object: ``RunPosition`` owns the epoch, the batches done of it, that
epoch's running totals, the history and the sampler whose order those batches index.

``state_dict()`` is what a checkpoint's metadata keeps (``epoch``, ``batch``, ``epoch_totals``,
``history``) and ``load_state_dict()`` takes it back. Random draws need no saved state: every batch is seeded
from (seed, epoch, batch) (sampling.batch_seed), and the order of an epoch from (seed, epoch).
"""
from .data.sampling import seed_batch
from .loop import EpochTotals


class RunPosition:
    """The run's position over ``sampler`` (an EpochSampler of batches of ``batch_size``); the
    running totals are summed on ``home`` (a context); ``seed`` seeds each batch."""

    def __init__(self, sampler, batch_size, home, seed=0):
        self.sampler, self.batch_size, self.home, self.seed = sampler, batch_size, home, seed
        self.epoch, self.batch, self.history, self.totals = 0, 0, [], None
        self._saved_totals = None

    @property
    def epoch_batches(self):
        """Batches in a whole epoch (the last one may be smaller)."""
        return -(-self.sampler.length // self.batch_size)

    def state_dict(self):
        """Epochs done, batches done of the next epoch, their totals, the history (JSON-able)."""
        totals = self.totals.state() if self.batch and self.totals is not None else None
        return {"epoch": self.epoch, "batch": self.batch, "epoch_totals": totals, "history": list(self.history)}

    def load_state_dict(self, state):
        """Go on from a checkpoint's ``state_dict()``."""
        self.epoch, self.batch, self.history = state["epoch"], state["batch"], list(state["history"])
        self._saved_totals = state.get("epoch_totals") if self.batch else None

    def begin_epoch(self, desc):
        """Set the sampler to this epoch's order, less the batches already done; return the
        epoch's EpochTotals (going on from the checkpoint's, mid-epoch)."""
        self.sampler.epoch, self.sampler.skip = self.epoch, self.batch * self.batch_size
        self.totals = EpochTotals(self.home, desc, self._saved_totals)
        self._saved_totals = None
        return self.totals

    def before_batch(self, step):
        """Batch ``step`` (1-based in the epoch) is next: seed every generator for it."""
        seed_batch(self.seed, self.epoch, step)

    def after_batch(self, step):
        """Batch ``step`` (1-based in the epoch) is done."""
        self.batch = step

    def end_epoch(self, record):
        """The epoch is trained and tested: ``record`` joins the history, the next epoch is next."""
        self.history.append(record)
        self.epoch, self.batch, self.totals, self.sampler.skip = self.epoch + 1, 0, None, 0
