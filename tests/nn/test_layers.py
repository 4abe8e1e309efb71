"""The layer vocabulary: each kind's size and channel arithmetic against the blocks it builds."""
from gluon_googlenet import get_model, get_spec, list_models
from gluon_googlenet.nn.layers import (
    AdaptiveAvgPool,
    AuxTap,
    AvgPool,
    Conv,
    GlobalAvgPool,
    InceptionSpec,
    MaxPool,
    MixedSpec,
    ResidualSpec,
    ShortcutSpec,
    build_sequence,
    min_side,
    sequence_channels,
    sequence_side,
)

import mxnet as mx
import pytest


@pytest.mark.parametrize("name", list_models())
def test_min_size_is_the_smallest_size_mxnet_accepts(name):
    """The min_size a net computes from its table agrees with MXNet's own shape inference."""
    net = get_model(name)
    if net.fixed_size:  # a Dense layer sized for one input: build it at the smallest
        net = get_model(name, input_size=net.min_size)
        assert net.min_size == net.fixed_size
    sym = net(mx.sym.var("data"))
    channels = get_spec(name).input_size[0]

    def infers(size):
        try:
            _, out_shapes, _ = sym.infer_shape(data=(1, channels, size, size))
        except mx.base.MXNetError:
            return False
        return out_shapes is not None and all(d > 0 for d in out_shapes[0])

    assert infers(net.min_size)
    assert net.min_size == 1 or not infers(net.min_size - 1)


KINDS = [  # one of each kind, with strides, ceil mode and asymmetric kernels where they matter
    Conv(8, 3, 2, 1), Conv(8, (1, 7), 1, (0, 3)), Conv(4, 5, 1, 0, bn=True),
    MaxPool(3, 2, 0, ceil=True), MaxPool(3, 2, 1), AvgPool(3, 1, 1, False), AvgPool(5, 3),
    GlobalAvgPool(), AdaptiveAvgPool(4), AuxTap(),
    InceptionSpec(4, (2, 6), (2, 3), 5), InceptionSpec(4, (2, 6), (2, 3), 5, k3=3, bias=True),
    MixedSpec(((Conv(8, 3, 2),), (Conv(4, 1), Conv(6, 3, 2)), (MaxPool(3, 2),))),
    ResidualSpec(((Conv(4, 1),), (Conv(4, 1), Conv(6, 3, 1, 1))), 0.2),
    ShortcutSpec((Conv(6, 3, 1, 1), Conv(10, 3, 1, 1, act=False)), (Conv(10, 3, 1, 1, act=False),)),
]


@pytest.mark.parametrize("layer", KINDS, ids=lambda layer: type(layer).__name__)
def test_each_kind_computes_the_shapes_its_block_gives(layer):
    """out_channels and out_side are what the built block outputs, at several sides; need(out)
    is the smallest side the block turns into that output side (one less gives less, or MXNet
    refuses it)."""
    in_channels = 5
    block = layer.build(in_channels, batch_norm=False) or (lambda x: x)
    if hasattr(block, "initialize"):
        block.initialize()
    for side in (7, 8, 17, 24):
        out = block(mx.nd.zeros((1, in_channels, side, side)))
        assert out.shape == (1, layer.out_channels(in_channels), layer.out_side(side), layer.out_side(side))
    def side_out(side):
        try:
            return block(mx.nd.zeros((1, in_channels, side, side))).shape[2]
        except mx.base.MXNetError:
            return 0
    for want in (1, 3):
        if layer.out_side(64) < want:  # a fixed output side (global or adaptive pooling)
            continue
        need = layer.need(want)
        assert side_out(need) >= want
        assert need == 1 or side_out(need - 1) < want


def test_tables_fold_the_kinds():
    table = (Conv(8, 7, 2, 3), MaxPool(3, 2, 1), InceptionSpec(4, (2, 6), (2, 3), 5), GlobalAvgPool())
    assert sequence_channels(table, 1) == 4 + 6 + 3 + 5
    assert sequence_side(table[:2], 96) == 24 and sequence_side(table, 96) == 1
    assert min_side(table) == 1 and min_side((Conv(8, 3), Conv(8, 3))) == 5
    seq, channels = build_sequence(table, 1)
    seq.initialize()
    assert channels == 18 and seq(mx.nd.zeros((1, 1, 96, 96))).shape == (1, 18, 1, 1)
