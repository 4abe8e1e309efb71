"""Training runs: any registered model on Fashion-MNIST, MNIST or an image folder, d2l defaults.

Defaults reproduce d2l's GoogLeNet run: Xavier init, plain SGD, lr 0.1, batch 128,
images resized to 96x96 and scaled to [0, 1], softmax cross-entropy, 10 epochs.
``train`` reads like d2l's ``train_ch6`` (build, initialise, then per epoch: train, evaluate,
record); each epoch writes history.json, curves.png and last.ckpt (best.ckpt when the test
accuracy improves) into the output folder, atomically; the end exports the model.
The run's settings are resolved once (run.py); the per-batch core is loop.py's ``train_epoch``.
"""
import dataclasses
import logging
import os
import random
import shlex
import time
from collections import namedtuple

import mxnet as mx
import numpy as np
from mxnet import gluon

from ..base.cpu import require_bf16
from ..base.errors import CheckpointError, ConfigError, DivergedError, Stopped
from ..base.fileio import link_atomically, lock_run_folder, write_json
from ..base.gluon_internals import freeze
from ..weights.export import export_model
from ..weights.factory import get_model
from ..weights.pretrained import pretrained_build_kwargs
from .checkpoint import check_compatible, load_states, load_weights, read_checkpoint, save_checkpoint
from .config import TrainConfig, lr_at
from .data import load_run_data
from .loop import EpochTotals, EpochWatch, evaluate, train_epoch
from .plots import plot_history
from .progress import RunProgress, progress_mode
from .run import RunPaths, resolve_run, run_folder
from .sampling import batch_seed, make_loader
from .stopping import StopRequests

log = logging.getLogger("gluon_googlenet.train")

RunResult = namedtuple("RunResult", "net history out")
Resumed = namedtuple("Resumed", "path meta params states history epoch batch totals")
Resumed.__doc__ = ("A checkpoint read for --resume: its file, metadata, weights, optimizer state, history, "
                   "epochs done, batches done of the next epoch and that epoch's running totals.")


def train(config):
    """Train ``config.model`` as ``config`` says; return RunResult(net, history, out folder).

    SIGTERM or SIGINT stops it after the current batch with a checkpoint to resume from
    (Stopped, exit code 143 or 130 on the command line)."""
    kv = mx.kv.create("dist_sync") if config.kvstore == "dist_sync" else None  # DMLC_*: distributed.py
    resumed = read_resume(RunPaths(run_folder(config.out, kv)), config.model) if config.resume else None
    run = resolve_run(config, resumed.meta.get("config") if resumed else None, kv)
    if run.config.precision != "fp32":
        enable_amp(run.config.precision, run.ctxs)  # refuses a precision this device lacks, before any file
    with lock_run_folder(run.paths.out), StopRequests() as stop:
        return _train(run, resumed, stop)


