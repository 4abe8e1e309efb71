"""Print the output shape of every stage of a model, as d2l does for GoogLeNet.

    python examples/print_stage_shapes.py                      # d2l net, 1x1x96x96
    python examples/print_stage_shapes.py --size 224 --channels 3 --batch 2
"""
import argparse

import gluon_googlenet  # noqa: F401  (before mxnet: sets OMP_NUM_THREADS)
from gluon_googlenet import get_model, get_spec, list_models
from gluon_googlenet.viz.summary import stage_shapes

import mxnet as mx


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="googlenet_d2l", choices=list_models())
    parser.add_argument("--size", type=int, help="input height and width (default: the model's)")
    parser.add_argument("--channels", type=int, help="input channels (default: the model's)")
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()

    spec = get_spec(args.model)
    channels = args.channels or spec.input_size[0]
    size = args.size or spec.input_size[1]
    net = get_model(args.model, in_channels=channels, input_size=size)
    net.initialize(mx.init.Xavier())
    for name, shape in stage_shapes(net, (args.batch, channels, size, size)):
        print(f"{name} {shape}")


if __name__ == "__main__":
    main()
