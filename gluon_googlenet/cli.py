"""``gluon-googlenet`` command line: parses arguments and calls library functions.

Parsing needs no MXNet (model names, data sets and option choices are plain tables), so
``--help``, ``--version`` and argument errors answer at once; each verb imports what it uses.
Importing the package has set OMP_NUM_THREADS before any verb loads MXNet.
"""
import argparse
import sys

from . import __version__
from .base.errors import GluonGoogLeNetError, Stopped


class OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _model_args(parser, with_size=True):
    from .nn.registry import list_models
    parser.add_argument("--model", default="googlenet_d2l", choices=list_models(), metavar="NAME",
                        help="registered model (default: googlenet_d2l; all: %(choices)s)")
    parser.add_argument("--classes", type=_positive, help="number of classes (default: the model's)")
    parser.add_argument("--channels", type=_positive, help="input channels (default: the model's)")
    if with_size:
        parser.add_argument("--size", type=_positive, help="input height and width (default: the model's)")
    parser.add_argument("--ctx", default="cpu", help="cpu, gpu, gpu:0,1 (default: cpu)")


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _build(args, batch=1):
    """Build and initialise the model named in ``args``; return (net, input_shape, ctx list)."""
    import mxnet as mx

    from .base.context import parse_ctx
    from .nn.registry import get_spec
    from .weights.factory import get_model
    spec = get_spec(args.model)
    ctxs = parse_ctx(args.ctx)
    channels = args.channels or spec.input_size[0]
    size = getattr(args, "size", None) or spec.input_size[1]
    net = get_model(args.model, classes=args.classes or spec.classes, in_channels=channels,
                    input_size=size)
    net.initialize(mx.init.Xavier(), ctx=ctxs[0])
    return net, (batch, channels, size, size), ctxs


def cmd_shapes(args):
    from .viz.summary import stage_shapes
    net, shape, ctxs = _build(args, args.batch)
    for name, out_shape in stage_shapes(net, shape, ctxs[0]):
        print(f"{name} {out_shape}")


def cmd_summary(args):
    from .viz.summary import format_summary, layer_summary
    net, shape, ctxs = _build(args)
    print(format_summary(layer_summary(net, shape, ctxs[0], max_depth=args.depth)))


def cmd_export(args):
    from .weights.export import export_model
    preprocess = None
    if args.checkpoint:
        from .base.context import parse_ctx
        from .training.checkpoint import load_model
        ctxs = parse_ctx(args.ctx)
        net, meta = load_model(args.checkpoint, ctxs)
        size = args.size or meta["input_size"]
        shape = (1, meta["in_channels"], size, size)
        preprocess = (meta["mean"], meta["std"]) if args.preprocess and meta.get("mean") else None
    else:
        net, shape, ctxs = _build(args)
    if args.preprocess and not preprocess:
        raise GluonGoogLeNetError("--preprocess: this net takes [0, 1] inputs as they are (no normalisation "
                                  "to build in); it needs a --checkpoint of a run that normalised its inputs")
    if args.format == "onnx":
        from .weights.export import export_onnx
        print(export_onnx(net, args.out if args.out.endswith(".onnx") else args.out + ".onnx",
                          shape, ctxs[0], preprocess))
        return
    paths = export_model(net, args.out, shape, args.epoch, ctxs[0], preprocess)
    print("\n".join(paths))


def _optional_positive(text):
    return None if text in ("0", "none", "all") else _positive(text)


class _PrintLog:
    """While active, the package's log messages (epoch lines) go to stdout."""

    def __enter__(self):
        import logging
        self.logger = logging.getLogger("gluon_googlenet")
        self.handler = logging.StreamHandler(sys.stdout)
        self.handler.setFormatter(logging.Formatter("%(message)s"))
        self.logger.addHandler(self.handler)
        self.level, self.propagate = self.logger.level, self.logger.propagate
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False  # once, even where a root handler exists (MXNet's AMP adds one)
        return self

    def __exit__(self, *exc):
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)
        self.logger.propagate = self.propagate


def cmd_train(args):
    import dataclasses

    from .training.config import PRESETS, TrainConfig
    from .training.trainer import train
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    values = dict(PRESETS[args.preset])
    values.update({k: v for k, v in vars(args).items() if k in fields and v is not None})
    values.setdefault("out", f"runs/{values.get('model', TrainConfig.model)}")
    with _PrintLog():
        result = train(TrainConfig(**values))
    if args.report:
        from .viz.report import build_report
        print(f"report: {build_report(result.out)}")
    print(f"run folder: {result.out}")


