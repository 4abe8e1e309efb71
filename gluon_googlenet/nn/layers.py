"""The layer vocabulary: table entries that build Gluon blocks and know their own sizes.

A network is a tuple of stages ``(name, layers)``; a layer is one of the table entries below.
Names pair one way: a plain layer is named for Gluon's layer less its ``2D`` (``Conv`` builds a
Conv2D (+BN, ReLU), ``MaxPool`` a MaxPool2D, ``AdaptiveAvgPool`` an AdaptiveAvgPool2D ...); a
composite is named for the block it builds plus ``Spec`` (``InceptionSpec`` builds ``Inception``,
``MixedSpec`` ``Mixed``, ``ResidualSpec`` ``Residual``, ``ShortcutSpec`` ``Shortcut``).
Each kind says in one place how it builds (``build``), the channels it gives
(``out_channels``), the side it gives for an input side (``out_side``), the input side it
needs to give an output side (``need``) and its stride (``reduction``); adding a kind means writing
one class. The
``sequence_*`` functions and ``min_side`` fold those over a table. Every family in the zoo
(d2l and paper GoogLeNet, Inception v2/v3/v4, Inception-ResNet, the MNIST nets) is a table over
these few kinds.
"""
from collections import namedtuple

from mxnet.gluon import nn
from mxnet.gluon.nn import HybridBlock

from ..base import ops
from .blocks import Inception, conv_relu


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _as_layers(branch):
    return tuple(branch) if isinstance(branch, (tuple, list)) else (branch,)


# --- kinds --------------------------------------------------------------------------------------
class _SizeKeeping:
    """Default arithmetic: same channels and sides out as in."""
    __slots__ = ()

    def out_channels(self, in_channels):
        return in_channels

    def out_side(self, side):
        return side

    def need(self, out, dim=0):  # noqa: ARG002  (every kind takes the dimension)
        return out

    def reduction(self):
        """How much the layer reduces the resolution (timm's 'reduction' is their product)."""
        return 1


