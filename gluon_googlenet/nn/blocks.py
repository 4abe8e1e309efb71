"""The building blocks you import into your own Gluon code: ``conv_relu`` and ``Inception``.

``Inception`` is the book's block (d2l 7.4; Szegedy et al. 2015), written out branch by
branch. This module depends on MXNet alone; the stage tables in layers.py build on it.
"""
from mxnet.gluon import nn
from mxnet.gluon.nn import HybridBlock

from ..base import ops

__all__ = ["Inception", "conv_relu"]


def conv_relu(channels, kernel_size, strides=1, padding=0, in_channels=0, batch_norm=False,  # noqa: PLR0913
              act=True, bias=None):
    """Conv2D (+BatchNorm, eps 1e-3) (+ReLU); a bare Conv2D with built-in ReLU when no BN.

    ``bias`` None: a bias exactly when no BN follows.
    """
    use_bias = not batch_norm if bias is None else bias
    if not batch_norm:
        return nn.Conv2D(channels, kernel_size, strides, padding, in_channels=in_channels,
                         use_bias=use_bias, activation="relu" if act else None)
    block = nn.HybridSequential(prefix="")
    block.add(nn.Conv2D(channels, kernel_size, strides, padding, in_channels=in_channels,
                        use_bias=use_bias),
              nn.BatchNorm(epsilon=1e-3, in_channels=channels))
    if act:
        block.add(nn.Activation("relu"))
    return block


class Inception(HybridBlock):
    """Inception block: four parallel branches, concatenated on channels; sizes are kept.

    p1: 1x1 conv (c1); p2: 1x1 (c2[0]) -> 3x3 (c2[1]); p3: 1x1 (c3[0]) -> k3 x k3 (c3[1]);
    p4: 3x3 max-pool (stride 1) -> 1x1 (c4). ReLU after every conv, as in d2l and the paper.
    ``in_channels`` fixes parameter shapes up front (0 defers them to the first pass);
    ``batch_norm`` adds BN before each ReLU; ``k3`` is 5 in the paper, 3 in torchvision/GluonCV;
    ``bias`` as conv_relu's (googlenet_bn keeps a bias before BN: ``bias=True``).
    """

    def __init__(self, c1, c2, c3, c4, in_channels=0, batch_norm=False, k3=5, bias=None,  # noqa: PLR0913
                 **kwargs):
        super().__init__(**kwargs)

        def conv(channels, kernel, cin, pad=0):
            return conv_relu(channels, kernel, 1, pad, in_channels=cin, batch_norm=batch_norm, bias=bias)

        def path(name, *layers):
            seq = nn.HybridSequential(prefix=f"{name}_")
            with seq.name_scope():
                seq.add(*[make() for make in layers])
            return seq

        with self.name_scope():
            # path 1: a single 1x1 convolution
            self.p1 = conv(c1, 1, in_channels)
            # path 2: 1x1 convolution, then 3x3 convolution
            self.p2 = path("p2", lambda: conv(c2[0], 1, in_channels), lambda: conv(c2[1], 3, c2[0], 1))
            # path 3: 1x1 convolution, then k3 x k3 convolution
            self.p3 = path("p3", lambda: conv(c3[0], 1, in_channels),
                           lambda: conv(c3[1], k3, c3[0], k3 // 2))
            # path 4: 3x3 max-pooling, then 1x1 convolution
            self.p4 = path("p4", lambda: nn.MaxPool2D(3, 1, 1), lambda: conv(c4, 1, in_channels))
        self.in_channels, self.out_channels = in_channels, self.output_channels(c1, c2, c3, c4)

    @staticmethod
    def output_channels(c1, c2, c3, c4):
        """Channels out of a block: the four branches' outputs, concatenated."""
        return c1 + c2[1] + c3[1] + c4

    @property
    def branches(self):
        """The four branches in order, as (name, block) pairs."""
        return [("p1", self.p1), ("p2", self.p2), ("p3", self.p3), ("p4", self.p4)]

    def hybrid_forward(self, F, x):
        """The block's computation on ``x`` (see the class docstring)."""
        return ops.concat(F, self.p1(x), self.p2(x), self.p3(x), self.p4(x))
