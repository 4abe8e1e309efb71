"""The ``train`` verb's options in argument groups (model, data, optimizer, run), as timm's train.py.

Their defaults are None, so a --preset sits below explicit flags and --resume can tell a flag given
on the command line from one left alone; the help shows each TrainConfig default.
"""
import argparse

from . import options as shared


def parse_train_args(words):
    """``words`` read as ``gluon-googlenet train`` reads them (launch checks its train options
    before any process starts): a usage error exits 2 with one line."""
    parser = shared.OneLineParser(prog="gluon-googlenet train")
    add_train_options(parser)
    return parser.parse_args(words)


def add_train_options(p):
    """Add every TrainConfig flag to ``p``, grouped."""
    from ..nn.registry import list_models
    from ..training.data.datasets import DATASETS
    from ..training.run import config as settings
    from ..training.run.config import BAD_IMAGES, KVSTORES, OPTIMIZERS, PRECISIONS, PRESETS, TrainConfig
    d = TrainConfig()
    p.add_argument("--preset", choices=sorted(PRESETS), default="d2l",
                   help="settings to start from, below any flag given: d2l, the book's run (default); "
                        + "; ".join(f"{name}: " + ", ".join(f"{k} {v}" for k, v in PRESETS[name].items())
                                    for name in sorted(PRESETS) if name != "d2l"))
    model = p.add_argument_group("model")
    model.add_argument("--model", choices=list_models(), metavar="NAME", help=shared.MODEL_HELP)
    model.add_argument("--resize", type=int, help="image side fed to the net; 0 keeps 28 (default: the model's input)")
    model.add_argument("--aux-logits", action="store_const", const=True,
                       help="build the auxiliary classifiers (googlenet) and train on their losses too")
    model.add_argument("--aux-weight", type=shared.nonnegative_float,
                       help=f"weight of each auxiliary loss (default: {d.aux_weight})")
    model.add_argument("--pretrained", metavar="FILE|gluoncv|torchvision|timm[:TAG]",
                       help="start from published weights: a GluonCV .params, torchvision .pth or timm "
                            ".safetensors file, or a publisher's name for its own file, downloaded on first use "
                            "into the cache its library keeps; a new head is sized for the data's classes and "
                            "the source's input normalisation is used")
    model.add_argument("--whiten", action=argparse.BooleanOptionalAction,
                       help="start the first convolution as the patch-whitening filters of the first training "
                            "images (their largest decorrelated components and the negatives), not Xavier's; "
                            f"--no-whiten: Xavier's, as the book (default: {'on' if d.whiten else 'off'})")
    model.add_argument("--freeze", metavar="STAGES",
                       help="comma-separated stages kept fixed, e.g. b1,b2,b3 (no gradients, BN statistics frozen)")
    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=sorted(DATASETS), help=f"default: {d.dataset}")
    data.add_argument("--data-dir", help=shared.DATA_DIR_HELP)
    data.add_argument("--image-folder", metavar="DIR",
                      help="train on the images in DIR/<class>/ instead of --dataset (ImageNet normalisation)")
    data.add_argument("--test-fraction", type=shared.fraction,
                      help=f"image folders: share of each class held out for testing (default: {d.test_fraction})")
    data.add_argument("--bad-images", choices=BAD_IMAGES,
                      help=f"image folders: stop at an unreadable image, or skip and name it (default: {d.bad_images})")
    data.add_argument("--limit-train", type=shared.optional_positive, help="use the first N training images")
    data.add_argument("--limit-test", type=shared.optional_positive, help=shared.LIMIT_TEST_HELP)
    data.add_argument("--augment", choices=settings.AUGMENTS,
                      help=f"training batches: flip mirrors half of the images, crop-flip also shifts each by "
                           f"up to side/8 px (padded with black) (default: {d.augment})")
    data.add_argument("--tta", choices=settings.TEST_TIME,
                      help=f"test-time augmentation of each epoch's test: flip averages an image's logits with "
                           f"its mirror's (default: {d.tta})")
    data.add_argument("--no-verify", dest="verify_data", action="store_false", default=None,
                      help=shared.NO_VERIFY_HELP)
    data.add_argument("--no-download", dest="download", action="store_false", default=None,
                      help=shared.NO_DOWNLOAD_HELP)
    _optimizer_options(p.add_argument_group("optimizer"), d, OPTIMIZERS, PRECISIONS, KVSTORES)
    _run_options(p.add_argument_group("run"), d)


