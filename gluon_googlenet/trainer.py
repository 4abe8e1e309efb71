"""The one training loop: any registered model on Fashion-MNIST or MNIST, d2l defaults.

Defaults reproduce d2l's GoogLeNet run: Xavier init, plain SGD, lr 0.1, batch 128,
images resized to 96x96 and scaled to [0, 1], softmax cross-entropy, 10 epochs.
Each epoch writes history.json, curves.png and last.ckpt (best.ckpt when the test
accuracy improves) into the output folder, atomically; the end exports the model.
"""
import dataclasses
import logging
import math
import os
import random
import time
from collections import namedtuple

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from .checkpoint import check_compatible, load_states, load_weights, read_checkpoint, save_checkpoint
from .context import parse_ctx
from .cpu import require_bf16
from .config import (OPTIMIZERS, PRESETS, RUN_DEFINING, TrainConfig, input_side,  # noqa: F401
                     lr_at, validate)
from .data import (IMAGENET_MEAN, IMAGENET_STD, get_dataset_spec, load_dataset, load_image_folder,
                   make_loader, split_indices)
from .errors import CheckpointError, ConfigError, DivergedError
from .export import export_model
from .fileio import lock_run_folder, write_json
from .models import TrainOutputs, get_model, get_spec
from .plots import plot_history
from .progress import RunProgress, progress_mode

log = logging.getLogger("gluon_googlenet.train")

RunResult = namedtuple("RunResult", "net history out")


class RunPaths:
    """File names inside a run's output folder."""

    def __init__(self, out):
        self.out = out
        self.last = os.path.join(out, "last.ckpt")
        self.best = os.path.join(out, "best.ckpt")
        self.history = os.path.join(out, "history.json")
        self.curves = os.path.join(out, "curves.png")
        self.config = os.path.join(out, "config.json")

    def export_prefix(self, model):
        return os.path.join(self.out, model)


_AMP_DTYPE = None  # the low precision MXNet's AMP was switched on for in this process


def enable_amp(precision, ctxs):
    """Turn on MXNet AMP for ``precision`` ('bf16' on CPU, 'fp16' on GPU) in this process.

    AMP patches MXNet's operators for the whole process, before the net is built; a process
    can use one low precision only. bf16 is refused at once on a CPU whose oneDNN lacks it.
    """
    global _AMP_DTYPE
    from mxnet.contrib import amp
    on_gpu = all(c.device_type == "gpu" for c in ctxs)
    if precision == "fp16" and not on_gpu:
        raise ConfigError("--precision fp16 (float16 AMP) needs GPU contexts (--ctx gpu); "
                          "on a CPU use --precision bf16")
    if precision == "bf16" and on_gpu:
        raise ConfigError("--precision bf16 is MXNet's CPU path (oneDNN); on GPUs use fp16")
    if precision == "bf16":
        require_bf16("--precision bf16")
    target = "bfloat16" if precision == "bf16" else "float16"
    if _AMP_DTYPE is not None:
        if _AMP_DTYPE != target:
            raise ConfigError("AMP is already on for another precision in this process")
        return
    amp.init(target_dtype=target)
    _AMP_DTYPE = target


def seed_epoch(seed, epoch):
    """Seed MXNet's, numpy's and Python's generators from (seed, epoch) alone."""
    value = (seed * 1_000_003 + epoch) % 2**31
    mx.random.seed(value)
    np.random.seed(value)
    random.seed(value)


def make_trainer(net, config, ctxs, kvstore=None):
    """Gluon Trainer for ``config.optimizer``; kvstore 'device' aggregates across contexts,
    a distributed kvstore across processes."""
    params = {"learning_rate": config.lr, "wd": config.wd}
    if config.optimizer == "nag":
        params["momentum"] = config.momentum
    if kvstore is None:
        kvstore = config.kvstore or ("device" if len(ctxs) > 1 else None)
    return gluon.Trainer(net.collect_params(), config.optimizer, params, kvstore=kvstore)


DataBundle = namedtuple("DataBundle", "name train test class_names channels mean std")
DataBundle.__doc__ = "Train and test (images uint8 NCHW, labels int32), class names, normalisation."