def cmd_evaluate(args):
    from .training.inference import default_confusion_path, evaluate_checkpoint
    png = args.confusion or default_confusion_path(args.checkpoint)
    result = evaluate_checkpoint(args.checkpoint, args.ctx, args.batch_size, png, args.tta,
                                 data_dir=args.data_dir, limit_test=args.limit_test, verify=args.verify_data)
    meta = result["meta"]
    print(f"{meta['model']} (epoch {meta['epoch']}) on {meta['dataset']} test set"
          f"{' with flip test-time augmentation' if args.tta else ''}: "
          f"accuracy {result['acc']:.4f} ({result['count']} images), loss {result['loss']:.4f}")
    for name, acc in result["per_class"].items():
        print(f"  {name:<12} {acc:.3f}")
    print(f"confusion matrix: {png}")


def cmd_predict(args):
    from .training.inference import predict_images, predict_pretrained
    if args.pretrained:  # every positional is an image
        for row in predict_pretrained(args.model, args.pretrained, [args.checkpoint, *args.images], args.ctx):
            print(f"{row['source']}:")
            for name, prob in row["top"]:
                print(f"  {name} {prob:.3f}")
        return
    if not args.images:
        raise GluonGoogLeNetError("give the image(s) after the checkpoint, or --pretrained WEIGHTS --model NAME")
    for row in predict_images(args.checkpoint, args.images, args.ctx, args.data_dir):
        truth = f" (true: {row['true']})" if row["true"] is not None else ""
        print(f"{row['source']}: {row['class']} {row['prob']:.3f}{truth}")


def _train_args(p):
    """Training flags; their defaults are None so --preset can sit below explicit flags."""
    from .nn.registry import list_models
    from .training.config import BAD_IMAGES, KVSTORES, OPTIMIZERS, PRECISIONS, PRESETS, TrainConfig
    from .training.datasets import DATASETS
    d = TrainConfig()
    p.add_argument("--preset", choices=sorted(PRESETS), default="d2l",
                   help="d2l: the book's full run (default); quick: "
                        + ", ".join(f"{k} {v}" for k, v in PRESETS["quick"].items()))
    p.add_argument("--model", choices=list_models(), metavar="NAME", help=f"default: {d.model}")
    p.add_argument("--dataset", choices=sorted(DATASETS), help=f"default: {d.dataset}")
    p.add_argument("--data-dir", help="folder with the IDX files (default: search the usual places)")
    p.add_argument("--epochs", type=_positive, help=f"default: {d.epochs}")
    p.add_argument("--batch-size", type=_positive, help=f"default: {d.batch_size}")
    p.add_argument("--lr", type=float, help=f"learning rate (default: {d.lr})")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help=f"default: {d.optimizer}")
    p.add_argument("--momentum", type=float, help=f"for nag (default: {d.momentum})")
    p.add_argument("--lr-schedule", help="constant, cosine or step:E1,E2 (x0.1 at each; "
                                         f"default: {d.lr_schedule})")
    p.add_argument("--wd", type=float, help=f"weight decay (default: {d.wd})")
    p.add_argument("--resize", type=int, help="image side fed to the net; 0 keeps 28 "
                                             "(default: the model's input size)")
    p.add_argument("--image-folder", metavar="DIR",
                   help="train on DIR/<class>/*.jpg|png... instead of --dataset (ImageNet normalisation)")
    p.add_argument("--test-fraction", type=float,
                   help=f"image folders: share of each class held out for testing (default: {d.test_fraction})")
    p.add_argument("--bad-images", choices=BAD_IMAGES,
                   help="image folders: stop at an unreadable image, or skip it and name it (default: error)")
    p.add_argument("--aux-logits", action="store_const", const=True,
                   help="build the auxiliary classifiers (googlenet) and train on their losses too")
    p.add_argument("--aux-weight", type=float, help=f"weight of each auxiliary loss (default: {d.aux_weight})")
    p.add_argument("--pretrained", metavar="FILE|gluoncv",
                   help="start from published weights: a GluonCV .params, torchvision .pth or timm "
                        ".safetensors file, or 'gluoncv' for GluonCV's model store; a new head is "
                        "sized for the data's classes and the source's input normalisation is used")
    p.add_argument("--freeze", metavar="STAGES",
                   help="comma-separated stages kept fixed while training, e.g. b1,b2,b3 "
                        "(no gradients, no optimizer state, BN statistics frozen)")
    p.add_argument("--limit-train", type=_optional_positive, help="use the first N training images")
    p.add_argument("--limit-test", type=_optional_positive, help="use the first N test images")
    p.add_argument("--ctx", help="cpu, gpu, gpu:0,1, cpu:0,1 (default: cpu)")
    p.add_argument("--seed", type=int, help=f"default: {d.seed}")
    p.add_argument("--out", help="run folder (default: runs/MODEL)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT's newest intact checkpoint (last.ckpt, else previous.ckpt, "
                        "else best.ckpt), mid-epoch ones included")
    p.add_argument("--checkpoint-every", type=float, metavar="MINUTES",
                   help=f"write last.ckpt mid-epoch every MINUTES too, so a kill loses at most that "
                        f"(default: {d.checkpoint_every:g}; 0: only at epoch ends). SIGTERM or Ctrl-C "
                        "always saves the current batch and stops (exit 143 / 130)"),
    p.add_argument("--no-verify", dest="verify_data", action="store_false",
                   help="skip the MD5 check of the data files")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.add_argument("--report", action="store_true", help="write OUT/report.html at the end")
    p.add_argument("--precision", choices=PRECISIONS,
                   help="fp32 (default); bf16: MXNet AMP on CPUs with AVX512_BF16; fp16: AMP with "
                        "loss scaling on GPUs")
    p.add_argument("--kvstore", choices=KVSTORES,
                   help="gradient aggregation (default: device for several contexts); dist_sync "
                        "across processes started by 'gluon-googlenet launch' or DMLC_* variables")


