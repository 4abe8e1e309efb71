"""Shared building blocks: conv(+BN)+ReLU and the Inception block (d2l 7.4, Szegedy et al. 2015)."""
from mxnet.gluon import nn
from mxnet.gluon.nn import HybridBlock


def conv_relu(channels, kernel_size, strides=1, padding=0, in_channels=0, batch_norm=False):
    """Conv2D followed by ReLU; with ``batch_norm`` a bias-free conv, BatchNorm, then ReLU."""
    if not batch_norm:
        return nn.Conv2D(channels, kernel_size, strides, padding, in_channels=in_channels,
                         activation="relu")
    block = nn.HybridSequential(prefix="")
    block.add(nn.Conv2D(channels, kernel_size, strides, padding, in_channels=in_channels,
                        use_bias=False),
              nn.BatchNorm(epsilon=1e-3, in_channels=channels),
              nn.Activation("relu"))
    return block


class Inception(HybridBlock):
    """Inception block with four parallel branches, concatenated on channels.

    p1: 1x1 conv (c1); p2: 1x1 (c2[0]) -> 3x3 (c2[1]); p3: 1x1 (c3[0]) -> 5x5 (c3[1]);
    p4: 3x3 max-pool (stride 1) -> 1x1 (c4). ReLU after every conv, as in d2l and the
    paper; spatial size is kept. ``in_channels`` fixes parameter shapes up front
    (0 defers them to the first forward pass).
    """

    def __init__(self, c1, c2, c3, c4, in_channels=0, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.c1, self.c2, self.c3, self.c4 = c1, tuple(c2), tuple(c3), c4
        self.in_channels = in_channels
        with self.name_scope():
            self.p1 = conv_relu(c1, 1, in_channels=in_channels, batch_norm=batch_norm)
            self.p2 = nn.HybridSequential(prefix="p2_")
            self.p2.add(conv_relu(c2[0], 1, in_channels=in_channels, batch_norm=batch_norm),
                        conv_relu(c2[1], 3, padding=1, in_channels=c2[0], batch_norm=batch_norm))
            self.p3 = nn.HybridSequential(prefix="p3_")
            self.p3.add(conv_relu(c3[0], 1, in_channels=in_channels, batch_norm=batch_norm),
                        conv_relu(c3[1], 5, padding=2, in_channels=c3[0], batch_norm=batch_norm))
            self.p4 = nn.HybridSequential(prefix="p4_")
            self.p4.add(nn.MaxPool2D(pool_size=3, strides=1, padding=1),
                        conv_relu(c4, 1, in_channels=in_channels, batch_norm=batch_norm))

    @property
    def out_channels(self):
        """Channels of the concatenated output: c1 + c2[1] + c3[1] + c4."""
        return self.c1 + self.c2[1] + self.c3[1] + self.c4

    @property
    def branches(self):
        """The four branches in order, as (name, block) pairs."""
        return [("p1", self.p1), ("p2", self.p2), ("p3", self.p3), ("p4", self.p4)]

    def hybrid_forward(self, F, x):
        return F.concat(self.p1(x), self.p2(x), self.p3(x), self.p4(x), dim=1)
