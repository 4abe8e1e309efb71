"""What each ``gluon-googlenet`` verb does: read its parsed arguments, call the library, print.

Each imports what it uses when it runs, so parsing (``--help``, usage errors) needs no MXNet.
Importing the package has set OMP_NUM_THREADS before any verb loads MXNet.
"""

from .. import __version__
from ..base.errors import GluonGoogLeNetError


def _build(args, batch=1):
    """Build and initialise the model named in ``args``; return (net, input_shape, ctx list)."""
    import mxnet as mx

    from ..base.context import parse_ctx
    from ..nn.registry import get_spec
    from ..weights.factory import get_model
    spec = get_spec(args.model)
    ctxs = parse_ctx(args.ctx)
    channels = args.channels or spec.input_size[0]
    size = getattr(args, "size", None) or spec.input_size[1]
    net = get_model(args.model, num_classes=args.classes or spec.num_classes, in_channels=channels,
                    input_size=size)
    net.initialize(mx.init.Xavier(), ctx=ctxs[0])
    return net, (batch, channels, size, size), ctxs


def cmd_shapes(args):
    """``gluon-googlenet shapes``: each stage's output shape."""
    from ..viz.summary import stage_shapes
    net, shape, ctxs = _build(args, args.batch)
    for name, out_shape in stage_shapes(net, shape, ctxs[0]):
        print(f"{name} {out_shape}")


def cmd_summary(args):
    """``gluon-googlenet summary``: the layer table with parameters and mult-adds."""
    from ..viz.summary import format_summary, layer_summary
    net, shape, ctxs = _build(args)
    print(format_summary(layer_summary(net, shape, ctxs[0], max_depth=args.depth)))


def cmd_export(args):
    """``gluon-googlenet export``: symbol/params (or ONNX) files plain MXNet loads, and PREFIX-meta.json
    with the export's own test accuracy (a checkpoint's exports)."""
    import os
    import sys

    from ..weights.export import export_model, usage_lines
    preprocess = normalization = meta = None
    if args.checkpoint:
        from ..base.context import parse_ctx
        from ..training.run.checkpoint import load_model
        ctxs = parse_ctx(args.ctx)
        net, meta = load_model(args.checkpoint, ctxs)
        size = args.size or meta["input_size"]
        shape = (1, meta["model_kwargs"]["in_channels"], size, size)
        preprocess = (meta["mean"], meta["std"]) if args.preprocess and meta.get("mean") else None
        normalization = (meta.get("mean"), meta.get("std"))
        weights = f"checkpoint {os.path.abspath(args.checkpoint)}: epoch {meta['epoch']}"
    else:
        net, shape, ctxs = _build(args)
        weights = "fresh Xavier: untrained"
        print(f"export: no --checkpoint, so the weights are {weights} (random)", file=sys.stderr)
    if args.preprocess and not preprocess:
        raise GluonGoogLeNetError("--preprocess: this net takes [0, 1] inputs as they are (no normalisation "
                                  "to build in); it needs a --checkpoint of a run that normalised its inputs")
    if args.format == "onnx":
        if args.tta:
            raise GluonGoogLeNetError("--tta is for --format mxnet")
        from ..weights.export import export_onnx
        print(export_onnx(net, args.out if args.out.endswith(".onnx") else args.out + ".onnx",
                          shape, ctxs[0], preprocess))
        return
    paths = export_model(net, args.out, shape, args.epoch, ctxs[0], preprocess, normalization=normalization,
                         weights=weights, tta=args.tta)
    print("\n".join(paths))
    if meta is not None and args.measure and size == meta["input_size"]:
        print(_measured_export(args, net, meta, ctxs))
    print("\n".join(usage_lines(args.out, args.epoch)))


def _measured_export(args, net, meta, ctxs):
    """Measure the export ``args.out`` on the test set of the checkpoint's run (its meta file gets
    the figure; with the run's own test-time augmentation not in the graph, the checkpoint's
    ``net``'s figure with it too); the line to print."""
    from ..training.data.sampling import make_loader
    from ..training.exported import measure_export
    from ..training.inference import run_test_data
    from ..training.loop import evaluate
    data = run_test_data(meta, args.data_dir, verify=args.verify_data)
    loader = make_loader(*data.test, 256)
    run_tta = (meta.get("config") or {}).get("tta", "none")
    with_tta = None
    if run_tta != "none" and args.tta != run_tta:
        checked = evaluate(net, loader, ctxs[:1], meta["model_kwargs"]["num_classes"],
                           norm=(meta.get("mean"), meta.get("std")), tta=run_tta)
        with_tta = {run_tta: checked["acc"]}
    measured = measure_export(args.out, args.epoch, loader, ctxs[:1], f"{meta['dataset']}: test set",
                              with_tta)["test_acc"]
    also = "".join(f"; the checkpoint with --tta {name}: {acc:.4f} (not in this graph: export with --tta {name})"
                   for name, acc in (with_tta or {}).items())
    return f"test acc of the exported graph: {measured['graph']:.4f} ({measured['images']} images){also}"