def cmd_info(args):
    import json

    from .base.cpu import FEATURES, cpu_info, machine_record
    record = machine_record()
    if args.json:
        print(json.dumps(dict(record, gluon_googlenet=__version__), indent=2))
        return
    info = cpu_info()
    threads = record["omp_threads"]
    print(f"gluon-googlenet {__version__}, Python {record['python']} ({record['machine']})")
    print(f"MXNet {record['mxnet']}; built with: {', '.join(record['mxnet_features'])}")
    print(f"CPU: {info.model}, {info.cores} cores usable, {threads} OpenMP thread(s) in use")
    print("ISA (OS): " + ", ".join(f"{name} {'yes' if name in info.os_features else 'no'}"
                                   for name in FEATURES))
    print(f"oneDNN ISA cap: {info.isa_cap or 'none (DNNL_MAX_CPU_ISA unset)'}; "
          f"usable: {', '.join(sorted(info.features)) or 'none of the above'}")
    print(f"bfloat16 (--precision bf16, fast.bfloat16): "
          f"{'available' if record['bf16'] else 'not supported on this CPU'}")
    vnni = "VNNI" if {"AVX512_VNNI", "AVX-VNNI"} & info.features else "no VNNI: slower"
    print(f"INT8 inference (fast.int8): available ({vnni})")
    print(f"GPUs seen by MXNet: {record['gpus']}")


def cmd_zoo(args):
    from .viz.zoo import format_features, format_zoo, zoo_rows
    if args.features:
        print(format_features(args.models or None))
        return
    print(format_zoo(zoo_rows(args.models or None), markdown=args.markdown))


def cmd_diagram(args):
    from .viz.diagram import draw_network
    net, shape, _ = _build(args)
    print(draw_network(net, shape, args.output, expanded=args.expanded, title=args.model))


def cmd_branches(args):
    from .base.context import parse_ctx
    from .training.checkpoint import load_model
    from .training.inference import read_image
    from .viz.featuremaps import branch_activations, plot_branch_maps
    net, meta = load_model(args.checkpoint, parse_ctx("cpu"))
    image, label = read_image(args.image, meta, args.data_dir)
    maps = branch_activations(net, image, args.block, meta.get("mean"), meta.get("std"))
    truth = "" if label is None else f" (true class: {meta['class_names'][label]})"
    print(plot_branch_maps(image, maps, args.output, f"{meta['model']} block {args.block}, "
                                                      f"image {args.image}{truth}", args.per_branch))


