"""Export a net to MODEL-symbol.json / MODEL-0000.params and ONNX, then load the files back as
plain MXNet does (``SymbolBlock.imports``, no gluon_googlenet needed) and compare outputs.

    python examples/export_and_load.py [--model googlenet_d2l | --checkpoint run/best.ckpt]
                                       [--out exported] [--ctx cpu|gpu|gpu:0,1] [--batch 4]
"""
import argparse
import os
import warnings

import gluon_googlenet  # noqa: F401  (before mxnet: sets OMP_NUM_THREADS)
from gluon_googlenet import get_model, get_spec
from gluon_googlenet.base.context import parse_ctx
from gluon_googlenet.training.run.checkpoint import load_model
from gluon_googlenet.weights.export import export_model, export_onnx

import mxnet as mx
import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="googlenet_d2l")
    parser.add_argument("--checkpoint", help="export a trained checkpoint instead of a fresh net")
    parser.add_argument("--out", default="exported")
    parser.add_argument("--ctx", default="cpu")
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()
    ctx = parse_ctx(args.ctx)[0]  # an exported graph runs on one device
    if args.checkpoint:
        net, meta = load_model(args.checkpoint, [ctx])
        name, side = meta["model"], meta["input_size"]
        shape = (1, meta["model_kwargs"]["in_channels"], side, side)
    else:
        name, shape = args.model, (1,) + get_spec(args.model).input_size
        net = get_model(name)
        net.initialize(mx.init.Xavier(), ctx=ctx)
    symbol_file, params_file = export_model(net, os.path.join(args.out, name), shape, 0, ctx)

    # What a user of plain MXNet does with the two files:
    with warnings.catch_warnings():  # MXNet notes that it infers the input's type on first use
        warnings.filterwarnings("ignore", message="Cannot decide type")
        loaded = mx.gluon.SymbolBlock.imports(symbol_file, ["data"], params_file, ctx=ctx)
    x = mx.nd.random.uniform(shape=(args.batch,) + shape[1:], ctx=ctx)
    live, reloaded = net(x).asnumpy(), loaded(x).asnumpy()
    print(f"{symbol_file}, {params_file}: max |diff| {np.abs(live - reloaded).max():.2e} "
          f"on {args.batch} inputs")
    try:
        import onnx
        from onnx.reference import ReferenceEvaluator
    except ImportError:
        print("onnx is not installed: ONNX export skipped (pip install onnx==1.14.1)")
        return
    onnx_file = export_onnx(net, os.path.join(args.out, name + ".onnx"), shape, ctx)
    ran = ReferenceEvaluator(onnx.load(onnx_file)).run(None, {"data": x.asnumpy()})[0]
    print(f"{onnx_file} (batch axis free, run at {args.batch}): max |diff| {np.abs(live - ran).max():.2e}")


if __name__ == "__main__":
    main()