def _train(run, resumed, stop):
    """train()'s work inside the run's locked folder: the d2l loop with checkpoints."""
    config, paths = run.config, run.paths
    if resumed and resumed.path != paths.last and os.path.exists(paths.last):  # damaged: keep it aside
        os.replace(paths.last, paths.last + ".damaged")
    data = load_run_data(run.size, run.data)
    net, model_kwargs = build_net(run, len(data.class_names), resumed)
    trainer = make_trainer(net, run, resumed)
    write_json(paths.config, dataclasses.asdict(config))
    train_loader, test_loader = _loaders(data, run)
    history, start = (resumed.history, resumed.epoch) if resumed else ([], 0)
    log.info("training %s on %s: %d train / %d test images at %dx%d, ctx %s, epochs %d..%d%s",
             config.model, data.name, len(train_loader.epoch_sampler), len(data.test[1]), run.size, run.size,
             ",".join(str(c) for c in run.ctxs), start + 1, config.epochs,
             f", worker {run.rank} of {run.workers}" if run.distributed else "")
    progress = RunProgress(config.epochs - start, len(train_loader), len(test_loader),
                           progress_mode(config.progress), history)
    saver = _Saver(paths, net, None if run.distributed else trainer,  # dist: servers hold state
                   _checkpoint_meta(run, data, model_kwargs), history)
    watch = _RunWatch(run, saver, progress, stop)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for epoch in range(start, config.epochs):
        watch.epoch = epoch
        train_loader.epoch_sampler.epoch = epoch
        trainer.set_learning_rate(lr_at(config, epoch))
        done = resumed.totals if resumed and epoch == start else None
        result = _train_one_epoch(net, trainer, train_loader, loss_fn, run, watch, done)
        if result.stopped:
            raise _stopped(run, stop, saver, epoch, result.batches)
        eval_start = time.time()
        scores = evaluate(net, test_loader, run.ctxs, model_kwargs["classes"], loss_fn, run.norm)
        history.append({"epoch": epoch + 1, "train_loss": result.loss, "train_acc": result.acc,
                        "test_loss": scores["loss"], "test_acc": scores["acc"],
                        "lr": trainer.learning_rate, "examples_per_sec": result.seen / result.seconds,
                        "train_seconds": result.seconds, "eval_seconds": time.time() - eval_start})
        progress.tested(history[-1])
        log.info("epoch %d, loss %.4f, train acc %.3f, test acc %.3f, %.1f examples/sec, time %.1f sec",
                 epoch + 1, result.loss, result.acc, scores["acc"], result.seen / result.seconds, result.seconds)
        saver.end_epoch(epoch + 1, f"{config.model} on {data.name}")
        if stop.requested and epoch + 1 < config.epochs:  # it came while testing or saving
            raise _stopped(run, stop, saver, epoch + 1, 0)
    if history:
        symbol_file, params_file = export_model(net, paths.export_prefix(config.model),
                                                (1, run.channels, run.size, run.size), len(history), run.ctxs[0])
        log.info("best test acc %.3f; exported %s and %s", saver.best, symbol_file, params_file)
    return RunResult(net, history, paths.out)


def read_resume(paths, model):
    """The newest intact checkpoint of the run folder for --resume, checked to be a checkpoint of
    ``model``: last.ckpt, else previous.ckpt, else best.ckpt (each older than the one before it,
    so the first intact one is the newest; only that one is read whole); a fallback is logged."""
    newest, damaged = None, []
    for path in (paths.last, paths.previous, paths.best):
        if not os.path.isfile(path):
            continue
        try:
            meta, params, states = read_checkpoint(path)
        except CheckpointError as err:
            damaged.append((path, err))
            continue
        newest = Resumed(path, meta, params, states, meta["history"], meta["epoch"], meta.get("batch", 0),
                         meta.get("epoch_totals"))
        break
    if newest is None:
        if damaged:
            raise CheckpointError(f"--resume: no intact checkpoint in {paths.out} ({damaged[0][1]})")
        raise CheckpointError(f"--resume: no checkpoint {paths.last} to resume from")
    check_compatible(newest.meta, newest.path, model=model)
    for _, err in damaged:
        log.warning("%s; resuming from %s instead", err, newest.path)
    log.info("resuming from %s: %d epoch(s) done%s", newest.path, newest.epoch,
             f", then {newest.batch} batch(es) of epoch {newest.epoch + 1}" if newest.batch else "")
    return newest


def resume_command(config):
    """The command line that resumes ``config``'s run (the checkpoint holds the rest)."""
    words = ["gluon-googlenet", "train", "--out", config.out, "--resume", "--epochs", str(config.epochs)]
    for flag, value, default in (("--data-dir", config.data_dir, None), ("--ctx", config.ctx, "cpu"),
                                 ("--precision", config.precision, "fp32"),
                                 ("--checkpoint-every", config.checkpoint_every, TrainConfig.checkpoint_every)):
        if value != default:
            words += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if not config.verify_data:
        words.append("--no-verify")
    return " ".join(shlex.quote(word) for word in words)