def load_training_data(config, size, need_train=True):
    """The run's data: an IDX data set (train/test files) or an image folder split per class.

    ``need_train=False`` leaves an IDX training set unread (train is then None).
    """
    if config.image_folder:
        images, labels, names, skipped = load_image_folder(config.image_folder, size,
                                                           config.bad_images == "skip")
        for path in skipped:
            log.warning("skipped unreadable image %s", path)
        train_idx, test_idx = split_indices(labels, config.test_fraction, config.seed)
        train_idx, test_idx = train_idx[:config.limit_train or None], test_idx[:config.limit_test or None]
        return DataBundle(f"image-folder {config.image_folder}", (images[train_idx], labels[train_idx]),
                          (images[test_idx], labels[test_idx]), list(names), 3,
                          IMAGENET_MEAN, IMAGENET_STD)
    spec = get_dataset_spec(config.dataset)
    resize = 0 if size == 28 else size
    train = load_dataset(config.dataset, "train", config.data_dir, resize, config.limit_train,
                         config.verify_data) if need_train else None
    test = load_dataset(config.dataset, "test", config.data_dir, resize, config.limit_test,
                        config.verify_data)
    return DataBundle(config.dataset, train, test, list(spec.class_names), 1, None, None)


def to_input(batch, mean=None, std=None):
    """uint8 images on a device -> float32 in [0, 1] (then (x - mean) / std per channel)."""
    x = batch.astype("float32") / 255
    if mean is not None:
        shape = (1, len(mean), 1, 1)
        x = (x - mx.nd.array(mean, ctx=x.context).reshape(shape)) / \
            mx.nd.array(std, ctx=x.context).reshape(shape)
    return x


def compute_loss(loss_fn, output, label, aux_weight=0.3):
    """Per-example loss; for TrainOutputs: main loss + aux_weight x each auxiliary loss."""
    if isinstance(output, TrainOutputs):
        loss = loss_fn(output.main, label)
        for aux in output.aux:
            loss = loss + aux_weight * loss_fn(aux, label)
        return loss
    return loss_fn(output, label)


def main_output(output):
    return output.main if isinstance(output, TrainOutputs) else output


def _split(xb, yb, ctxs):
    ctxs = ctxs[:xb.shape[0]]
    return (gluon.utils.split_and_load(xb, ctxs, even_split=False),
            gluon.utils.split_and_load(yb, ctxs, even_split=False))


def evaluate(net, loader, ctxs, num_classes, loss_fn=None, norm=(None, None)):
    """Accuracy, mean loss, confusion matrix (rows true, columns predicted) and the predicted
    class of every example, in loader order, over ``loader``."""
    loss_fn = loss_fn or gluon.loss.SoftmaxCrossEntropyLoss()
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    loss_sum, predictions = 0.0, []
    for xb, yb in loader:
        xs, ys = _split(xb, yb, ctxs)
        outs = [net(to_input(x, *norm)) for x in xs]
        loss_sum += sum(loss_fn(o, y).sum().asscalar() for o, y in zip(outs, ys))
        preds = np.concatenate([o.argmax(axis=1).asnumpy().astype(np.int64) for o in outs])
        predictions.append(preds)
        np.add.at(confusion, (yb.asnumpy().astype(np.int64), preds), 1)
    total = int(confusion.sum())
    return {"acc": float(np.trace(confusion) / max(total, 1)),
            "loss": loss_sum / max(total, 1), "confusion": confusion, "count": total,
            "predictions": np.concatenate(predictions) if predictions else np.zeros(0, np.int64)}