def _optimizer_options(group, d, optimizers, precisions, kvstores):
    group.add_argument("--epochs", type=shared.positive, help=f"default: {d.epochs}")
    group.add_argument("--batch-size", type=shared.positive, help=f"default: {d.batch_size}")
    group.add_argument("--lr", type=shared.positive_float, help=f"learning rate (default: {d.lr})")
    group.add_argument("--optimizer", choices=optimizers,
                       help=f"sgd (plain, the book's), momentum (SGD with momentum), nag (Nesterov), adam "
                            f"(default: {d.optimizer})")
    group.add_argument("--momentum", type=shared.nonnegative_float,
                       help=f"for momentum and nag (default: {d.momentum})")
    group.add_argument("--lr-schedule", type=shared.lr_schedule,
                       help=f"constant, cosine (per epoch), step:E1,E2 (x0.1 at each) or onecycle (per batch: "
                            f"--warmup epochs rising from lr/25, then a cosine to 0; default: {d.lr_schedule})")
    group.add_argument("--warmup", type=shared.nonnegative_float, metavar="EPOCHS",
                       help=f"onecycle: epochs (fractions allowed) of the rise (default: {d.warmup:g})")
    group.add_argument("--label-smoothing", type=shared.nonnegative_float, metavar="E",
                       help=f"train on targets 1-E for the class and E spread over all "
                            f"(default: {d.label_smoothing:g})")
    group.add_argument("--wd", type=shared.nonnegative_float, help=f"weight decay (default: {d.wd:g})")
    group.add_argument("--ema", type=shared.nonnegative_float, metavar="DECAY",
                       help="test, keep as best and export a moving average of the weights, updated after "
                            f"every step with this decay, e.g. 0.998 (default: {d.ema:g}, off)")
    group.add_argument("--precision", choices=precisions,
                       help=f"fp32; bf16: MXNet AMP on CPUs with AVX512_BF16; fp16: AMP with loss scaling on "
                            f"GPUs (default: {d.precision})")
    group.add_argument("--kvstore", choices=kvstores,
                       help="gradient aggregation (default: device for several contexts); dist_sync across "
                            "processes started by 'gluon-googlenet launch' or by the DMLC variables")
    group.add_argument("--seed", type=int, help=f"default: {d.seed}")


def _run_options(group, d):
    group.add_argument("--ctx", help=shared.CTX_HELP)
    group.add_argument("--out", help="run folder (default: runs/MODEL)")
    group.add_argument("--resume", action="store_true",
                       help="continue from OUT's newest intact checkpoint (last.ckpt, else previous.ckpt, "
                            "else best.ckpt), mid-epoch ones included")
    group.add_argument("--overwrite", action="store_true",
                       help="OUT holds another run: start anew, its files moved into OUT/replaced-DATE-TIME/ "
                            "(nothing is deleted; without this or --resume such a run is refused)")
    group.add_argument("--checkpoint-every", type=shared.nonnegative_float, metavar="MINUTES",
                       help=f"write last.ckpt mid-epoch every MINUTES too, so a kill loses at most that "
                            f"(default: {d.checkpoint_every:g}; 0: only at epoch ends). SIGTERM or Ctrl-C "
                            "always saves the current batch and stops (exit 143 / 130)")
    group.add_argument("--no-progress", dest="progress", action="store_false", default=None,
                       help="no progress bar or quarter-epoch lines")
    group.add_argument("--verbose", type=int, choices=(0, 1, 2),
                       help="0 silent, 1 progress and one line per epoch, 2 the epoch lines only "
                            f"(default: {d.verbose})")
    group.add_argument("--report", action="store_true", help="write OUT/report.html at the end")