def _stopped(run, stop, saver, epoch, batch):
    """Stopped for a signal during 0-based ``epoch`` after ``batch`` batches (saved by the watch;
    a distributed run keeps its epoch checkpoints only)."""
    where = f"after batch {batch} of epoch {epoch + 1}" if batch else f"after epoch {epoch}"
    if run.distributed:
        return Stopped(f"stopped by {stop.name} {where}; a distributed run resumes from its last epoch "
                       f"checkpoint ({saver.paths.last}): rerun the launch with --resume", stop.exit_code)
    return Stopped(f"stopped by {stop.name} {where}: saved {saver.paths.last} ({epoch} epoch(s) and {batch} "
                   f"batch(es) done); resume with: {resume_command(run.config)}", stop.exit_code)


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


def seed_batch(seed, epoch, batch):
    """Seed MXNet's, numpy's and Python's generators from (seed, epoch, batch) alone."""
    value = batch_seed(seed, epoch, batch)
    mx.random.seed(value)
    np.random.seed(value)
    random.seed(value)


def make_trainer(net, run, resumed=None):
    """Gluon Trainer for ``run``'s optimizer over the trainable parameters (frozen ones and BN
    running statistics get no optimizer state); kvstore 'device' aggregates across contexts,
    a distributed kvstore across processes. Adds AMP's loss scaler for fp16 runs and the
    optimizer state of ``resumed`` (not on a distributed kvstore: its servers hold it)."""
    config = run.config
    params = {"learning_rate": config.lr, "wd": config.wd}
    if config.optimizer == "nag":
        params["momentum"] = config.momentum
    kvstore = run.kv or config.kvstore or ("device" if len(run.ctxs) > 1 else None)
    trainable = {name: p for name, p in net.collect_params().items() if p.grad_req != "null"}
    trainer = gluon.Trainer(trainable, config.optimizer, params, kvstore=kvstore)
    if config.precision == "fp16":  # bf16 has fp32's exponent range: no loss scaler, no overflow check
        from mxnet.contrib import amp
        amp.init_trainer(trainer)
    if resumed and resumed.states is not None and not run.distributed:
        load_states(trainer, resumed.states)
    return trainer


def build_net(run, classes, resumed=None):
    """The run's net for ``classes`` classes, hybridized, and the keyword arguments it was
    built with: Xavier-initialised from the run's seed, or started from published weights
    (``pretrained``), or the checkpoint's weights on resume; the stages in ``freeze`` kept fixed."""
    config = run.config
    model_kwargs = {"classes": classes, "in_channels": run.channels, "input_size": run.size}
    if config.aux_logits:
        model_kwargs["aux_logits"] = True
    if config.pretrained:
        model_kwargs.update(pretrained_build_kwargs(config.model, config.pretrained))
    if resumed:
        check_compatible(resumed.meta, run.paths.last, model=config.model, model_kwargs=model_kwargs)
        net = get_model(config.model, **model_kwargs)
        load_weights(net, resumed.params, run.ctxs, run.paths.last)
    elif config.pretrained:
        mx.random.seed(config.seed)  # the new classifier's initialisation
        weights = True if config.pretrained == "gluoncv" else config.pretrained
        net = get_model(config.model, pretrained=weights, ctx=list(run.ctxs), **model_kwargs)
    else:
        net = get_model(config.model, **model_kwargs)
        mx.random.seed(config.seed)
        net.initialize(mx.init.Xavier(), ctx=list(run.ctxs))
    for stage in _frozen_stages(net, config.freeze):
        freeze(getattr(net, stage))
    net.hybridize(static_alloc=True, static_shape=True)
    return net, model_kwargs