def cmd_cam(args):
    import mxnet as mx

    from .base.context import parse_ctx
    from .training.checkpoint import load_model
    from .training.data import to_input
    from .training.inference import read_image
    from .viz.gradcam import grad_cam, plot_cam
    ctx = parse_ctx(args.ctx)[0]
    net, meta = load_model(args.checkpoint, [ctx])
    image, label = read_image(args.image, meta, args.data_dir, args.verify_data)
    x = to_input(mx.nd.array(image[None], ctx=ctx, dtype="uint8"), meta.get("mean"), meta.get("std"))
    names = meta["class_names"]
    maps, classes = grad_cam(net, x, args.layer, args.class_index)
    rows = [(f"{names[classes[0]]} ({'asked' if args.class_index is not None else 'predicted'})", maps[0])]
    if label is not None and label != classes[0]:
        rows.append((f"{names[label]} (true)", grad_cam(net, x, args.layer, label)[0][0]))
    truth = "" if label is None else f", true class {names[label]}"
    print(plot_cam(image, rows, args.output, f"{meta['model']} Grad-CAM at {args.layer}: {args.image}{truth}"))


def cmd_report(args):
    from .viz.report import build_report
    print(build_report(args.run_dir, args.output, args.data_dir, args.checkpoint))


def cmd_launch(args):
    from .training.distributed import launch_local
    train_args = args.train_args[1:] if args.train_args[:1] == ["--"] else args.train_args
    code = launch_local(train_args, args.workers, args.servers, args.host, args.port, args.timeout)
    if code:
        raise GluonGoogLeNetError(f"a worker exited with code {code}")