class _Window(_SizeKeeping):
    """A sliding window: out = floor((n + 2p - k) / s) + 1, or ceil(...) + 1 in ceil mode."""
    __slots__ = ()

    def window(self, dim):
        """(kernel, stride, pad, ceil) along ``dim`` (0: height, 1: width)."""
        raise NotImplementedError

    def reduction(self):
        return self.window(0)[1]

    def out_side(self, side):
        k, s, p, ceil = self.window(0)
        span = side + 2 * p - k
        return (-(-span // s) if ceil else span // s) + 1

    def need(self, out, dim=0):
        """From the formula: n >= (out - 1) s + k - 2p; in ceil mode n >= (out - 2) s + k - 2p + 1
        and n + 2p >= k."""
        k, s, p, ceil = self.window(dim)
        if ceil:
            return max(1, k - 2 * p, (out - 2) * s + k - 2 * p + 1 if out > 1 else 0)
        return max(1, (out - 1) * s + k - 2 * p)


class _Branching(_SizeKeeping):
    """Parallel branches over one input: sides follow the first branch, the need is the largest."""
    __slots__ = ()

    def branch_tables(self):
        """The branches as layer tuples."""
        raise NotImplementedError

    def out_side(self, side):
        return sequence_side(self.branch_tables()[0], side)

    def reduction(self):
        return sequence_reduction(self.branch_tables()[0])

    def need(self, out, dim=0):
        return max(sequence_need(branch, out, dim) for branch in self.branch_tables())


class Conv(namedtuple("Conv", "channels kernel stride pad bn act bias", defaults=(1, 0, None, True, None)),
           _Window):
    """Convolution (+BatchNorm) (+ReLU). kernel/stride/pad: int or (h, w); bn None: the net's
    setting; bias None: no bias exactly when BN follows."""
    __slots__ = ()

    def window(self, dim):
        """(kernel, stride, pad, ceil mode) along ``dim`` (0: height, 1: width)."""
        return _pair(self.kernel)[dim], _pair(self.stride)[dim], _pair(self.pad)[dim], False

    def out_channels(self, in_channels):
        """Channels out of the block for ``in_channels`` in."""
        return self.channels

    def build(self, in_channels, batch_norm=False):
        """The Gluon block of this spec for ``in_channels`` input channels (BN where ``batch_norm``)."""
        bn = batch_norm if self.bn is None else self.bn
        return conv_relu(self.channels, self.kernel, self.stride, self.pad, in_channels, bn, self.act,
                         self.bias)


class MaxPool(namedtuple("MaxPool", "size stride pad ceil", defaults=(0, False)), _Window):
    """Max-pooling; ``ceil`` rounds the output size up (Caffe's and ceil_mode=True's windows)."""
    __slots__ = ()

    def window(self, dim):
        """(kernel, stride, pad, ceil mode) along ``dim`` (0: height, 1: width)."""
        return _pair(self.size)[dim], _pair(self.stride)[dim], _pair(self.pad)[dim], self.ceil

    def build(self, in_channels, batch_norm=False):
        """The Gluon block of this spec for ``in_channels`` input channels (BN where ``batch_norm``)."""
        return nn.MaxPool2D(self.size, self.stride, self.pad, ceil_mode=self.ceil)


class AvgPool(namedtuple("AvgPool", "size stride pad include_pad", defaults=(0, True)), _Window):
    """Average pooling; ``include_pad`` counts padded zeros in each window's mean."""
    __slots__ = ()

    def window(self, dim):
        """(kernel, stride, pad, ceil mode) along ``dim`` (0: height, 1: width)."""
        return _pair(self.size)[dim], _pair(self.stride)[dim], _pair(self.pad)[dim], False

    def build(self, in_channels, batch_norm=False):
        """The Gluon block of this spec for ``in_channels`` input channels (BN where ``batch_norm``)."""
        return nn.AvgPool2D(self.size, self.stride, self.pad, count_include_pad=self.include_pad)


class GlobalAvgPool(namedtuple("GlobalAvgPool", ""), _SizeKeeping):
    """Average over the whole map: 1x1 out of any side."""
    __slots__ = ()

    def out_side(self, side):
        """Side of the output for an input of side ``side``."""
        return 1

    def need(self, out, dim=0):
        """Smallest input side along ``dim`` that gives an output of side ``out``."""
        return 1

    def build(self, in_channels, batch_norm=False):
        """The Gluon block of this spec for ``in_channels`` input channels (BN where ``batch_norm``)."""
        return nn.GlobalAvgPool2D()


class AdaptiveAvgPool(namedtuple("AdaptiveAvgPool", "size"), _SizeKeeping):
    """Average pooling to a fixed ``size`` x ``size`` output (PyTorch's AdaptiveAvgPool2d)."""
    __slots__ = ()

    def out_side(self, side):
        """Side of the output for an input of side ``side``."""
        return self.size

    def need(self, out, dim=0):
        """Smallest input side along ``dim`` that gives an output of side ``out``."""
        return 1

    def build(self, in_channels, batch_norm=False):
        """The Gluon block of this spec for ``in_channels`` input channels (BN where ``batch_norm``)."""
        return AdaptiveAvgPool2D(self.size)


class _Marker(_SizeKeeping):
    """A table entry that marks a place and builds no block."""
    __slots__ = ()

    def build(self, in_channels, batch_norm=False):  # noqa: ARG002  (every kind takes them)
        """No block: a marker."""
        return None


class AuxTap(namedtuple("AuxTap", ""), _Marker):
    """Marks where an auxiliary classifier reads the features."""
    __slots__ = ()


class Level(namedtuple("Level", "name"), _Marker):
    """Marks the end of a feature level (``feature_info``) and names it: the paper's, torchvision's
    or timm's name for the layer before the mark (``Level('inception4e')``)."""
    __slots__ = ()


class InceptionSpec(namedtuple("InceptionSpec", "c1 c2 c3 c4 k3 bias", defaults=(5, None)), _SizeKeeping):
    """A row of blocks.Inception: c1, (c2 reduce, c2), (c3 reduce, c3), c4; ``k3`` the third
    branch's kernel (5 in the paper); ``bias`` as Conv's. Inception keeps sizes (every branch is
    stride 1 with same padding), so its size arithmetic is the identity."""
    __slots__ = ()

    def out_channels(self, in_channels):
        """Channels out of the block for ``in_channels`` in."""
        return Inception.output_channels(self.c1, self.c2, self.c3, self.c4)

    def build(self, in_channels, batch_norm=False):
        """The Gluon block of this spec for ``in_channels`` input channels (BN where ``batch_norm``)."""
        return Inception(self.c1, self.c2, self.c3, self.c4, in_channels=in_channels,
                           batch_norm=batch_norm, k3=self.k3, bias=self.bias)


class MixedSpec(namedtuple("MixedSpec", "branches"), _Branching):
    """Parallel branches (each a tuple of layers) concatenated on channels."""
    __slots__ = ()

    def branch_tables(self):
        """The branches as layer tuples."""
        return tuple(_as_layers(b) for b in self.branches)

    def out_channels(self, in_channels):
        """Channels out of the block for ``in_channels`` in."""
        return sum(sequence_channels(b, in_channels) for b in self.branch_tables())

    def build(self, in_channels, batch_norm=False):
        """The Gluon block of this spec for ``in_channels`` input channels (BN where ``batch_norm``)."""
        return Mixed(self.branches, in_channels, batch_norm)


class ResidualSpec(namedtuple("ResidualSpec", "branches scale relu", defaults=(True,)), _Branching):
    """Inception-ResNet block: branches concatenated, a linear 1x1 conv back to the input
    channels, scaled by ``scale``, added to the input, then ReLU if ``relu``."""
    __slots__ = ()

    def branch_tables(self):
        """The branches as layer tuples."""
        return tuple(_as_layers(b) for b in self.branches)

    def build(self, in_channels, batch_norm=False):
        """The Gluon block of this spec for ``in_channels`` input channels (BN where ``batch_norm``)."""
        return Residual(self.branches, in_channels, self.scale, self.relu, batch_norm)


class ShortcutSpec(namedtuple("ShortcutSpec", "branch shortcut"), _Branching):
    """ResNet-style block: ReLU(branch(x) + shortcut(x)), both layer tuples."""
    __slots__ = ()

    def branch_tables(self):
        """The branches as layer tuples."""
        return (self.branch, self.shortcut)

    def out_channels(self, in_channels):
        """Channels out of the block for ``in_channels`` in."""
        return sequence_channels(self.branch, in_channels)

    def build(self, in_channels, batch_norm=False):
        """The Gluon block of this spec for ``in_channels`` input channels (BN where ``batch_norm``)."""
        return Shortcut(self.branch, self.shortcut, in_channels, batch_norm)


# --- tables -------------------------------------------------------------------------------------
def sequence_channels(layers, in_channels):
    """Output channels of ``layers`` for ``in_channels`` input channels."""
    for layer in layers:
        in_channels = layer.out_channels(in_channels)
    return in_channels


def sequence_side(layers, side):
    """Spatial side after ``layers`` for a square input of side ``side``."""
    for layer in layers:
        side = layer.out_side(side)
    return side


def sequence_reduction(layers):
    """The product of the layers' strides: by how much ``layers`` reduce the resolution."""
    product = 1
    for layer in layers:
        product *= layer.reduction()
    return product


def sequence_need(layers, out, dim=0):
    """Smallest input side along ``dim`` for which ``layers`` give an output side >= ``out``."""
    for layer in reversed(tuple(layers)):
        out = layer.need(out, dim)
    return out


def min_side(layers):
    """Smallest square input side for which every layer's output is at least 1x1."""
    return max(sequence_need(layers, 1, 0), sequence_need(layers, 1, 1))


def flatten_stages(stages):
    """All layers of a stage table in order."""
    return tuple(layer for _, layers in stages for layer in layers)


def build_sequence(layers, in_channels, batch_norm=False, prefix=None):
    """(block, out_channels) for ``layers``: the block itself for one layer, else a
    HybridSequential; markers build nothing (Level marks are not counted: they name, never nest)."""
    layers = [layer for layer in layers if not isinstance(layer, Level)]
    if len(layers) == 1 and not isinstance(layers[0], AuxTap):
        return layers[0].build(in_channels, batch_norm), layers[0].out_channels(in_channels)
    seq = nn.HybridSequential(prefix=prefix)
    with seq.name_scope():
        for layer in layers:
            block = layer.build(in_channels, batch_norm)
            if block is not None:
                seq.add(block)
            in_channels = layer.out_channels(in_channels)
    return seq, in_channels


# --- the blocks the composite kinds build -------------------------------------------------------
class Mixed(HybridBlock):
    """Parallel branches built from layer tables, outputs concatenated on channels.

    ``branches`` is a sequence of layer tuples; branch i becomes child ``p{i+1}``
    (a single layer stands alone, several form a HybridSequential).
    """

    def __init__(self, branches, in_channels, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.branch_names = tuple(f"p{i + 1}" for i in range(len(branches)))
        self.in_channels, self.out_channels = in_channels, 0
        with self.name_scope():
            for name, layers in zip(self.branch_names, branches):
                block, channels = build_sequence(_as_layers(layers), in_channels, batch_norm,
                                                 prefix=f"{name}_")
                setattr(self, name, block)
                self.out_channels += channels

    @property
    def branches(self):
        """The branches in order, as (name, block) pairs."""
        return [(name, getattr(self, name)) for name in self.branch_names]

    def hybrid_forward(self, F, x):
        """The block's computation on ``x`` (see the class docstring)."""
        return ops.concat(F, *[getattr(self, name)(x) for name in self.branch_names])


class Residual(Mixed):
    """Inception-ResNet block: x + scale * conv1x1(concat(branches)), then optional ReLU."""

    def __init__(self, branches, in_channels, scale, relu=True, batch_norm=True, **kwargs):
        super().__init__(branches, in_channels, batch_norm, **kwargs)
        self.scale, self.relu = scale, relu
        with self.name_scope():
            self.proj = nn.Conv2D(in_channels, 1, in_channels=self.out_channels, use_bias=True)
        self.out_channels = in_channels

    def hybrid_forward(self, F, x):
        """The block's computation on ``x`` (see the class docstring)."""
        mixed = ops.concat(F, *[getattr(self, name)(x) for name in self.branch_names])
        out = x + self.proj(mixed) * self.scale
        return ops.relu(F, out) if self.relu else out


class AdaptiveAvgPool2D(HybridBlock):
    """Average pooling to ``size`` x ``size`` bins, each [floor(i n / size), ceil((i + 1) n / size))."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def hybrid_forward(self, F, x):
        """The block's computation on ``x`` (see the class docstring)."""
        return ops.adaptive_avg_pool(F, x, self.size)


class Shortcut(HybridBlock):
    """ReLU(branch(x) + shortcut(x)): a residual block whose shortcut may change channels."""

    def __init__(self, branch, shortcut, in_channels, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.branch, self.out_channels = build_sequence(branch, in_channels, batch_norm, "branch_")
            self.shortcut, _ = build_sequence(shortcut, in_channels, batch_norm, "shortcut_")

    def hybrid_forward(self, F, x):
        """The block's computation on ``x`` (see the class docstring)."""
        return ops.relu(F, self.branch(x) + self.shortcut(x))
