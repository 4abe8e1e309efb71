"""The training loop's core, as d2l's ``train_ch6`` runs it: one epoch of training, one evaluation.

Each step: split the batch over the contexts, record the forward pass and the loss, backward,
``trainer.step``. The machinery around that (loss scaling, deferred reading of the running
totals, progress) sits in small named helpers. trainer.py runs epochs of these for a run; the
settings come from the resolved run (run.py).
"""
import math
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from ..base.errors import DivergedError
from ..nn.staged import TrainOutputs
from .data import to_input


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


def main_output(output):
    """The main logits of a net's output (the aux heads' dropped)."""
    return output.main if isinstance(output, TrainOutputs) else output


def train_epoch(net, trainer, loader, loss_fn, run, progress=None, desc="the epoch"):
    """One pass over ``loader``; returns (mean loss, accuracy, examples, seconds).

    From ``run`` (a resolved Run): the contexts the batch is split over, the input
    normalisation, the aux-loss weight, the worker count (on a distributed kvstore each step
    averages over the global batch, this batch x workers) and fp16's dynamic loss scaling.
    ``progress`` (a RunProgress) is told of every batch. A NaN or infinite loss raises
    DivergedError naming the batch.
    """
    ctxs, config = run.ctxs, run.config
    totals = _RunningTotals(ctxs[0], desc)
    start = time.time()
    for step, (xb, yb) in enumerate(loader, 1):
        xs, ys = split_batch(xb, yb, ctxs)
        xs = [to_input(x, *run.norm) for x in xs]
        with autograd.record():
            outs = [net(x) for x in xs]
            losses = [compute_loss(loss_fn, o, y, config.aux_weight) for o, y in zip(outs, ys)]
        _backward(losses, trainer, config.precision == "fp16")
        trainer.step(xb.shape[0] * run.workers)
        totals.add(step, xb.shape[0], losses, outs, ys)
        if progress is not None:
            progress.step(step, totals.seen, *totals.running())
    totals.settle()
    return totals.loss / max(totals.seen, 1), totals.correct / max(totals.seen, 1), totals.seen, \
        time.time() - start


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


class _RunningTotals:
    """Sum of losses and hits of an epoch, read one batch late.

    A batch's loss and hits stay on the device until the next batch is queued, so reading
    them never stalls MXNet's engine; a NaN or infinite loss raises DivergedError at that read.
    """

    def __init__(self, home, desc):
        self.home, self.desc = home, desc
        self.loss, self.correct, self.seen, self._counted, self._pending = 0.0, 0, 0, 0, None

    def add(self, step, size, losses, outs, ys):
        batch_loss = mx.nd.add_n(*[loss.sum().as_in_context(self.home) for loss in losses])
        batch_correct = mx.nd.add_n(*[(main_output(o).argmax(axis=1) == y.astype("float32"))
                                      .sum().as_in_context(self.home) for o, y in zip(outs, ys)])
        self.settle()
        self._pending = (step, size, batch_loss, batch_correct)
        self.seen += size

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


def evaluate(net, loader, ctxs, num_classes, loss_fn=None, norm=(None, None)):
    """Accuracy, mean loss, confusion matrix (rows true, columns predicted) and the predicted
    class of every example, in loader order, over ``loader``."""
    loss_fn = loss_fn or gluon.loss.SoftmaxCrossEntropyLoss()
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    loss_sum, predictions = 0.0, []
    for xb, yb in loader:
        xs, ys = split_batch(xb, yb, ctxs)
        outs = [net(to_input(x, *norm)) for x in xs]
        loss_sum += sum(loss_fn(o, y).sum().asscalar() for o, y in zip(outs, ys))
        preds = np.concatenate([o.argmax(axis=1).asnumpy().astype(np.int64) for o in outs])
        predictions.append(preds)
        np.add.at(confusion, (yb.asnumpy().astype(np.int64), preds), 1)
    total = int(confusion.sum())
    return {"acc": float(np.trace(confusion) / max(total, 1)),
            "loss": loss_sum / max(total, 1), "confusion": confusion, "count": total,
            "predictions": np.concatenate(predictions) if predictions else np.zeros(0, np.int64)}
