"""Inception branch activations."""
from gluon_googlenet import get_model
from gluon_googlenet.base.errors import ConfigError, InputShapeError
from gluon_googlenet.viz.featuremaps import branch_activations, mixed_blocks

import mxnet as mx
import numpy as np
import pytest


def test_branch_activations_have_each_branch_shape():
    net = get_model("googlenet_d2l")
    net.initialize(mx.init.Xavier())
    maps = branch_activations(net, np.zeros((1, 96, 96), np.uint8) + 128, "b3.1")
    assert [(label, m.shape) for label, m in maps] == [
        ("p1: 1x1", (128, 12, 12)), ("p2: 1x1 -> 3x3", (192, 12, 12)),
        ("p3: 1x1 -> 5x5", (96, 12, 12)), ("p4: max 3x3 -> 1x1", (64, 12, 12))]
    assert mixed_blocks(net)[:3] == ["b3.0", "b3.1", "b4.0"]
    with pytest.raises(ConfigError, match="no block 'b9.0'.*Inception blocks: b3.0"):
        branch_activations(net, np.zeros((1, 96, 96), np.uint8), "b9.0")
    with pytest.raises(InputShapeError, match=r"uint8 \[1, H, W\]"):
        branch_activations(net, np.zeros((3, 96, 96), np.uint8), "b3.1")