def _frozen_stages(net, freeze_list):
    """Stage names of ``--freeze`` (comma-separated), checked against the net's stages."""
    names = [n.strip() for n in (freeze_list or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in net.stage_names]
    if unknown:
        raise ConfigError(f"--freeze: {net.model_name} has no stage {unknown[0]!r}; its stages: "
                          f"{', '.join(net.stage_names)}")
    return names


def _loaders(data, run):
    """Train loader (shuffled per epoch from the run's seed; this worker's shard of the data
    when there are several) and test loader (in order)."""
    train_x, train_y = data.train
    if run.workers > 1:
        train_x, train_y = train_x[run.rank::run.workers], train_y[run.rank::run.workers]
    batch_size = run.config.batch_size
    return make_loader(train_x, train_y, batch_size, seed=run.config.seed), make_loader(*data.test, batch_size)


def _train_one_epoch(net, trainer, loader, loss_fn, run, watch, done=None):
    """train_epoch for ``watch.epoch`` with progress, going on after ``done`` (a mid-epoch
    checkpoint's totals); a diverged loss says what was kept."""
    epoch = watch.epoch
    watch.desc = f"epoch {epoch + 1}/{run.config.epochs}"
    totals = EpochTotals(run.ctxs[0], watch.desc, done)
    loader.epoch_sampler.skip = totals.batches * run.config.batch_size
    watch.progress.start(watch.desc)
    try:
        return train_epoch(net, trainer, loader, loss_fn, run, watch, totals)
    except DivergedError as err:
        kept = (f"the last good checkpoint {run.paths.last} (epoch {epoch}) is kept"
                if epoch > 0 else "no checkpoint was written")
        raise DivergedError(f"{err}; training stopped, {kept}; try a lower --lr "
                            f"(now {trainer.learning_rate:g})") from None
    finally:
        loader.epoch_sampler.skip = 0
        watch.progress.stop()


class _RunWatch(EpochWatch):
    """Around each batch: seed it, report progress, write a timed checkpoint (--checkpoint-every),
    stop after it when a signal came."""

    def __init__(self, run, saver, progress, stop):
        self.run, self.saver, self.progress, self.stop, self.epoch = run, saver, progress, stop, 0
        self.every = 0 if run.distributed else run.config.checkpoint_every * 60

    def before_batch(self, step):
        seed_batch(self.run.config.seed, self.epoch, step)

    def after_batch(self, step, totals):
        self.progress.step(step, totals.seen, *totals.running())
        if self.stop.requested:
            if not self.run.distributed:  # its servers hold the optimizer state: epoch checkpoints only
                self.saver.save(self.epoch, step, totals.state())
            return True
        if self.every and time.monotonic() - self.saver.written >= self.every:
            self.saver.save(self.epoch, step, totals.state())
            log.info("  checkpoint: %s (epoch %d, batch %d)", self.saver.paths.last, self.epoch + 1, step)
        return False


def _checkpoint_meta(run, data, model_kwargs):
    """What a checkpoint records besides weights: enough to rebuild, evaluate and resume."""
    return {"model": run.config.model, "model_kwargs": model_kwargs, "classes": model_kwargs["classes"],
            "in_channels": run.channels, "input_size": run.size, "dataset": data.name,
            "class_names": data.class_names, "mean": run.norm[0], "std": run.norm[1],
            "config": dataclasses.asdict(run.config), "mxnet_version": mx.__version__}


class _Saver:
    """Checkpoints of a run: last.ckpt after each epoch, at a stop and on the timer (the one it
    replaces kept as previous.ckpt, a hard link); at an epoch's end also best.ckpt when the test
    accuracy improved (a hard link to last.ckpt: no second copy), history.json and curves.png."""

    def __init__(self, paths, net, trainer, meta, history):
        self.paths, self.net, self.trainer, self.meta, self.history = paths, net, trainer, meta, history
        self.best = max((h["test_acc"] for h in history), default=-1.0)
        self.written = time.monotonic()

    def save(self, epoch, batch=0, totals=None):
        """last.ckpt after ``epoch`` epochs and ``batch`` batches of the next (``totals``: theirs)."""
        meta = dict(self.meta, epoch=epoch, batch=batch, epoch_totals=totals, history=self.history)
        save_checkpoint(self.paths.last, self.net, self.trainer, meta, previous=self.paths.previous)
        self.written = time.monotonic()

    def end_epoch(self, epoch, title):
        self.save(epoch)
        if self.history[-1]["test_acc"] > self.best:
            self.best = self.history[-1]["test_acc"]
            link_atomically(self.paths.last, self.paths.best)
        write_json(self.paths.history, self.history)
        plot_history(self.history, self.paths.curves, title)