def cmd_train(args):
    """``gluon-googlenet train``: a TrainConfig from the options, then training.train."""
    import dataclasses

    from ..training.run.config import PRESETS, WITH_MOMENTUM, TrainConfig, momentum_problem
    from ..training.run.progress import run_output
    from ..training.trainer import train
    preset = PRESETS[args.preset]
    optimizer = args.optimizer or preset.get("optimizer", TrainConfig.optimizer)
    if args.momentum is not None and optimizer not in WITH_MOMENTUM:
        args.parser.error(momentum_problem(optimizer))
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    if args.pretrained and args.whiten is None and preset.get("whiten"):
        values["whiten"] = False  # weights asked for replace the preset's whitened first layer
    config = TrainConfig.preset(args.preset, **values)
    with run_output(config.verbose, to_stdout=True):  # the command line prints, whatever logging says
        result = train(config)
    if args.report:
        from ..viz.report import build_report
        print(f"report: {build_report(result.out)}")
    print(f"run folder: {result.out}")


def _inference_precision(args):
    """For --precision bf16: AMX on where the CPU has it, before MXNet loads (base.amx); says which."""
    if args.precision != "bf16":
        return
    from ..base.amx import amx_for_bf16_inference, bf16_engine
    from ..base.cpu import require_bf16
    amx_for_bf16_inference()  # first: MXNet must not be loaded yet
    require_bf16("--precision bf16")  # before saying where it runs
    print(f"precision: bf16 on {bf16_engine()}")


def cmd_evaluate(args):
    """``gluon-googlenet evaluate``: a checkpoint's test accuracy, per class, and its confusion matrix."""
    _inference_precision(args)
    from ..training.inference import default_confusion_path, evaluate_checkpoint
    png = args.confusion or default_confusion_path(args.checkpoint)
    result = evaluate_checkpoint(args.checkpoint, args.ctx, args.batch_size, png, args.tta, args.precision,
                                 data_dir=args.data_dir, limit_test=args.limit_test, verify=args.verify_data)
    meta = result["meta"]
    print(f"{meta['model']} (epoch {meta['epoch']}) on {meta['dataset']} test set"
          f"{' with flip test-time augmentation' if args.tta else ''}: "
          f"accuracy {result['acc']:.4f} ({result['count']} images), loss {result['loss']:.4f}")
    for name, acc in result["per_class"].items():
        print(f"  {name:<12} {acc:.3f}")
    print(f"confusion matrix: {png}")


def cmd_predict(args):
    """``gluon-googlenet predict``: the class of each image under a checkpoint or published weights."""
    if args.pretrained and args.precision != "fp32":
        raise GluonGoogLeNetError("--precision bf16 is for --checkpoint predictions")
    _inference_precision(args)
    from ..training.inference import predict_images, predict_pretrained
    if args.pretrained:
        for row in predict_pretrained(args.model, args.pretrained, args.images, args.ctx):
            print(f"{row['source']}:")
            for name, prob in row["top"]:
                print(f"  {name} {prob:.3f}")
        return
    for row in predict_images(args.checkpoint, args.images, args.ctx, args.data_dir, args.verify_data,
                              args.precision):
        truth = f" (true: {row['true']})" if row["true"] is not None else ""
        print(f"{row['source']}: {row['class']} {row['prob']:.3f}{truth}")


def cmd_info(args):
    """``gluon-googlenet info``: this machine, its CPU features and the precision advice."""
    import json

    from ..base.amx import precision_advice
    from ..base.cpu import FEATURES, cpu_info, machine_record
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
    advice = precision_advice(info)
    print(f"native here: bf16 {advice.bf16}, INT8 {advice.int8}; fastest for training: {advice.training}, "
          f"for inference: {advice.inference}" + (f"; {advice.note}" if advice.note else ""))
    print(f"GPUs seen by MXNet: {record['gpus']}")


