"""Training runs: any registered model on Fashion-MNIST, MNIST or an image folder, d2l defaults.

Defaults reproduce d2l's GoogLeNet run: Xavier init, plain SGD, lr 0.1, batch 128,
images resized to 96x96 and scaled to [0, 1], softmax cross-entropy, 10 epochs.
``train`` reads like d2l's ``train_ch6`` (build, initialise, then per epoch: train, evaluate,
record); each epoch writes history.json, curves.png and last.ckpt (best.ckpt when the test
accuracy improves) into the output folder, atomically; the end exports the model.
The per-batch core is loop.py's ``train_epoch``.
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

from .checkpoint import check_compatible, load_states, load_weights, read_checkpoint, save_checkpoint
from .config import PRESETS, TrainConfig  # noqa: F401  (users import them from here)
from .config import RUN_DEFINING, data_options, input_side, lr_at, validate
from .context import parse_ctx
from .cpu import require_bf16
from .data import epoch_seed, load_run_data, make_loader
from .errors import CheckpointError, ConfigError, DivergedError
from .export import export_model
from .fileio import lock_run_folder, write_json
from .loop import evaluate, train_epoch
from ._gluon import freeze
from .models import get_model, get_spec
from .pretrained import get_pretrained, pretrained_build_kwargs, source_of
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
    value = epoch_seed(seed, epoch)
    mx.random.seed(value)
    np.random.seed(value)
    random.seed(value)


def make_trainer(net, config, ctxs, kvstore=None):
    """Gluon Trainer for ``config.optimizer`` over the trainable parameters (frozen ones and BN
    running statistics get no optimizer state); kvstore 'device' aggregates across contexts,
    a distributed kvstore across processes."""
    params = {"learning_rate": config.lr, "wd": config.wd}
    if config.optimizer == "nag":
        params["momentum"] = config.momentum
    if kvstore is None:
        kvstore = config.kvstore or ("device" if len(ctxs) > 1 else None)
    trainable = {name: p for name, p in net.collect_params().items() if p.grad_req != "null"}
    return gluon.Trainer(trainable, config.optimizer, params, kvstore=kvstore)


Resumed = namedtuple("Resumed", "config meta params states history epoch")


def _resume_state(config, paths):
    """Read last.ckpt for --resume: the config with the checkpoint's run settings, its parts,
    its history and the number of finished epochs."""
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
    return Resumed(config, meta, params, states, meta["history"], meta["epoch"])


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
    """train()'s work inside its locked run folder ``paths``: the d2l loop with checkpoints."""
    resumed = _resume_state(config, paths) if config.resume else None
    if resumed:
        config = resumed.config
    validate(config)
    size = input_side(config)
    _check_input_side(config.model, size)
    data = load_run_data(size, **data_options(config))
    data = data._replace(**dict(zip(("mean", "std"), _normalisation(config, data))))
    net, model_kwargs = _build_net(config, data, size, ctxs, resumed, paths)
    trainer = _build_trainer(net, config, ctxs, kv, resumed)
    write_json(paths.config, dataclasses.asdict(config))
    train_loader, test_loader = _loaders(data, config.batch_size, config.seed, rank, workers)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    history, start = (resumed.history, resumed.epoch) if resumed else ([], 0)
    log.info("training %s on %s: %d train / %d test images at %dx%d, ctx %s, epochs %d..%d%s",
             config.model, data.name, len(train_loader.epoch_sampler), len(data.test[1]), size, size,
             ",".join(str(c) for c in ctxs), start + 1, config.epochs,
             f", worker {rank} of {workers}" if kv is not None else "")
    progress = RunProgress(config.epochs - start, len(train_loader), len(test_loader),
                           progress_mode(config.progress))
    saver = _EpochSaver(paths, net, trainer if kv is None else None,  # dist: servers hold state
                        _checkpoint_meta(config, data, model_kwargs, size), history)
    for epoch in range(start, config.epochs):
        seed_epoch(config.seed, epoch)  # the epoch's shuffle, dropout and augmentation
        train_loader.epoch_sampler.epoch = epoch
        trainer.set_learning_rate(lr_at(config, epoch))
        loss, acc, seen, seconds = _train_one_epoch(
            net, trainer, train_loader, ctxs, loss_fn, config=config, epoch=epoch, norm=(data.mean, data.std),
            workers=workers, progress=progress, last_ckpt=paths.last)
        eval_start = time.time()
        result = evaluate(net, test_loader, ctxs, model_kwargs["classes"], loss_fn, (data.mean, data.std))
        history.append({"epoch": epoch + 1, "train_loss": loss, "train_acc": acc,
                        "test_loss": result["loss"], "test_acc": result["acc"],
                        "lr": trainer.learning_rate, "examples_per_sec": seen / seconds,
                        "train_seconds": seconds, "eval_seconds": time.time() - eval_start})
        log.info("epoch %d, loss %.4f, train acc %.3f, test acc %.3f, %.1f examples/sec, time %.1f sec",
                 epoch + 1, loss, acc, result["acc"], seen / seconds, seconds)
        saver.save(epoch + 1, f"{config.model} on {data.name}")
    if history:
        symbol_file, params_file = export_model(net, paths.export_prefix(config.model),
                                                (1, data.channels, size, size), len(history), ctxs[0])
        log.info("best test acc %.3f; exported %s and %s", saver.best, symbol_file, params_file)
    return RunResult(net, history, paths.out)


