"""The training loop's core, as d2l's ``train_ch6`` runs it: one epoch of training, one evaluation.

Each step: split the batch over the contexts, record the forward pass and the loss, backward,
``trainer.step``. The machinery around that (loss scaling, deferred reading of the running
totals, progress) sits in small named helpers. trainer.py runs epochs of these for a run; the
settings come from the resolved run (run.py).
"""
import math
import time
from collections import namedtuple

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from ..base.errors import ConfigError, DivergedError
from ..nn.staged import TrainOutputs
from .data.augment import augment_images
from .data.run_data import to_input
from .run.config import TEST_TIME


def split_batch(xb, yb, ctxs):
    """A batch split over ``ctxs`` (fewer when the batch is smaller): lists of images and labels."""
    ctxs = ctxs[:xb.shape[0]]
    return (gluon.utils.split_and_load(xb, ctxs, even_split=False),
            gluon.utils.split_and_load(yb, ctxs, even_split=False))


def compute_loss(loss_fn, output, label, aux_weight=0.3):
    """Per-example loss; for TrainOutputs: main loss + aux_weight x each auxiliary loss."""
    if isinstance(output, TrainOutputs):
        loss = loss_fn(output.main, label)
        for aux in output.aux:
            loss = loss + aux_weight * loss_fn(aux, label)
        return loss
    return loss_fn(output, label)


class SmoothedCrossEntropy(gluon.loss.Loss):
    """Softmax cross-entropy against targets 1 - ``smoothing`` on the label and ``smoothing`` spread
    evenly over all classes (label smoothing); per example, as Gluon's losses."""

    def __init__(self, smoothing, **kwargs):
        super().__init__(None, 0, **kwargs)
        self._smoothing = smoothing

    def hybrid_forward(self, F, pred, label):  # noqa: N803 (Gluon's name)
        """(1 - e) x the label's negative log-likelihood + e x the mean over classes of -log p."""
        logp = F.log_softmax(pred, axis=-1)
        nll = -F.pick(logp, label, axis=-1)
        return (1 - self._smoothing) * nll - self._smoothing * F.mean(logp, axis=-1)


def training_loss(smoothing=0.0):
    """The loss a run trains on: softmax cross-entropy, label-smoothed when ``smoothing`` > 0."""
    return SmoothedCrossEntropy(smoothing) if smoothing else gluon.loss.SoftmaxCrossEntropyLoss()


def main_output(output):
    """The main logits of a net's output (the aux heads' dropped)."""
    return output.main if isinstance(output, TrainOutputs) else output


EpochResult = namedtuple("EpochResult", "loss acc seen seconds batches stopped")
EpochResult.__doc__ = ("One epoch's (or, when ``stopped``, part of one's) mean loss, accuracy, examples, "
                       "seconds and batches, counting any done before a mid-epoch checkpoint.")


class EpochWatch:
    """What happens around each batch of ``train_epoch``; this one does nothing. The trainer's
    seeds each batch, reports progress, writes timed checkpoints and asks to stop on a signal."""
    desc = "the epoch"

    def before_batch(self, step):
        """Batch ``step`` (1-based in the epoch) is about to run."""

    def after_batch(self, step, totals):
        """Batch ``step`` ran (``totals``: the epoch's EpochTotals); True stops the epoch here."""
        return False


def train_epoch(net, trainer, loader, loss_fn, run, watch=None, totals=None):
    """One pass over ``loader``; returns an EpochResult.

    From ``run`` (a resolved Run): the contexts the batch is split over, the augmentation
    (config.augment), the input normalisation, the aux-loss weight, the worker count (on a distributed kvstore each step
    averages over the global batch, this batch x workers) and fp16's dynamic loss scaling.
    ``watch`` (an EpochWatch) is called around every batch and may stop the epoch early;
    ``totals`` (EpochTotals) carries the batches done before a mid-epoch checkpoint, and the
    loader then yields the rest. A NaN or infinite loss raises DivergedError naming the batch.
    """
    ctxs, config = run.ctxs, run.config
    watch = watch or EpochWatch()
    totals = totals or EpochTotals(ctxs[0], watch.desc)
    stopped = False
    for step, (xb, yb) in enumerate(loader, totals.batches + 1):
        watch.before_batch(step)
        if config.augment != "none":  # drawn after before_batch seeded this batch
            xb = mx.nd.array(augment_images(xb.asnumpy(), config.augment), dtype="uint8")
        xs, ys = split_batch(xb, yb, ctxs)
        xs = [to_input(x, *run.norm) for x in xs]
        with autograd.record():
            outs = [net(x) for x in xs]
            losses = [compute_loss(loss_fn, o, y, config.aux_weight) for o, y in zip(outs, ys)]
        _backward(losses, trainer, config.precision == "fp16")
        trainer.step(xb.shape[0] * run.workers)
        totals.add(step, xb.shape[0], losses, outs, ys)
        if watch.after_batch(step, totals):
            stopped = True
            break
    totals.settle()
    seen = max(totals.seen, 1)
    return EpochResult(totals.loss / seen, totals.correct / seen, totals.seen, totals.seconds, totals.batches,
                       stopped)