def cmd_zoo(args):
    """``gluon-googlenet zoo``: the registered models' table."""
    from ..viz.zoo import format_features, format_zoo, zoo_rows
    if args.features:
        print(format_features(args.models or None))
        return
    print(format_zoo(zoo_rows(args.models or None), markdown=args.markdown))


def cmd_diagram(args):
    """``gluon-googlenet diagram``: a model's graph drawn with Graphviz."""
    from ..viz.diagram import draw_network
    net, shape, _ = _build(args)
    print(draw_network(net, shape, args.output, expanded=args.expanded, title=args.model))


def cmd_branches(args):
    """``gluon-googlenet branches``: an Inception block's branches and their channels."""
    from ..base.context import parse_ctx
    from ..training.inference import read_image
    from ..training.run.checkpoint import load_model
    from ..viz.featuremaps import branch_activations, plot_branch_maps
    net, meta = load_model(args.checkpoint, parse_ctx(args.ctx)[:1])
    image, label = read_image(args.image, meta, args.data_dir, args.verify_data)
    maps = branch_activations(net, image, args.block, meta.get("mean"), meta.get("std"))
    truth = "" if label is None else f" (true class: {meta['class_names'][label]})"
    print(plot_branch_maps(image, maps, args.output, f"{meta['model']} block {args.block}, "
                                                      f"image {args.image}{truth}", args.per_branch))


def cmd_cam(args):
    """``gluon-googlenet cam``: the Grad-CAM figure of images under a checkpoint."""
    from ..base.context import parse_ctx
    from ..training.data.run_data import images_to_input
    from ..training.inference import read_image
    from ..training.run.checkpoint import load_model
    from ..viz.gradcam import default_layer, explain, plot_cam
    ctx = parse_ctx(args.ctx)[0]
    net, meta = load_model(args.checkpoint, [ctx])
    layer = args.layer or default_layer(net, meta["input_size"])
    image, label = read_image(args.image, meta, args.data_dir, args.verify_data)
    x = images_to_input(image, meta.get("mean"), meta.get("std"), ctx)
    rows = explain(net, x, layer, meta["class_names"], [label], args.class_index)
    truth = "" if label is None else f", true class {meta['class_names'][label]}"
    print(plot_cam([image], rows, args.output, f"{meta['model']} Grad-CAM at {layer}: {args.image}{truth}"))


def cmd_data(args):
    """``gluon-googlenet data fetch``: download a data set and check its MD5s."""
    from ..training.data.fetch import fetch_dataset
    print(fetch_dataset(args.dataset, args.dir))


def cmd_report(args):
    """``gluon-googlenet report``: the HTML report of a run folder."""
    from ..viz.report import build_report
    print(build_report(args.run_dir, args.output, args.data_dir, args.checkpoint))


def cmd_launch(args):
    """``gluon-googlenet launch``: train on the distributed kvstore (training.launch)."""
    import os

    from ..base.errors import Stopped
    from ..training.launch.launcher import LaunchError, launch
    from .train_options import parse_train_args
    train_args = args.train_args[1:] if args.train_args[:1] == ["--"] else args.train_args
    train = parse_train_args(train_args)  # usage errors before any process starts
    out = train.out or f"runs/{train.model or 'googlenet_d2l'}"
    relaunch = relaunch_command(args, train_args)
    try:
        launch(train_args, os.path.join(out, "logs"), args.launcher, args.hostfile, args.workers, args.servers,
               args.scheduler_host, args.port, args.timeout, args.start_timeout, args.gpus_per_worker)
    except (LaunchError, Stopped) as err:  # processes ran: the run may have checkpoints to go on from
        err.args = (f"{err}; relaunch the whole job with: {relaunch}",)
        raise
    print(f"run folder: {out} (on the host of the writing worker; logs in {os.path.join(out, 'logs')})")


def relaunch_command(args, train_args):
    """The launch command line of ``args`` that resumes its run (--resume added)."""
    import shlex
    words = ["gluon-googlenet", "launch", "--launcher", args.launcher, "--workers", str(args.workers),
             "--servers", str(args.servers)]
    for flag, value in (("-H", args.hostfile), ("--scheduler-host", args.scheduler_host), ("--port", args.port),
                        ("--gpus-per-worker", args.gpus_per_worker if args.gpus_per_worker != 1 else None)):
        if value:
            words += [flag, str(value)]
    words += ["--", *train_args] + ([] if "--resume" in train_args else ["--resume"])
    return " ".join(shlex.quote(w) for w in words)


