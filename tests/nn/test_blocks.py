"""The blocks users import: Inception and conv_relu."""
from gluon_googlenet import Inception

import mxnet as mx
import numpy as np


def test_inception_block_concatenates_branches():
    block = Inception(64, (96, 128), (16, 32), 32, in_channels=192)
    block.initialize()
    x = mx.nd.random.uniform(shape=(2, 192, 12, 12))
    out = block(x)
    assert out.shape == (2, 256, 12, 12) and block.out_channels == 256
    parts = [branch(x) for _, branch in block.branches]
    np.testing.assert_allclose(out.asnumpy(), mx.nd.concat(*parts, dim=1).asnumpy())
    assert min(float(p.min().asscalar()) for p in parts) >= 0  # ReLU after every conv
    block.hybridize()
    np.testing.assert_allclose(block(x).asnumpy(), out.asnumpy(), rtol=1e-5, atol=1e-6)
