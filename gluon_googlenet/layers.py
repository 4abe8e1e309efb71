"""Layer tables as data, the blocks they build, and size arithmetic over them.

A network is a tuple of stages ``(name, layers)``; a layer is one of the specs
below. ``build_sequence`` turns layers into Gluon blocks; ``min_side`` and
``output_side`` compute sizes from the table alone. Every family in the zoo
(d2l and paper GoogLeNet, Inception v2/v3/v4, Inception-ResNet, the MNIST nets)
is a table over these few specs.
"""
from collections import namedtuple

from mxnet.gluon import nn
from mxnet.gluon.nn import HybridBlock

from .blocks import Inception, conv_relu  # noqa: F401  (conv_relu: re-exported for the tables' users)

Conv = namedtuple("Conv", "channels kernel stride pad bn act bias", defaults=(1, 0, None, True, None))
Conv.__doc__ = ("Convolution (+BatchNorm) (+ReLU). kernel/stride/pad: int or (h, w); bn None: the "
                "net's setting; bias None: no bias exactly when BN follows.")
MaxPool = namedtuple("MaxPool", "size stride pad ceil", defaults=(0, False))
MaxPool.__doc__ = "Max-pooling; ``ceil`` rounds the output size up (Caffe's and ceil_mode=True's windows)."
AvgPool = namedtuple("AvgPool", "size stride pad include_pad", defaults=(0, True))
GlobalAvgPool = namedtuple("GlobalAvgPool", "")
AdaptiveAvgPool = namedtuple("AdaptiveAvgPool", "size")
AdaptiveAvgPool.__doc__ = "Average pooling to a fixed ``size`` x ``size`` output (PyTorch's AdaptiveAvgPool2d)."
Mix = namedtuple("Mix", "branches")
Mix.__doc__ = "Parallel branches (each a tuple of layers) concatenated on channels."
Residual = namedtuple("Residual", "branches scale relu", defaults=(True,))
Residual.__doc__ = ("Inception-ResNet block: branches concatenated, a linear 1x1 conv back to the "
                    "input channels, scaled by ``scale``, added to the input, then ReLU if ``relu``.")
Shortcut = namedtuple("Shortcut", "branch shortcut")
Shortcut.__doc__ = "ResNet-style block: ReLU(branch(x) + shortcut(x)), both layer tuples."
InceptionSpec = namedtuple("InceptionSpec", "c1 c2 c3 c4 k3", defaults=(5,))
InceptionSpec.__doc__ = ("Inception v1 block: c1, (c2 reduce, c2), (c3 reduce, c3), c4; "
                         "k3 is the kernel of the third branch (5 in the paper).")
AuxTap = namedtuple("AuxTap", "")
AuxTap.__doc__ = "Marks where an auxiliary classifier reads the features (no block is built)."


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


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
        return F.concat(*[getattr(self, name)(x) for name in self.branch_names], dim=1)


class ResidualMixed(Mixed):
    """Inception-ResNet block: x + scale * conv1x1(concat(branches)), then optional ReLU."""

    def __init__(self, branches, in_channels, scale, relu=True, batch_norm=True, **kwargs):
        super().__init__(branches, in_channels, batch_norm, **kwargs)
        self.scale, self.relu = scale, relu
        with self.name_scope():
            self.proj = nn.Conv2D(in_channels, 1, in_channels=self.out_channels, use_bias=True)
        self.out_channels = in_channels

    def hybrid_forward(self, F, x):
        mixed = F.concat(*[getattr(self, name)(x) for name in self.branch_names], dim=1)
        out = x + self.proj(mixed) * self.scale
        return F.relu(out) if self.relu else out


class AdaptiveAvgPool2D(HybridBlock):
    """Average pooling to ``size`` x ``size`` bins, each [floor(i n / size), ceil((i + 1) n / size))."""

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def hybrid_forward(self, F, x):
        return F.contrib.AdaptiveAvgPooling2D(x, output_size=self.size)