def train_epoch(net, trainer, loader, ctxs, loss_fn, *, norm=(None, None), aux_weight=0.3,
                workers=1, scale_loss=False, progress=None, desc="the epoch"):
    """One pass over ``loader``; returns (mean loss, accuracy, examples, seconds).

    With ``workers`` processes on a distributed kvstore each step averages over the global
    batch (this batch x workers); ``scale_loss`` applies AMP's dynamic loss scaling (fp16);
    ``progress`` (a RunProgress) is told of every batch.
    A batch's loss and hits stay on the device until the next batch is queued, so reading
    them never stalls the engine; a NaN or infinite loss raises DivergedError at that read.
    """
    totals = {"loss": 0.0, "correct": 0}
    seen, pending = 0, None
    start = time.time()

    def settle(step, batch_loss, batch_correct):
        value = batch_loss.asscalar()
        if not math.isfinite(value):
            raise DivergedError(f"the loss became {value} at batch {step} of {desc}")
        totals["loss"] += float(value)
        totals["correct"] += int(batch_correct.asscalar())

    for step, (xb, yb) in enumerate(loader, 1):
        xs, ys = _split(xb, yb, ctxs)
        xs = [to_input(x, *norm) for x in xs]
        with autograd.record():
            outs = [net(x) for x in xs]
            losses = [compute_loss(loss_fn, o, y, aux_weight) for o, y in zip(outs, ys)]
            if scale_loss:
                from mxnet.contrib import amp
                with amp.scale_loss(losses, trainer) as scaled:
                    autograd.backward(scaled)
        if not scale_loss:
            autograd.backward(losses)
        trainer.step(xb.shape[0] * workers)
        home = ctxs[0]
        batch_loss = mx.nd.add_n(*[l.sum().as_in_context(home) for l in losses])
        batch_correct = mx.nd.add_n(*[(main_output(o).argmax(axis=1) == y.astype("float32"))
                                      .sum().as_in_context(home) for o, y in zip(outs, ys)])
        if pending is not None:
            settle(*pending)
        pending = (step, batch_loss, batch_correct)
        seen += xb.shape[0]
        if progress is not None:
            done = max(seen - xb.shape[0], 1)
            progress.step(step, seen, totals["loss"] / done, totals["correct"] / done)
    if pending is not None:
        settle(*pending)
    return totals["loss"] / max(seen, 1), totals["correct"] / max(seen, 1), seen, time.time() - start


def _resume_state(config, paths):
    """Read last.ckpt for --resume; return (config with the checkpoint's run settings, ckpt parts)."""
    if not os.path.isfile(paths.last):
        raise CheckpointError(f"--resume: no checkpoint {paths.last} to resume from")
    meta, params, states = read_checkpoint(paths.last)
    check_compatible(meta, paths.last, model=config.model)
    saved = meta.get("config", {})
    changed = {k: (getattr(config, k), saved[k]) for k in RUN_DEFINING
               if k in saved and saved[k] != getattr(config, k)}
    for key, (given, kept) in changed.items():
        log.info("resume: keeping the checkpoint's %s=%r (not %r)", key, kept, given)
    config = dataclasses.replace(config, **{k: saved[k] for k in RUN_DEFINING if k in saved})
    return config, meta, params, states


def train(config):
    """Train ``config.model`` as ``config`` says; return RunResult(net, history, out folder)."""
    validate(config)
    get_spec(config.model)
    ctxs = parse_ctx(config.ctx)
    if config.precision != "fp32":
        enable_amp(config.precision, ctxs)  # refuses a precision this device lacks, before any file
    kv, rank, workers = None, 0, 1
    if config.kvstore == "dist_sync":
        kv = mx.kv.create("dist_sync")  # needs the DMLC_* variables: see distributed.py
        rank, workers = kv.rank, kv.num_workers
        config = dataclasses.replace(config, out=os.path.join(config.out, f"worker{rank}"))
    with lock_run_folder(config.out):
        return _train_in(RunPaths(config.out), config, ctxs, kv, rank, workers)


