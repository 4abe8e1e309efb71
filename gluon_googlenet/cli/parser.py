"""The command line's parser, built from shared parts: one parent parser per option group
(model, devices, data, checkpoint, image, output), one help text per option (options.py), and a
table of verbs from which the sub-commands and the description are made. Parsing needs no MXNet."""
import argparse
from collections import namedtuple

from .. import __version__
from . import commands
from .options import (
    CTX_HELP,
    DATA_DIR_HELP,
    LIMIT_TEST_HELP,
    MODEL_HELP,
    NO_DOWNLOAD_HELP,
    NO_VERIFY_HELP,
    OneLineParser,
    optional_positive,
    positive,
)
from .train_options import add_train_options


# --- shared option groups, one parent parser each --------------------------------------------
def _parent():
    return argparse.ArgumentParser(add_help=False)


def model_options():
    """--model, --classes, --channels and --size: the net to build."""
    from ..nn.registry import list_models
    p = _parent()
    group = p.add_argument_group("model")
    group.add_argument("--model", default="googlenet_d2l", choices=list_models(), metavar="NAME", help=MODEL_HELP)
    group.add_argument("--classes", type=positive, help="number of classes (default: the model's)")
    group.add_argument("--channels", type=positive, help="input channels (default: the model's)")
    group.add_argument("--size", type=positive, help="input height and width (default: the model's)")
    return p


def ctx_options():
    """--ctx."""
    p = _parent()
    p.add_argument("--ctx", default="cpu", help=CTX_HELP)
    return p


def data_options():
    """--data-dir, --no-verify and --no-download: where the IDX files are, whether their MD5s are
    checked and whether a missing data set may be downloaded."""
    p = _parent()
    group = p.add_argument_group("data")
    group.add_argument("--data-dir", help=DATA_DIR_HELP)
    group.add_argument("--no-verify", dest="verify_data", action="store_false", default=None, help=NO_VERIFY_HELP)
    group.add_argument("--no-download", dest="download", action="store_false", default=None, help=NO_DOWNLOAD_HELP)
    return p


def checkpoint_argument():
    """The positional CHECKPOINT."""
    p = _parent()
    p.add_argument("checkpoint", help="a .ckpt file written by train")
    return p


def image_options():
    """--image and -o/--output PNG."""
    p = _parent()
    p.add_argument("--image", required=True, help="an image file, or test:INDEX for a test-set image")
    p.add_argument("-o", "--output", required=True, metavar="PNG", help="output PNG")
    return p


# --- each verb's own options ----------------------------------------------------------------
def _shapes(p):
    p.add_argument("--batch", type=positive, default=1, help="batch size of the probe input (default: %(default)s)")


def _summary(p):
    p.add_argument("--depth", type=int, default=None, help="deepest nesting level to list (default: all)")


def _export(p):
    p.add_argument("--out", "-o", required=True, metavar="PREFIX", help="output path prefix")
    p.add_argument("--checkpoint", help="training checkpoint to export (default: fresh Xavier weights)")
    p.add_argument("--epoch", type=int, default=0, help="number in the .params file name (default: %(default)s)")
    p.add_argument("--preprocess", action="store_true",
                   help="build the checkpoint's input normalisation into the graph: it then takes RGB in [0, 1]")
    p.add_argument("--format", choices=("mxnet", "onnx"), default="mxnet",
                   help="mxnet: PREFIX-symbol.json + PREFIX-NNNN.params; onnx: PREFIX.onnx (default: %(default)s)")
    p.add_argument("--tta", choices=("flip",),
                   help="put test-time augmentation inside the graph: flip averages each image's logits with "
                        "its mirror's (as a run with --tta flip tested)")
    p.add_argument("--no-measure", dest="measure", action="store_false",
                   help="with --checkpoint: do not measure the export's test accuracy on its run's test set "
                        "(default: measure it on the exported files and write it into PREFIX-meta.json)")


def _info(p):
    p.add_argument("--json", action="store_true", help="one JSON object instead of lines")


def _zoo(p):
    p.add_argument("models", nargs="*", metavar="NAME", help="only these models")
    p.add_argument("--markdown", action="store_true", help="a Markdown table (for the README)")
    p.add_argument("--features", action="store_true",
                   help="the feature levels of each model (features_only, feature_info) as a Markdown table")


def _diagram(p):
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.svg, FILE.png or FILE.pdf")
    p.add_argument("--expanded", action="store_true", help="every operator instead of one box per stage")


def _branches(p):
    p.add_argument("--block", required=True, help="dotted path of an Inception block, e.g. b3.0")
    p.add_argument("--per-branch", type=positive, default=8, help="channels shown per branch (default: %(default)s)")


def _cam(p):
    p.add_argument("--layer", help="a stage (b4) or layer (b4.2) with spatial maps (default: the deepest "
                                   "whose maps are at least 2x2 at the checkpoint's input size)")
    p.add_argument("--class", dest="class_index", type=int, metavar="K",
                   help="the class to explain (default: the predicted one; test images add the true one)")


def _report(p):
    p.add_argument("run_dir", help="a folder written by train (history.json, best.ckpt)")
    p.add_argument("-o", "--output", help="HTML file (default: RUN_DIR/report.html)")
    p.add_argument("--checkpoint", default="best.ckpt", help="checkpoint in RUN_DIR to analyse (default: %(default)s)")