class ShortcutSum(HybridBlock):
    """ReLU(branch(x) + shortcut(x)): a residual block whose shortcut may change channels."""

    def __init__(self, branch, shortcut, in_channels, batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.branch, self.out_channels = build_sequence(branch, in_channels, batch_norm, "branch_")
            self.shortcut, _ = build_sequence(shortcut, in_channels, batch_norm, "shortcut_")

    def hybrid_forward(self, F, x):
        return F.relu(self.branch(x) + self.shortcut(x))


def _as_layers(branch):
    return tuple(branch) if isinstance(branch, (tuple, list)) else (branch,)


def inception_branches(spec):
    """The four branches of an Inception v1 block as layer tables."""
    c1, (r2, c2), (r3, c3), c4, k3 = spec
    return ((Conv(c1, 1),),
            (Conv(r2, 1), Conv(c2, 3, 1, 1)),
            (Conv(r3, 1), Conv(c3, k3, 1, k3 // 2)),
            (MaxPool(3, 1, 1), Conv(c4, 1)))


def build_layer(layer, in_channels, batch_norm=False):
    """Return ``(block, out_channels)`` for one table entry (None for markers)."""
    if isinstance(layer, Conv):
        bn = batch_norm if layer.bn is None else layer.bn
        return (conv_relu(layer.channels, layer.kernel, layer.stride, layer.pad, in_channels, bn,
                          layer.act, layer.bias), layer.channels)
    if isinstance(layer, InceptionSpec):
        block = Inception(layer.c1, layer.c2, layer.c3, layer.c4, in_channels=in_channels,
                          batch_norm=batch_norm, k3=layer.k3)
        return block, block.out_channels
    if isinstance(layer, Mix):
        block = Mixed(layer.branches, in_channels, batch_norm)
        return block, block.out_channels
    if isinstance(layer, Residual):
        block = ResidualMixed(layer.branches, in_channels, layer.scale, layer.relu, batch_norm)
        return block, block.out_channels
    if isinstance(layer, Shortcut):
        block = ShortcutSum(layer.branch, layer.shortcut, in_channels, batch_norm)
        return block, block.out_channels
    if isinstance(layer, MaxPool):
        return nn.MaxPool2D(layer.size, layer.stride, layer.pad, ceil_mode=layer.ceil), in_channels
    if isinstance(layer, AdaptiveAvgPool):
        return AdaptiveAvgPool2D(layer.size), in_channels
    if isinstance(layer, AvgPool):
        return (nn.AvgPool2D(layer.size, layer.stride, layer.pad,
                             count_include_pad=layer.include_pad), in_channels)
    if isinstance(layer, GlobalAvgPool):
        return nn.GlobalAvgPool2D(), in_channels
    if isinstance(layer, AuxTap):
        return None, in_channels
    raise TypeError(f"unknown layer in table: {layer!r}")


def build_sequence(layers, in_channels, batch_norm=False, prefix=None):
    """Blocks for ``layers``: the block itself for one layer, else a HybridSequential.

    Returns (block, out_channels); AuxTap markers build nothing.
    """
    if len(layers) == 1 and not isinstance(layers[0], AuxTap):
        return build_layer(layers[0], in_channels, batch_norm)
    seq = nn.HybridSequential(prefix=prefix)
    channels = in_channels
    with seq.name_scope():
        for layer in layers:
            block, channels = build_layer(layer, channels, batch_norm)
            if block is not None:
                seq.add(block)
    return seq, channels


def _window(layer, dim):
    """(kernel, stride, pad, ceil) of a sliding-window layer along ``dim``, else None."""
    if isinstance(layer, Conv):
        return _pair(layer.kernel)[dim], _pair(layer.stride)[dim], _pair(layer.pad)[dim], False
    if isinstance(layer, (MaxPool, AvgPool)):
        return (_pair(layer.size)[dim], _pair(layer.stride)[dim], _pair(layer.pad)[dim],
                getattr(layer, "ceil", False))
    return None


def _branches_of(layer):
    if isinstance(layer, InceptionSpec):
        return inception_branches(layer)
    if isinstance(layer, (Mix, Residual)):
        return tuple(_as_layers(b) for b in layer.branches)
    if isinstance(layer, Shortcut):
        return (layer.branch, layer.shortcut)
    return None


def _need(layers, out, dim):
    """Smallest input side along ``dim`` for which ``layers`` give an output side >= ``out``."""
    for layer in reversed(layers):
        window = _window(layer, dim)
        branches = _branches_of(layer)
        if window is not None:
            k, s, p, ceil = window
            if ceil:  # ceil((n + 2p - k) / s) + 1 >= out
                out = max(1, k - 2 * p, (out - 2) * s + k - 2 * p + 1 if out > 1 else 0)
            else:
                out = max(1, (out - 1) * s + k - 2 * p)
        elif branches is not None:
            out = max(_need(branch, out, dim) for branch in branches)
        elif isinstance(layer, (GlobalAvgPool, AdaptiveAvgPool)):
            out = 1
    return out


def min_side(layers):
    """Smallest square input side for which every layer's output is at least 1x1.

    From out = floor((n + 2p - k) / s) + 1, a layer needs n >= (out - 1) * s + k - 2p (with
    ceil: n >= (out - 2) * s + k - 2p + 1 and n + 2p >= k); parallel branches need the largest.
    """
    return max(_need(tuple(layers), 1, 0), _need(tuple(layers), 1, 1))


def output_side(layers, side):
    """Spatial side after ``layers`` for a square input of side ``side`` (first branch of a mix)."""
    for layer in layers:
        window = _window(layer, 0)
        branches = _branches_of(layer)
        if window is not None:
            k, s, p, ceil = window
            side = (-(-(side + 2 * p - k) // s) if ceil else (side + 2 * p - k) // s) + 1
        elif branches is not None:
            side = output_side(branches[0], side)
        elif isinstance(layer, GlobalAvgPool):
            side = 1
        elif isinstance(layer, AdaptiveAvgPool):
            side = layer.size
    return side


def channels_after(layers, in_channels):
    """Output channels of ``layers`` for ``in_channels`` input channels, from the table alone."""
    channels = in_channels
    for layer in layers:
        if isinstance(layer, Conv):
            channels = layer.channels
        elif isinstance(layer, InceptionSpec):
            channels = layer.c1 + layer.c2[1] + layer.c3[1] + layer.c4
        elif isinstance(layer, Mix):
            channels = sum(channels_after(_as_layers(b), channels) for b in layer.branches)
        elif isinstance(layer, Shortcut):
            channels = channels_after(layer.branch, channels)
    return channels


def flatten_stages(stages):
    """All layers of a stage table in order."""
    return tuple(layer for _, layers in stages for layer in layers)
