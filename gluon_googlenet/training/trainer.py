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
import time
from collections import namedtuple

import mxnet as mx
import numpy as np
from mxnet import gluon

from ..base.cpu import require_bf16
from ..base.errors import CheckpointError, ConfigError, DivergedError
from ..base.fileio import lock_run_folder, write_json
from ..base.gluon_internals import freeze
from ..weights.export import export_model
from ..weights.factory import get_model
from ..weights.pretrained import pretrained_build_kwargs
from .checkpoint import check_compatible, load_states, load_weights, read_checkpoint, save_checkpoint
from .config import lr_at
from .data import epoch_seed, load_run_data, make_loader
from .loop import evaluate, train_epoch
from .plots import plot_history
from .progress import RunProgress, progress_mode
from .run import RunPaths, resolve_run, run_folder

log = logging.getLogger("gluon_googlenet.train")

RunResult = namedtuple("RunResult", "net history out")
Resumed = namedtuple("Resumed", "meta params states history epoch")
Resumed.__doc__ = "A checkpoint read for --resume: metadata, weights, optimizer state, history, epochs done."


def train(config):
    """Train ``config.model`` as ``config`` says; return RunResult(net, history, out folder)."""
    kv = mx.kv.create("dist_sync") if config.kvstore == "dist_sync" else None  # DMLC_*: distributed.py
    resumed = read_resume(RunPaths(run_folder(config.out, kv)), config.model) if config.resume else None
    run = resolve_run(config, resumed.meta.get("config") if resumed else None, kv)
    if run.config.precision != "fp32":
        enable_amp(run.config.precision, run.ctxs)  # refuses a precision this device lacks, before any file
    with lock_run_folder(run.paths.out):
        return _train(run, resumed)


def _train(run, resumed):
    """train()'s work inside the run's locked folder: the d2l loop with checkpoints."""
    config, paths = run.config, run.paths
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
                           progress_mode(config.progress))
    saver = _EpochSaver(paths, net, None if run.distributed else trainer,  # dist: servers hold state
                        _checkpoint_meta(run, data, model_kwargs), history)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for epoch in range(start, config.epochs):
        seed_epoch(config.seed, epoch)  # the epoch's shuffle, dropout and augmentation
        train_loader.epoch_sampler.epoch = epoch
        trainer.set_learning_rate(lr_at(config, epoch))
        loss, acc, seen, seconds = _train_one_epoch(net, trainer, train_loader, loss_fn, run, epoch, progress)
        eval_start = time.time()
        result = evaluate(net, test_loader, run.ctxs, model_kwargs["classes"], loss_fn, run.norm)
        history.append({"epoch": epoch + 1, "train_loss": loss, "train_acc": acc,
                        "test_loss": result["loss"], "test_acc": result["acc"],
                        "lr": trainer.learning_rate, "examples_per_sec": seen / seconds,
                        "train_seconds": seconds, "eval_seconds": time.time() - eval_start})
        log.info("epoch %d, loss %.4f, train acc %.3f, test acc %.3f, %.1f examples/sec, time %.1f sec",
                 epoch + 1, loss, acc, result["acc"], seen / seconds, seconds)
        saver.save(epoch + 1, f"{config.model} on {data.name}")
    if history:
        symbol_file, params_file = export_model(net, paths.export_prefix(config.model),
                                                (1, run.channels, run.size, run.size), len(history), run.ctxs[0])
        log.info("best test acc %.3f; exported %s and %s", saver.best, symbol_file, params_file)
    return RunResult(net, history, paths.out)


def read_resume(paths, model):
    """The run folder's last.ckpt for --resume, checked to be a checkpoint of ``model``."""
    if not os.path.isfile(paths.last):
        raise CheckpointError(f"--resume: no checkpoint {paths.last} to resume from")
    meta, params, states = read_checkpoint(paths.last)
    check_compatible(meta, paths.last, model=model)
    return Resumed(meta, params, states, meta["history"], meta["epoch"])


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
    value = epoch_seed(seed, epoch)
    mx.random.seed(value)
    np.random.seed(value)
    random.seed(value)


def make_trainer(net, run, resumed=None):
    """Gluon Trainer for ``run``'s optimizer over the trainable parameters (frozen ones and BN
    running statistics get no optimizer state); kvstore 'device' aggregates across contexts,
    a distributed kvstore across processes. Adds AMP's loss scaler for fp16/bf16 runs and the
    optimizer state of ``resumed`` (not on a distributed kvstore: its servers hold it)."""
    config = run.config
    params = {"learning_rate": config.lr, "wd": config.wd}
    if config.optimizer == "nag":
        params["momentum"] = config.momentum
    kvstore = run.kv or config.kvstore or ("device" if len(run.ctxs) > 1 else None)
    trainable = {name: p for name, p in net.collect_params().items() if p.grad_req != "null"}
    trainer = gluon.Trainer(trainable, config.optimizer, params, kvstore=kvstore)
    if config.precision != "fp32":
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
        net = get_model(config.model, pretrained=weights, ctx=list(run.ctxs),
                        **{k: v for k, v in model_kwargs.items() if k != "in_channels"})
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


def _train_one_epoch(net, trainer, loader, loss_fn, run, epoch, progress):
    """train_epoch for 0-based ``epoch`` with progress; a diverged loss says what was kept."""
    desc = f"epoch {epoch + 1}/{run.config.epochs}"
    progress.start(desc)
    try:
        return train_epoch(net, trainer, loader, loss_fn, run, progress=progress, desc=desc)
    except DivergedError as err:
        kept = (f"the last good checkpoint {run.paths.last} (epoch {epoch}) is kept"
                if epoch > 0 else "no checkpoint was written")
        raise DivergedError(f"{err}; training stopped, {kept}; try a lower --lr "
                            f"(now {trainer.learning_rate:g})") from None
    finally:
        progress.stop()


def _checkpoint_meta(run, data, model_kwargs):
    """What a checkpoint records besides weights: enough to rebuild, evaluate and resume."""
    return {"model": run.config.model, "model_kwargs": model_kwargs, "classes": model_kwargs["classes"],
            "in_channels": run.channels, "input_size": run.size, "dataset": data.name,
            "class_names": data.class_names, "mean": run.norm[0], "std": run.norm[1],
            "config": dataclasses.asdict(run.config), "mxnet_version": mx.__version__}


class _EpochSaver:
    """After each epoch: last.ckpt, best.ckpt when the test accuracy improved, history.json
    and curves.png, each written atomically."""

    def __init__(self, paths, net, trainer, meta, history):
        self.paths, self.net, self.trainer, self.meta, self.history = paths, net, trainer, meta, history
        self.best = max((h["test_acc"] for h in history), default=-1.0)

    def save(self, epoch, title):
        meta = dict(self.meta, epoch=epoch, history=self.history)
        save_checkpoint(self.paths.last, self.net, self.trainer, meta)
        if self.history[-1]["test_acc"] > self.best:
            self.best = self.history[-1]["test_acc"]
            save_checkpoint(self.paths.best, self.net, self.trainer, meta)
        write_json(self.paths.history, self.history)
        plot_history(self.history, self.paths.curves, title)