def _check_input_side(model, size):
    """ConfigError before any data is read when ``size`` is below the model's smallest side."""
    min_size = get_spec(model).min_size or 1
    if size < min_size:
        raise ConfigError(f"{model} needs inputs of at least {min_size}x{min_size}; "
                          f"images of {size}x{size} are too small (--resize)")


def _build_net(config, data, size, ctxs, resumed, paths):
    """The run's net, hybridized, and the keyword arguments it was built with: Xavier-initialised
    from ``config.seed``, or started from published weights (``config.pretrained``), or the
    checkpoint's weights on resume; the stages in ``config.freeze`` kept fixed."""
    model_kwargs = {"classes": len(data.class_names), "in_channels": data.channels, "input_size": size}
    if config.aux_logits:
        model_kwargs["aux_logits"] = True
    if config.pretrained:
        model_kwargs.update(pretrained_build_kwargs(config.model, config.pretrained))
    if resumed:
        check_compatible(resumed.meta, paths.last, model=config.model, model_kwargs=model_kwargs)
    if config.pretrained and not resumed:
        mx.random.seed(config.seed)  # the new classifier's initialisation
        weights = True if config.pretrained == "gluoncv" else config.pretrained
        net = get_pretrained(config.model, weights, ctx=ctxs,
                             **{k: v for k, v in model_kwargs.items() if k != "in_channels"})
    else:
        net = get_model(config.model, **model_kwargs)
        if resumed:
            load_weights(net, resumed.params, ctxs, paths.last)
        else:
            mx.random.seed(config.seed)
            net.initialize(mx.init.Xavier(), ctx=ctxs)
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


def _normalisation(config, data):
    """Mean and std the net's input is normalised with: the weights source's when starting
    from published weights, else the data's own."""
    if config.pretrained:
        source = source_of(config.pretrained)
        return source.mean, source.std
    return data.mean, data.std


def _build_trainer(net, config, ctxs, kv, resumed):
    """The run's Gluon Trainer, with AMP's loss scaler and the checkpoint's optimizer state."""
    trainer = make_trainer(net, config, ctxs, kv)
    if config.precision != "fp32":
        from mxnet.contrib import amp
        amp.init_trainer(trainer)
    if resumed and resumed.states is not None and kv is None:
        load_states(trainer, resumed.states)
    return trainer


def _loaders(data, batch_size, seed, rank=0, workers=1):
    """Train loader (shuffled per epoch from ``seed``; worker ``rank``'s shard of the data
    when there are several workers) and test loader (in order)."""
    train_x, train_y = data.train
    if workers > 1:
        train_x, train_y = train_x[rank::workers], train_y[rank::workers]
    return make_loader(train_x, train_y, batch_size, seed=seed), make_loader(*data.test, batch_size)


def _train_one_epoch(net, trainer, loader, ctxs, loss_fn, *, config, epoch, norm, workers, progress,
                     last_ckpt):
    """train_epoch for 0-based ``epoch`` with progress; a diverged loss says what was kept."""
    desc = f"epoch {epoch + 1}/{config.epochs}"
    progress.start(desc)
    try:
        return train_epoch(net, trainer, loader, ctxs, loss_fn, norm=norm,
                           aux_weight=config.aux_weight, workers=workers,
                           scale_loss=config.precision == "fp16", progress=progress, desc=desc)
    except DivergedError as err:
        kept = (f"the last good checkpoint {last_ckpt} (epoch {epoch}) is kept"
                if epoch > 0 else "no checkpoint was written")
        raise DivergedError(f"{err}; training stopped, {kept}; try a lower --lr "
                            f"(now {trainer.learning_rate:g})") from None
    finally:
        progress.stop()


def _checkpoint_meta(config, data, model_kwargs, size):
    """What a checkpoint records besides weights: enough to rebuild, evaluate and resume."""
    return {"model": config.model, "model_kwargs": model_kwargs, "classes": model_kwargs["classes"],
            "in_channels": data.channels, "input_size": size, "dataset": data.name,
            "class_names": data.class_names, "mean": data.mean, "std": data.std,
            "config": dataclasses.asdict(config), "mxnet_version": mx.__version__}


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
