"""Run settings: TrainConfig, presets, option choices and their checks (no MXNet needed).

The command line builds its flags from these tables, and the trainer checks a config with
``validate`` before anything is loaded or written.
"""
import dataclasses
import math
from collections import namedtuple
from typing import Optional

from ...base.errors import ConfigError

OPTIMIZERS = ("sgd", "momentum", "nag", "adam")  # momentum: SGD with momentum; nag: Nesterov's
WITH_MOMENTUM = ("momentum", "nag")
PRECISIONS = ("fp32", "bf16", "fp16")
KVSTORES = ("local", "device", "dist_sync")
BAD_IMAGES = ("error", "skip")
AUGMENTS = ("none", "flip", "crop-flip")  # crop-flip: random shifts of up to side/8 px, then a coin-flip mirror
TEST_TIME = ("none", "flip")             # flip: each test image's logits averaged with its mirror's
RESUME_OR_OVERWRITE = "--resume continues the run in --out, --overwrite starts a new one there: give one of them"
# Settings that define the run; --resume takes them from the checkpoint. The others (epochs,
# checkpoint interval, contexts, progress, data folder, MD5 check) may change on a resume.
RUN_DEFINING = ("model", "dataset", "image_folder", "test_fraction", "bad_images", "aux_logits",
                "aux_weight", "batch_size", "lr", "optimizer", "momentum", "lr_schedule", "warmup", "wd",
                "label_smoothing", "ema", "whiten", "augment", "tta", "resize", "limit_train", "limit_test", "seed",
                "pretrained", "freeze", "precision")


@dataclasses.dataclass
class TrainConfig:
    """Everything a training run depends on; the CLI flags map one to one onto these fields, and
    ``TrainConfig.preset(name, **changes)`` is ``--preset NAME`` with flags (defaults: the book's run)."""
    model: str = "googlenet_d2l"
    dataset: str = "fashion-mnist"
    data_dir: Optional[str] = None
    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.1
    optimizer: str = "sgd"
    momentum: float = 0.9          # used by momentum and nag only
    lr_schedule: str = "constant"  # constant | cosine | step:E1,E2,... (x0.1 at each epoch listed) | onecycle
    warmup: float = 0.0            # onecycle: epochs of linear rise from lr/25, then cosine to 0, per batch
    wd: float = 0.0
    label_smoothing: float = 0.0   # training targets: 1 - e on the class, e spread over all classes
    ema: float = 0.0               # >0: test, keep and export a moving average of the weights (this decay)
    whiten: bool = False           # the first convolution starts as the training images' patch-whitening filters
    augment: str = "none"          # none | flip | crop-flip (training batches, drawn from the batch's seed)
    tta: str = "none"              # none | flip: test-time augmentation of the per-epoch test
    resize: Optional[int] = None   # None: the model's default input side; 0 keeps the files' 28x28
    image_folder: Optional[str] = None  # one sub-folder per class instead of --dataset
    test_fraction: float = 0.2     # image folders: share held out for testing, per class
    bad_images: str = "error"      # image folders: error | skip unreadable files
    aux_logits: bool = False       # build auxiliary heads (googlenet); their losses weigh aux_weight
    aux_weight: float = 0.3
    pretrained: Optional[str] = None  # published weights to start from: a file, or 'gluoncv' (its store)
    freeze: Optional[str] = None   # stages kept fixed, e.g. 'b1,b2,b3' (weights and BN statistics)
    kvstore: Optional[str] = None  # None: 'device' for several contexts; 'dist_sync' across processes
    precision: str = "fp32"        # fp32 | bf16 (CPU AMP, AVX512_BF16) | fp16 (GPU AMP, loss scaling)
    limit_train: Optional[int] = None
    limit_test: Optional[int] = None
    ctx: str = "cpu"
    seed: int = 0
    out: Optional[str] = None      # None: runs/MODEL
    resume: bool = False
    overwrite: bool = False        # a run into a folder holding another run's checkpoint: move its files aside
    checkpoint_every: float = 10.0  # minutes between mid-epoch checkpoints (0: only at epoch ends)
    verify_data: bool = True
    download: bool = True          # False: a data set no folder holds is an error, not a download
    progress: bool = True          # False: no bar or quarter-epoch lines (as verbose=2)
    verbose: int = 1               # 0 silent, 1 progress and one line per epoch, 2 the epoch lines only

    def __post_init__(self):
        if self.out is None:  # a folder per model, so runs of different models never meet
            self.out = f"runs/{self.model}"

    @classmethod
    def preset(cls, name, **changes):
        """The settings of preset ``name`` (PRESETS: 'd2l', 'quick', 'fast') with ``changes`` on top,
        as ``gluon-googlenet train --preset NAME`` and flags: ``TrainConfig.preset('fast', epochs=5)``."""
        if name not in PRESETS:
            raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
        return cls(**dict(PRESETS[name], **changes))