def _backward(losses, trainer, scale_loss):
    """Backward from the per-context losses; with ``scale_loss``, through AMP's loss scaler
    (which must see the losses inside a recording scope)."""
    if not scale_loss:
        autograd.backward(losses)
        return
    from mxnet.contrib import amp
    with autograd.record():
        with amp.scale_loss(losses, trainer) as scaled:
            autograd.backward(scaled)


class EpochTotals:
    """Sum of an epoch's losses and hits, read one batch late.

    A batch's loss and hits stay on the device until the next batch is queued, so reading
    them never stalls MXNet's engine; a NaN or infinite loss raises DivergedError at that read.
    ``state()`` (settled) is what a mid-epoch checkpoint keeps; ``EpochTotals(home, desc,
    state)`` goes on from it.
    """

    def __init__(self, home, desc, state=None):
        self.home, self.desc = home, desc
        state = state or {}
        self.loss, self.correct = state.get("loss", 0.0), state.get("correct", 0)
        self.seen, self.batches = state.get("seen", 0), state.get("batches", 0)
        self._counted, self._pending = self.seen, None
        self._seconds_before, self._since = state.get("seconds", 0.0), time.time()

    @property
    def seconds(self):
        """Training time of the epoch so far, before a mid-epoch checkpoint included."""
        return self._seconds_before + time.time() - self._since

    def add(self, step, size, losses, outs, ys):
        """Batch ``step`` of ``size`` images: its losses and hits, summed on the device."""
        batch_loss = mx.nd.add_n(*[loss.sum().as_in_context(self.home) for loss in losses])
        batch_correct = mx.nd.add_n(*[(main_output(o).argmax(axis=1) == y.astype("float32"))
                                      .sum().as_in_context(self.home) for o, y in zip(outs, ys)])
        self.settle()
        self._pending = (step, size, batch_loss, batch_correct)
        self.seen += size
        self.batches = step

    def settle(self):
        """Read the pending batch's totals (waits for it)."""
        if self._pending is None:
            return
        step, size, batch_loss, batch_correct = self._pending
        self._pending = None
        value = batch_loss.asscalar()
        if not math.isfinite(value):
            raise DivergedError(f"the loss became {value} at batch {step} of {self.desc}")
        self.loss += float(value)
        self.correct += int(batch_correct.asscalar())
        self._counted += size

    def running(self):
        """(mean loss, accuracy) over the batches read so far."""
        done = max(self._counted, 1)
        return self.loss / done, self.correct / done

    def state(self):
        """The settled sums as plain numbers (JSON)."""
        self.settle()
        return {"loss": self.loss, "correct": self.correct, "seen": self.seen, "batches": self.batches,
                "seconds": self.seconds}


TTA = tuple(t for t in TEST_TIME if t != "none")  # what evaluate(tta=...) takes besides None


def evaluate(net, loader, ctxs, num_classes, loss_fn=None, norm=(None, None), tta=None):
    """Accuracy, mean loss, confusion matrix (rows true, columns predicted) and the predicted
    class of every example, in loader order, over ``loader``. ``tta='flip'``: each image's
    logits averaged with its left-right mirror's (test-time augmentation)."""
    if tta not in (None, *TTA):
        raise ConfigError(f"unknown test-time augmentation {tta!r}; use one of: {', '.join(TTA)}")
    loss_fn = loss_fn or gluon.loss.SoftmaxCrossEntropyLoss()
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    loss_sum, predictions = 0.0, []
    for xb, yb in loader:
        xs, ys = split_batch(xb, yb, ctxs)
        outs = [_logits(net, to_input(x, *norm), tta) for x in xs]
        loss_sum += sum(float(loss_fn(o, y).sum().asscalar()) for o, y in zip(outs, ys))  # a Python float (NEP 50)
        preds = np.concatenate([o.argmax(axis=1).asnumpy().astype(np.int64) for o in outs])
        predictions.append(preds)
        np.add.at(confusion, (yb.asnumpy().astype(np.int64), preds), 1)
    total = int(confusion.sum())
    return {"acc": float(np.trace(confusion) / max(total, 1)),
            "loss": loss_sum / max(total, 1), "confusion": confusion, "count": total,
            "predictions": np.concatenate(predictions) if predictions else np.zeros(0, np.int64)}


def _logits(net, x, tta):
    """The net's logits for ``x``; with 'flip', averaged with those of the mirrored images."""
    if tta == "flip":
        return (net(x) + net(x.flip(axis=3))) / 2
    return net(x)
