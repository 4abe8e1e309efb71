"""GoogLeNet: the book's stage shapes, the paper/GluonCV variants, googlenet_bn."""

from gluon_googlenet import get_model, get_spec
from gluon_googlenet.viz.summary import count_params, stage_shapes

import mxnet as mx
from conftest import D2L_SHAPES, gluoncv_param_count


def test_googlenet_3x3_variant_matches_gluoncv():
    ours = count_params(get_model("googlenet", k3=3))
    assert ours == gluoncv_param_count("googlenet", (1, 3, 224, 224))
    # the paper's 5x5 kernels: 16 * 9 per (reduce x out) pair more in every third branch
    extra = 16 * sum(r * c for r, c in [(16, 32), (32, 96), (16, 48), (24, 64), (24, 64), (32, 64),
                                        (32, 128), (32, 128), (48, 128)])
    assert count_params(get_model("googlenet")) == ours + extra == get_spec("googlenet").num_params


def test_d2l_net_takes_three_channels_when_built_so():
    net = get_model("googlenet_d2l", in_channels=3, num_classes=7)
    net.initialize()
    assert net(mx.nd.zeros((1, 3, 64, 64))).shape == (1, 7)
    assert count_params(net) == get_spec("googlenet_d2l").num_params - 10 * 1025 + 7 * 1025 + 2 * 64 * 49


def test_d2l_stage_shapes_match_the_book():
    assert stage_shapes(get_model("googlenet_d2l"), (1, 1, 96, 96)) == D2L_SHAPES
