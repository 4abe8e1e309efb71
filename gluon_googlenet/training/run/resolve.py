"""A training run resolved once: ``resolve_run`` turns a TrainConfig (and a resumed
checkpoint's saved settings) into a ``Run``: settings checked, the model spec and the data
set spec looked up, the input side settled as one number, the input normalisation and build
settings of published weights, the devices (checked for the precision), the run folder's paths
and this worker's place. Nothing is read or written here.
"""
import dataclasses
import logging
import os
from typing import Optional

from ...base.context import check_precision, parse_ctx
from ...base.errors import ConfigError
from ...nn.registry import ModelSpec, get_spec
from ...weights.pretrained import IMAGENET_MEAN, IMAGENET_STD, pretrained_build_kwargs, pretrained_cfg
from ..data.datasets import DatasetSpec, get_dataset_spec
from ..workers.environment import worker_devices
from .config import RUN_DEFINING, DataSource, TrainConfig, data_source, input_side, validate

log = logging.getLogger("gluon_googlenet.train")


class RunPaths:
    """File names inside a run's output folder."""

    def __init__(self, out):
        self.out = out
        self.last = os.path.join(out, "last.ckpt")
        self.best = os.path.join(out, "best.ckpt")
        self.previous = os.path.join(out, "previous.ckpt")
        self.history = os.path.join(out, "history.json")
        self.curves = os.path.join(out, "curves.png")
        self.config = os.path.join(out, "config.json")

    def export_prefix(self, model):
        """Prefix of the exported files of ``model`` in the run folder."""
        return os.path.join(self.out, model)


@dataclasses.dataclass(frozen=True)
class Run:
    """Everything a training run's functions need, settled once by ``resolve_run``."""
    config: TrainConfig
    spec: ModelSpec
    size: int                        # side of the square images fed to the net
    dataset: Optional[DatasetSpec]   # None: an image folder
    channels: int
    norm: tuple                      # (mean, std) per channel, or (None, None): [0, 1] inputs
    build: dict                      # the model's build settings published weights ask for
    ctxs: tuple
    paths: RunPaths
    rank: int = 0
    workers: int = 1
    kv: object = None                # a distributed kvstore, or None
    writer: int = 0                  # rank of the worker that writes the run folder (distributed.py)

    @property
    def data(self) -> DataSource:
        """What the run reads."""
        return data_source(self.config)

    @property
    def distributed(self):
        """Whether the run trains on a distributed kvstore."""
        return self.kv is not None

    @property
    def writes(self):
        """Whether this process writes the run folder (of a distributed run's workers, one does)."""
        return self.rank == self.writer

    # What sharing the run with other workers changes, decided here once (distributed.py for how
    # the workers agree): the loop asks these, never whether the run is distributed.
    @property
    def keeps_optimizer_state(self):
        """Whether checkpoints hold the optimizer state (a distributed run's servers hold it)."""
        return not self.distributed

    @property
    def saves_mid_epoch(self):
        """Whether a stop or --checkpoint-every saves within an epoch: only where checkpoints hold
        the optimizer state (a distributed run resumes from its epoch checkpoints)."""
        return self.keeps_optimizer_state

    def shard(self, x, y):
        """This worker's share of the training images ``x``, ``y``: images ``rank::workers``."""
        return (x[self.rank::self.workers], y[self.rank::self.workers]) if self.workers > 1 else (x, y)

    def worker_note(self):
        """', worker R of N' for a distributed run's log lines; '' for one process."""
        return f", worker {self.rank} of {self.workers}" if self.distributed else ""


def resolve_run(config, saved_config=None, kv=None, writer=0):
    """The Run of ``config``; with ``saved_config`` (a resumed checkpoint's), the run's own settings
    (config.RUN_DEFINING) come from it (``resumed_config``). ``kv``: a distributed kvstore, whose
    worker ``writer`` writes the run folder. ConfigError (one line) for settings that cannot
    work, before anything is read or written."""
    if saved_config:
        config = resumed_config(config, saved_config)
    validate(config)
    dataset = None if config.image_folder else get_dataset_spec(config.dataset)
    channels = 1 if dataset else 3
    paths, side = RunPaths(config.out), input_side(config)
    norm, build = _from_weights(config, channels)
    spec = get_spec(config.model)
    size = side or spec.input_size[1]
    if size < (spec.min_size or 1):
        raise ConfigError(f"{config.model} needs inputs of at least {spec.min_size}x{spec.min_size}; "
                          f"images of {size}x{size} are too small (--resize)")
    ctxs = tuple(parse_ctx(worker_devices(config.ctx, os.environ) if kv else config.ctx))
    check_precision(config.precision, ctxs)  # before any file is read or written
    return Run(config=config, spec=spec, size=size, dataset=dataset, channels=channels, norm=norm,
               build=build, ctxs=ctxs, paths=paths,
               rank=kv.rank if kv else 0, workers=kv.num_workers if kv else 1, kv=kv, writer=writer)


def resumed_config(config, saved):
    """``config`` with the run-defining settings of ``saved`` (a checkpoint's config). A setting
    left at TrainConfig's default takes the run's; one set otherwise that differs from the run's is
    a ConfigError naming both values (a run keeps its model, data, recipe and precision)."""
    defaults, kept = TrainConfig(), {}
    for key in (k for k in RUN_DEFINING if k in saved):
        given, theirs = getattr(config, key), saved[key]
        if given != theirs and given != getattr(defaults, key):
            flag = "--" + key.replace("_", "-")
            raise ConfigError(f"--resume: the run in {config.out} has {key}={theirs!r}, {flag} asks for {given!r}; "
                              "a resumed run keeps its settings (train into a new --out to change them)")
        kept[key] = theirs
    return dataclasses.replace(config, **kept)


def _from_weights(config, channels):
    """The input normalisation (mean, std) and the model's build settings that published weights
    ask for: the weights source's (averaged over RGB for grey images, as timm does) when starting
    from them; else ImageNet's statistics for image folders and none ([0, 1] inputs) for the IDX
    data sets, with no build settings."""
    if config.pretrained:
        build = pretrained_build_kwargs(config.model, config.pretrained)
        cfg = pretrained_cfg(config.model, config.pretrained, channels)
        return (cfg.mean, cfg.std), build
    if config.image_folder:
        return (IMAGENET_MEAN, IMAGENET_STD), {}
    return (None, None), {}