def _train_in(paths, config, ctxs, kv, rank, workers):
    """train()'s work inside its locked run folder ``paths``."""
    meta, history, start_epoch = None, [], 0
    if config.resume:
        config, meta, params, states = _resume_state(config, paths)
        history, start_epoch = meta["history"], meta["epoch"]
    validate(config)
    size = input_side(config)
    min_size = get_model(config.model, input_size=size).min_size  # cheap: no weights allocated
    if size < min_size:
        raise ConfigError(f"{config.model} needs inputs of at least {min_size}x{min_size}; "
                          f"images of {size}x{size} are too small (--resize)")
    data = load_training_data(config, size)
    model_kwargs = {"classes": len(data.class_names), "in_channels": data.channels, "input_size": size}
    if config.aux_logits:
        model_kwargs["aux_logits"] = True
    if meta is not None:
        check_compatible(meta, paths.last, model=config.model, model_kwargs=model_kwargs)
    net = get_model(config.model, **model_kwargs)
    train_x, train_y = data.train
    if workers > 1:  # each worker trains on its own shard
        train_x, train_y = train_x[rank::workers], train_y[rank::workers]
    train_loader = make_loader(train_x, train_y, config.batch_size, seed=config.seed)
    test_loader = make_loader(*data.test, config.batch_size)
    norm = (data.mean, data.std)

    if meta is None:
        mx.random.seed(config.seed)
        net.initialize(mx.init.Xavier(), ctx=ctxs)
    else:
        load_weights(net, params, ctxs, paths.last)
    net.hybridize(static_alloc=True, static_shape=True)
    trainer = make_trainer(net, config, ctxs, kv)
    if config.precision != "fp32":
        from mxnet.contrib import amp
        amp.init_trainer(trainer)
    if meta is not None and states is not None and kv is None:
        load_states(trainer, states)
    write_json(paths.config, dataclasses.asdict(config))

    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    classes = model_kwargs["classes"]
    best = max((h["test_acc"] for h in history), default=-1.0)
    log.info("training %s on %s: %d train / %d test images at %dx%d, ctx %s, epochs %d..%d%s",
             config.model, data.name, len(train_y), len(data.test[1]), size, size,
             ",".join(str(c) for c in ctxs), start_epoch + 1, config.epochs,
             f", worker {rank} of {workers}" if kv is not None else "")
    progress = RunProgress(config.epochs - start_epoch, len(train_loader), len(test_loader),
                           progress_mode(config.progress))
    for epoch in range(start_epoch, config.epochs):
        seed_epoch(config.seed, epoch)
        train_loader.epoch_sampler.epoch = epoch
        trainer.set_learning_rate(lr_at(config, epoch))
        desc = f"epoch {epoch + 1}/{config.epochs}"
        progress.start(desc)
        try:
            loss, acc, seen, seconds = train_epoch(
                net, trainer, train_loader, ctxs, loss_fn, norm=norm, aux_weight=config.aux_weight,
                workers=workers, scale_loss=config.precision == "fp16", progress=progress, desc=desc)
        except DivergedError as err:
            kept = (f"the last good checkpoint {paths.last} (epoch {epoch}) is kept"
                    if epoch > 0 else "no checkpoint was written")
            raise DivergedError(f"{err}; training stopped, {kept}; try a lower --lr "
                                f"(now {trainer.learning_rate:g})") from None
        finally:
            progress.stop()
        eval_start = time.time()
        result = evaluate(net, test_loader, ctxs, classes, loss_fn, norm)
        history.append({"epoch": epoch + 1, "train_loss": loss, "train_acc": acc,
                        "test_loss": result["loss"], "test_acc": result["acc"],
                        "lr": trainer.learning_rate, "examples_per_sec": seen / seconds,
                        "train_seconds": seconds, "eval_seconds": time.time() - eval_start})
        log.info("epoch %d, loss %.4f, train acc %.3f, test acc %.3f, %.1f examples/sec, time %.1f sec",
                 epoch + 1, loss, acc, result["acc"], seen / seconds, seconds)
        ckpt_meta = {"model": config.model, "model_kwargs": model_kwargs, "classes": classes,
                     "in_channels": data.channels, "input_size": size, "dataset": data.name,
                     "class_names": data.class_names, "mean": data.mean, "std": data.std,
                     "epoch": epoch + 1, "config": dataclasses.asdict(config), "history": history,
                     "mxnet_version": mx.__version__}
        states_owner = trainer if kv is None else None  # the servers hold dist optimizer state
        save_checkpoint(paths.last, net, states_owner, ckpt_meta)
        if result["acc"] > best:
            best = result["acc"]
            save_checkpoint(paths.best, net, states_owner, ckpt_meta)
        write_json(paths.history, history)
        plot_history(history, paths.curves, f"{config.model} on {data.name}")
    if history:
        symbol_file, params_file = export_model(net, paths.export_prefix(config.model),
                                                (1, data.channels, size, size), len(history), ctxs[0])
        log.info("best test acc %.3f; exported %s and %s", best, symbol_file, params_file)
    return RunResult(net, history, paths.out)