# Named overrides of TrainConfig; explicit CLI flags override a preset.
PRESETS = {
    "d2l": {},                             # the book's run: 96x96, 10 epochs
    # The d2l recipe unchanged (SGD lr 0.1, Xavier, batch 128, no BN) at 32x32 for 4 epochs.
    "quick": {"resize": 32, "epochs": 4},
    # The main job: the d2l GoogLeNet with batch norm (the chapter's first exercise) at the files'
    # 28x28, its first convolution started as the images' patch-whitening filters, SGD with momentum on a
    # one-cycle schedule, weight decay, random flips, flip TTA, 3 epochs.
    # Chosen from measured runs (docs/fast-recipe.md; benchmarks/fast_recipe.py measures it).
    "fast": {"model": "googlenet_d2l_bn", "resize": 0, "epochs": 3, "batch_size": 256, "optimizer": "momentum",
             "lr": 0.1, "lr_schedule": "onecycle", "warmup": 0.5, "wd": 5e-4, "augment": "flip", "tta": "flip",
             "whiten": True},
}


DataSource = namedtuple("DataSource", "dataset data_dir image_folder limit_train limit_test "
                                       "test_fraction seed bad_images verify download")
DataSource.__doc__ = ("The data a run reads: an IDX data set (name, folder) or an image folder split "
                      "per class (test_fraction, seed), limits, unreadable-image policy, MD5 check, "
                      "whether a missing IDX data set may be downloaded.")


def data_source(config, **changes):
    """The DataSource of a TrainConfig or of a checkpoint's saved config dict, with ``changes``."""
    saved = config if isinstance(config, dict) else dataclasses.asdict(config)
    defaults = dataclasses.asdict(TrainConfig())
    fields = {key: saved.get(key, defaults[key]) for key in DataSource._fields if key != "verify"}
    fields["verify"] = saved.get("verify_data", True)
    return DataSource(**fields)._replace(**changes)


SCHEDULES = ("constant", "cosine", "onecycle")  # and step:E1,E2,...
SCHEDULE_HELP = "use constant, cosine, onecycle or step:E1,E2 (e.g. step:5,8)"


def schedule_problem(schedule):
    """What is wrong with the --lr-schedule ``schedule`` (one line), or None when it is one."""
    if schedule in SCHEDULES:
        return None
    epochs = schedule[5:].split(",") if schedule.startswith("step:") else []
    if epochs and all(e.strip().isdigit() for e in epochs):
        return None
    return f"{SCHEDULE_HELP}, got {schedule!r}"


def momentum_problem(optimizer, momentum=None):
    """Why --momentum (``momentum``, where known) does not go with ``optimizer``: only momentum and
    nag take it."""
    given = "" if momentum is None else f" {momentum:g}"
    return (f"--momentum{given} is for --optimizer momentum or nag; {optimizer} takes none "
            "(sgd is the book's plain SGD)")


