"""The building blocks you import into your own Gluon code: ``conv_relu`` and ``Inception``.

``Inception`` is the book's block (d2l 7.4; Szegedy et al. 2015), written out branch by
branch. This module depends on MXNet alone; the stage tables in layers.py build on it.
"""
from mxnet.gluon import nn
from mxnet.gluon.nn import HybridBlock
from mxnet.util import is_np_array

from ..base import ops
from ..base.gluon_internals import layer_kernel

__all__ = ["Conv2D", "Inception", "conv_relu"]


class Conv2D(nn.Conv2D):
    """Gluon's Conv2D (same parameters and names); ``taps``, when set, convolves with the central
    ``taps`` x ``taps`` of a stride-1 kernel padded to keep the size. On maps so small that the outer
    taps only ever meet padding, that is the same function and gradient with less work (set by
    ``Inception.trace_side``; None: the whole kernel)."""

    taps = None

    def hybrid_forward(self, F, x, weight, bias=None):
        """The convolution of ``x`` (see the class docstring)."""
        kernel = layer_kernel(self)[0]
        if not self.taps or self.taps >= kernel:
            return super().hybrid_forward(F, x, weight, bias)
        weight = ops.crop(F, weight, (kernel - self.taps) // 2, self.taps)
        settings = dict(self._kwargs, kernel=(self.taps, self.taps), pad=(self.taps // 2, self.taps // 2))
        convolution = getattr(F.npx if is_np_array() else F, self._op_name)
        inputs = (x, weight) if bias is None else (x, weight, bias)
        out = convolution(*inputs, name="fwd", **settings)
        return self.act(out) if self.act is not None else out


def conv_relu(channels, kernel_size, strides=1, padding=0, in_channels=0, batch_norm=False,  # noqa: PLR0913
              act=True, bias=None):
    """Conv2D (+BatchNorm, eps 1e-3) (+ReLU); a bare Conv2D with built-in ReLU when no BN.

    ``bias`` None: a bias exactly when no BN follows.
    """
    use_bias = not batch_norm if bias is None else bias
    if not batch_norm:
        return Conv2D(channels, kernel_size, strides, padding, in_channels=in_channels,
                      use_bias=use_bias, activation="relu" if act else None)
    block = nn.HybridSequential(prefix="")
    block.add(Conv2D(channels, kernel_size, strides, padding, in_channels=in_channels,
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
        self.side = None

    def trace_side(self, side):
        """Build the next traced graph for ``side`` x ``side`` input maps (None: for any side).

        A k x k 'same' kernel at stride 1 reaches real pixels with its central 2 side - 1 taps only
        (the others meet padding: zero output, zero gradient), and the 3x3 max-pool of a 1x1 map returns
        it unchanged; so on small maps the block leaves the rest out: the same outputs and gradients
        up to float rounding, less work. StagedNet sets it for the one graph it traces at a time.
        """
        self.side = side
        for conv in self._spatial_convs():
            conv.taps = None if side is None else 2 * side - 1

    def leaves_out(self, side):
        """Whether ``trace_side(side)`` has work to leave out: on a 1x1 map, or with a kernel wider than
        2 side - 1."""
        return side == 1 or any(2 * side - 1 < layer_kernel(conv)[0] for conv in self._spatial_convs())

    def _spatial_convs(self):
        """The 3x3 and k3 x k3 convolutions (of branches p2 and p3)."""
        return [branch[1] if isinstance(branch[1], nn.Conv2D) else branch[1][0] for branch in (self.p2, self.p3)]

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
        pooled = self.p4[1](x) if self.side == 1 else self.p4(x)  # a 3x3 pool of a 1x1 map is the map
        return ops.concat(F, self.p1(x), self.p2(x), self.p3(x), pooled)