def _launch(p):
    from ..training.launch.spawn import LAUNCHERS
    p.add_argument("--launcher", choices=LAUNCHERS, default="local",
                   help="how processes start: on this machine, over ssh, or by mpirun (default: %(default)s)")
    p.add_argument("-H", "--hostfile", metavar="HOSTFILE",
                   help="hosts for ssh and mpi, one host[:port] per line (port: ssh's)")
    p.add_argument("--workers", type=positive, default=2, help="worker processes (default: %(default)s)")
    p.add_argument("--servers", type=positive, default=1, help="parameter servers (default: %(default)s)")
    p.add_argument("--scheduler-host", "--host", dest="scheduler_host", metavar="ADDRESS",
                   help="this machine's address the scheduler binds to (default: 127.0.0.1 for local, "
                        "else the one on the route to the first host)")
    p.add_argument("--port", type=positive, help="scheduler port (default: a free one)")
    p.add_argument("--timeout", type=positive, default=3600,
                   help="seconds before all are stopped (default: %(default)s)")
    p.add_argument("--start-timeout", type=positive, default=300,
                   help="seconds for every worker to join ps-lite before all are stopped (default: %(default)s)")
    p.add_argument("--gpus-per-worker", type=positive, default=1, metavar="G",
                   help="with train's --ctx gpu: local worker k of a host trains on GPUs k*G .. k*G+G-1 "
                        "(with --ctx gpu:LIST, on the k-th G of the list) (default: %(default)s)")
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then 'train' options")


def _inference_precision(p):
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                   help="bf16: MXNet's bfloat16 graph (AVX512_BF16), on AMX where the CPU has it; this "
                        "process then does bf16 inference only (default: %(default)s)")


def _evaluate(p):
    _inference_precision(p)
    p.add_argument("--batch-size", type=positive, default=256, help="default: %(default)s")
    p.add_argument("--limit-test", type=optional_positive, help=LIMIT_TEST_HELP)
    p.add_argument("--confusion", metavar="PNG", help="confusion matrix file (default: beside the checkpoint)")
    p.add_argument("--tta", choices=("flip",),
                   help="test-time augmentation: flip averages each image's logits with its mirror's")


def _predict(p):
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image file, or test:INDEX for a test-set image")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a .ckpt file written by train: its classes")
    source.add_argument("--pretrained", metavar="FILE|gluoncv|torchvision|timm[:TAG]",
                        help="published ImageNet weights instead (their own preprocessing): the top 5 classes; "
                             "a publisher's name downloads its own file on first use")
    p.add_argument("--model", default="googlenet", help="the model of --pretrained (default: %(default)s)")
    _inference_precision(p)


def _data(p):
    from ..training.data.datasets import DATASETS
    p.add_argument("action", choices=("fetch",), help="fetch: download a data set and check its MD5s")
    p.add_argument("dataset", choices=sorted(DATASETS), help="the data set")
    p.add_argument("--dir", help="folder to put the files in (default: MXNet's data set cache, "
                                 "$MXNET_HOME/datasets/NAME, where the package looks)")


Verb = namedtuple("Verb", "name help run parents own")
VERBS = (
    Verb("shapes", "print the output shape of every stage", commands.cmd_shapes, ("model", "ctx"), _shapes),
    Verb("summary", "layer table: output shapes, parameters, mult-adds", commands.cmd_summary, ("model", "ctx"),
         _summary),
    Verb("export", "write PREFIX-symbol.json and PREFIX-NNNN.params (or ONNX)", commands.cmd_export,
         ("model", "ctx", "data"), _export),
    Verb("info", "MXNet build, CPU model, cores, threads, ISA flags, GPUs", commands.cmd_info, (), _info),
    Verb("zoo", "table of every model: parameters, mult-adds, input sizes", commands.cmd_zoo, (), _zoo),
    Verb("diagram", "draw the network with mx.viz.plot_network (Graphviz)", commands.cmd_diagram,
         ("model", "ctx"), _diagram),
    Verb("train", "train on Fashion-MNIST, MNIST or an image folder (d2l defaults)", commands.cmd_train, (),
         add_train_options),
    Verb("launch", "train on the distributed kvstore: scheduler, servers and workers on this or several hosts",
         commands.cmd_launch, (),
         _launch),
    Verb("evaluate", "test accuracy, per-class accuracy, confusion matrix PNG", commands.cmd_evaluate,
         ("checkpoint", "ctx", "data"), _evaluate),
    Verb("predict", "class names for image files (or test:INDEX)", commands.cmd_predict, ("ctx", "data"),
         _predict),
    Verb("branches", "PNG grid of an Inception block's four branch activations", commands.cmd_branches,
         ("checkpoint", "image", "ctx", "data"), _branches),
    Verb("cam", "Grad-CAM: where a trained net looks for a class (image, heat map, overlay)", commands.cmd_cam,
         ("checkpoint", "image", "ctx", "data"), _cam),
    Verb("report", "one self-contained HTML page about a training run", commands.cmd_report, ("data",), _report),
    Verb("data", "fetch Fashion-MNIST or MNIST from MXNet's data set repository (MXNET_GLUON_REPO)",
         commands.cmd_data, (), _data),
)


def build_parser():
    """The ``gluon-googlenet`` parser: one sub-command per entry of VERBS."""
    parents = {"model": model_options(), "ctx": ctx_options(), "data": data_options(),
               "checkpoint": checkpoint_argument(), "image": image_options()}
    parser = OneLineParser(prog="gluon-googlenet",
                           description="GoogLeNet (Inception v1) and its family in MXNet Gluon. Verbs: "
                                       + "; ".join(f"{v.name}: {v.help}" for v in VERBS) + ".")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for verb in VERBS:
        p = sub.add_parser(verb.name, help=verb.help, description=verb.help,
                           parents=[parents[name] for name in verb.parents])
        verb.own(p)
        p.set_defaults(func=verb.run, parser=p)
    return parser