def build_parser():
    parser = OneLineParser(prog="gluon-googlenet",
                           description="GoogLeNet (Inception v1) in MXNet Gluon: shapes, summary, "
                                       "export, training and evaluation.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("shapes", help="print the output shape of every stage")
    _model_args(p)
    p.add_argument("--batch", type=_positive, default=1, help="batch size of the probe input")
    p.set_defaults(func=cmd_shapes)

    p = sub.add_parser("summary", help="layer table: output shapes and parameter counts")
    _model_args(p)
    p.add_argument("--depth", type=int, default=None, help="deepest nesting level to list (default: all)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("export", help="write PREFIX-symbol.json and PREFIX-NNNN.params")
    _model_args(p)
    p.add_argument("--out", "-o", required=True, metavar="PREFIX", help="output path prefix")
    p.add_argument("--checkpoint", help="training checkpoint to export (default: fresh Xavier weights)")
    p.add_argument("--epoch", type=int, default=0, help="number in the .params file name")
    p.add_argument("--preprocess", action="store_true",
                   help="build the checkpoint's input normalisation into the graph: it then takes RGB in [0, 1]")
    p.add_argument("--format", choices=("mxnet", "onnx"), default="mxnet",
                   help="mxnet: PREFIX-symbol.json + PREFIX-NNNN.params (default); onnx: PREFIX.onnx")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("info", help="MXNet build, CPU model, cores, threads, ISA flags, GPUs")
    p.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("zoo", help="table of every model: parameters, mult-adds, input sizes")
    p.add_argument("models", nargs="*", metavar="NAME", help="only these models")
    p.add_argument("--markdown", action="store_true", help="a Markdown table (for the README)")
    p.add_argument("--features", action="store_true",
                   help="the feature levels of each model (features_only, feature_info) as a Markdown table")
    p.set_defaults(func=cmd_zoo)

    p = sub.add_parser("diagram", help="draw the network with mx.viz.plot_network (Graphviz)")
    _model_args(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="FILE.svg, FILE.png or FILE.pdf")
    p.add_argument("--expanded", action="store_true", help="every operator instead of one box per stage")
    p.set_defaults(func=cmd_diagram)

    p = sub.add_parser("branches", help="PNG grid of an Inception block's four branch activations")
    p.add_argument("checkpoint", help="a .ckpt file written by train")
    p.add_argument("--block", required=True, help="dotted path of an Inception block, e.g. b3.0")
    p.add_argument("--image", required=True, help="an image file, or test:INDEX for a test-set image")
    p.add_argument("-o", "--output", required=True, metavar="PNG", help="output PNG")
    p.add_argument("--per-branch", type=_positive, default=8, help="channels shown per branch (default: 8)")
    p.add_argument("--data-dir", help="folder with the IDX files (for test:INDEX)")
    p.set_defaults(func=cmd_branches)

    p = sub.add_parser("cam", help="Grad-CAM: where a trained net looks for a class (image, heat map, overlay)")
    p.add_argument("checkpoint", help="a .ckpt file written by train")
    p.add_argument("--image", required=True, help="an image file, or test:INDEX for a test-set image")
    p.add_argument("--layer", default="b4", help="a stage (b4) or layer (b4.2) with spatial maps (default: b4)")
    p.add_argument("--class", dest="class_index", type=int, metavar="K",
                   help="the class to explain (default: the predicted one; test images add the true one)")
    p.add_argument("-o", "--output", required=True, metavar="PNG", help="output PNG")
    p.add_argument("--data-dir", help="folder with the IDX files (for test:INDEX)")
    p.add_argument("--ctx", default="cpu", help="cpu or gpu (default: cpu)")
    p.add_argument("--no-verify", dest="verify_data", action="store_false",
                   help="skip the MD5 check of the data files")
    p.set_defaults(func=cmd_cam)

    p = sub.add_parser("report", help="one self-contained HTML page about a training run")
    p.add_argument("run_dir", help="a folder written by train (history.json, best.ckpt)")
    p.add_argument("-o", "--output", help="HTML file (default: RUN_DIR/report.html)")
    p.add_argument("--checkpoint", default="best.ckpt", help="checkpoint in RUN_DIR to analyse")
    p.add_argument("--data-dir", help="folder with the IDX files")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("train", help="train on Fashion-MNIST or MNIST (d2l defaults)")
    _train_args(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("launch", help="train on the distributed kvstore with local worker processes")
    p.add_argument("--workers", type=_positive, default=2, help="worker processes (default: 2)")
    p.add_argument("--servers", type=_positive, default=1, help="parameter servers (default: 1)")
    p.add_argument("--host", default="127.0.0.1", help="scheduler address (default: 127.0.0.1)")
    p.add_argument("--port", type=_positive, help="scheduler port (default: a free one)")
    p.add_argument("--timeout", type=_positive, default=3600, help="seconds before all are stopped")
    p.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then 'train' options")
    p.set_defaults(func=cmd_launch)

    p = sub.add_parser("evaluate", help="test accuracy, per-class accuracy, confusion matrix PNG")
    p.add_argument("checkpoint", help="a .ckpt file written by train")
    p.add_argument("--data-dir", help="folder with the IDX files")
    p.add_argument("--ctx", default="cpu", help="cpu, gpu, gpu:0,1 (default: cpu)")
    p.add_argument("--batch-size", type=_positive, default=256, help="default: %(default)s")
    p.add_argument("--limit-test", type=_optional_positive, help="use the first N test images")
    p.add_argument("--confusion", metavar="PNG", help="confusion matrix file (default: beside the checkpoint)")
    p.add_argument("--tta", choices=("flip",),
                   help="test-time augmentation: flip averages each image's logits with its mirror's")
    p.add_argument("--no-verify", dest="verify_data", action="store_false",
                   help="skip the MD5 check of the data files")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="class names for image files (or test:INDEX)")
    p.add_argument("checkpoint", help="a .ckpt file written by train (with --pretrained: the first image)")
    p.add_argument("images", nargs="*", metavar="IMAGE", help="image file, or test:INDEX for a test-set image")
    p.add_argument("--pretrained", metavar="FILE|gluoncv",
                   help="classify with published ImageNet weights instead (their own preprocessing): "
                        "the top 5 class names with probabilities")
    p.add_argument("--model", default="googlenet", help="the model of --pretrained (default: googlenet)")
    p.add_argument("--data-dir", help="folder with the IDX files (for test:INDEX)")
    p.add_argument("--ctx", default="cpu", help="cpu or gpu (default: cpu)")
    p.set_defaults(func=cmd_predict)
    return parser


def main(argv=None):
    """Entry point of the ``gluon-googlenet`` console command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except Stopped as stop:
        print(f"gluon-googlenet {args.command}: {stop}", file=sys.stderr)
        return stop.exit_code
    except GluonGoogLeNetError as err:
        print(f"gluon-googlenet {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"gluon-googlenet {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