# MXNet 1.9.1's nag update, with weight decay, reads weights that an evaluation on oneDNN (CPU)
# has left in its own layout: the run then depends on timing (two runs differ; measured).
NAG_WD_CPU = ("--optimizer nag with --wd on CPU: MXNet 1.9.1's nag update misreads the weights after each "
              "evaluation, so the run is not reproducible; use --optimizer momentum (SGD with momentum)")


def validate(config):
    """ConfigError for settings that cannot work, before anything is loaded or written."""
    checks = [
        (config.epochs >= 1, f"--epochs must be >= 1, got {config.epochs}"),
        (config.batch_size >= 1, f"--batch-size must be >= 1, got {config.batch_size}"),
        (math.isfinite(config.lr) and config.lr > 0, f"--lr must be a positive number, got {config.lr}"),
        (config.wd >= 0, f"--wd must be >= 0, got {config.wd}"),
        (config.optimizer in OPTIMIZERS, f"--optimizer must be one of {', '.join(OPTIMIZERS)}"),
        (config.optimizer in WITH_MOMENTUM or config.momentum == TrainConfig.momentum,
         momentum_problem(config.optimizer, config.momentum)),
        (not (config.optimizer == "nag" and config.wd and "cpu" in config.ctx), NAG_WD_CPU),
        (config.precision in PRECISIONS, f"--precision must be one of {', '.join(PRECISIONS)}"),
        (config.kvstore in (None, *KVSTORES),
         f"--kvstore must be one of {', '.join(KVSTORES)}, got {config.kvstore!r}"),
        (config.bad_images in BAD_IMAGES, f"--bad-images must be one of {', '.join(BAD_IMAGES)}"),
        (config.resize is None or config.resize >= 0, f"--resize must be >= 0, got {config.resize}"),
        (0 < config.test_fraction < 1, f"--test-fraction must be between 0 and 1, got {config.test_fraction}"),
        (config.aux_weight >= 0, f"--aux-weight must be >= 0, got {config.aux_weight}"),
        (math.isfinite(config.checkpoint_every) and config.checkpoint_every >= 0,
         f"--checkpoint-every must be >= 0 minutes, got {config.checkpoint_every}"),
        (not config.limit_train or config.limit_train >= 1, "--limit-train must be >= 1"),
        (not config.limit_test or config.limit_test >= 1, "--limit-test must be >= 1"),
        (config.verbose in (0, 1, 2), f"--verbose must be 0, 1 or 2, got {config.verbose!r}"),
        (not (config.resume and config.overwrite), RESUME_OR_OVERWRITE),
        (0 <= config.warmup < config.epochs, f"--warmup must be >= 0 and below --epochs, got {config.warmup}"),
        (config.lr_schedule == "onecycle" or not config.warmup, "--warmup is for --lr-schedule onecycle"),
        (0 <= config.label_smoothing < 1, f"--label-smoothing must be in [0, 1), got {config.label_smoothing}"),
        (0 <= config.ema < 1, f"--ema must be in [0, 1), got {config.ema}"),
        (not (config.whiten and config.pretrained),
         "--whiten starts the first layer from the data, --pretrained from published weights: give one of them"),
        (config.augment in AUGMENTS, f"--augment must be one of {', '.join(AUGMENTS)}"),
        (config.tta in TEST_TIME, f"--tta must be one of {', '.join(TEST_TIME)}"),
        (config.kvstore != "dist_sync" or config.lr_schedule == "constant",
         "--kvstore dist_sync keeps --lr-schedule constant: the servers hold the optimizer they were sent, "
         "a later learning rate never reaches them"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(message)
    problem = schedule_problem(config.lr_schedule)
    if problem:
        raise ConfigError(f"bad --lr-schedule: {problem}")


def input_side(config):
    """Side of the square images --resize asks for, or None for the model's own;
    --resize 0 keeps the IDX files' 28."""
    if config.resize is None:
        return None
    return config.resize or 28
