"""A run's optimizer: the Gluon Trainer (optimizer, kvstore, state from a checkpoint) and the
learning rate it follows (the --lr-schedule maths: constant, cosine, step, one-cycle)."""
import math

from mxnet import gluon

from ..base.errors import ConfigError
from .run.checkpoint import load_states
from .run.config import SCHEDULE_HELP, WITH_MOMENTUM


def make_trainer(net, run, states=None):
    """Gluon Trainer for ``run``'s optimizer over the trainable parameters (frozen ones and BN
    running statistics get no optimizer state); kvstore 'device' aggregates across contexts,
    a distributed kvstore across processes. Adds AMP's loss scaler for fp16 runs and the
    optimizer ``states`` of a checkpoint (not on a distributed kvstore: its servers hold them)."""
    config = run.config
    params = {"learning_rate": config.lr, "wd": config.wd}
    if config.optimizer in WITH_MOMENTUM:
        params["momentum"] = config.momentum
    kvstore = run.kv or config.kvstore or ("device" if len(run.ctxs) > 1 else None)
    trainable = {name: p for name, p in net.collect_params().items() if p.grad_req != "null"}
    optimizer = "sgd" if config.optimizer == "momentum" else config.optimizer  # MXNet's sgd takes a momentum
    trainer = gluon.Trainer(trainable, optimizer, params, kvstore=kvstore)
    if config.precision == "fp16":  # bf16 has fp32's exponent range: no loss scaler, no overflow check
        from mxnet.contrib import amp
        amp.init_trainer(trainer)
    if states is not None and not run.distributed:
        load_states(trainer, states)
    return trainer


def lr_at(config, epoch, done=0.0):
    """Learning rate of 0-based ``epoch`` under ``config.lr_schedule``; ``done``: the share of the
    epoch's batches already trained (only onecycle changes within an epoch)."""
    schedule = config.lr_schedule
    if schedule == "constant":
        return config.lr
    if schedule == "cosine":
        return config.lr * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
    if schedule == "onecycle":
        return one_cycle(config.lr, epoch + done, config.epochs, config.warmup)
    if schedule.startswith("step:"):
        milestones = [int(e) for e in schedule[5:].split(",")]
        return config.lr * 0.1 ** sum(epoch >= m for m in milestones)
    raise ConfigError(f"unknown --lr-schedule {schedule!r}; {SCHEDULE_HELP}")


def one_cycle(lr, at, epochs, warmup):
    """The one-cycle rate at ``at`` epochs of ``epochs``: a linear rise from lr/25 to ``lr`` over the
    first ``warmup`` epochs, then a cosine to 0 at the end."""
    if at < warmup:
        return lr * (0.04 + 0.96 * at / warmup)
    return lr * 0.5 * (1 + math.cos(math.pi * (at - warmup) / (epochs - warmup)))


def per_batch(config):
    """Whether the learning rate changes within an epoch (it is then set before every batch)."""
    return config.lr_schedule == "onecycle"
