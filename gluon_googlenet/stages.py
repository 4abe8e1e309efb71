"""Stage tables as data, and the builder that turns a table into Gluon blocks.

A stage is ``(name, layers)``; each layer is one of the tuples below. The d2l
GoogLeNet, for instance, is five such stages (``D2L_STAGES`` in models/googlenet.py).
"""
from collections import namedtuple

from mxnet.gluon import nn

from .blocks import Inception, conv_relu

Conv = namedtuple("Conv", "channels kernel stride pad")
Conv.__doc__ = "Convolution followed by ReLU (and BatchNorm before it in BN nets)."
MaxPool = namedtuple("MaxPool", "size stride pad")
AvgPool = namedtuple("AvgPool", "size stride pad")
GlobalAvgPool = namedtuple("GlobalAvgPool", "")
InceptionSpec = namedtuple("InceptionSpec", "c1 c2 c3 c4")
InceptionSpec.__doc__ = "Inception block: c1, (c2 reduce, c2), (c3 reduce, c3), c4."


def build_layer(layer, in_channels, batch_norm=False):
    """Return ``(block, out_channels)`` for one table entry."""
    if isinstance(layer, Conv):
        return (conv_relu(layer.channels, layer.kernel, layer.stride, layer.pad,
                          in_channels=in_channels, batch_norm=batch_norm), layer.channels)
    if isinstance(layer, InceptionSpec):
        block = Inception(*layer, in_channels=in_channels, batch_norm=batch_norm)
        return block, block.out_channels
    if isinstance(layer, MaxPool):
        return nn.MaxPool2D(layer.size, layer.stride, layer.pad), in_channels
    if isinstance(layer, AvgPool):
        return nn.AvgPool2D(layer.size, layer.stride, layer.pad), in_channels
    if isinstance(layer, GlobalAvgPool):
        return nn.GlobalAvgPool2D(), in_channels
    raise TypeError(f"unknown layer in stage table: {layer!r}")


def build_stage(layers, in_channels, batch_norm=False, prefix=None):
    """Build a HybridSequential from a list of layers; return it and its output channels."""
    stage = nn.HybridSequential(prefix=prefix)
    channels = in_channels
    with stage.name_scope():
        for layer in layers:
            block, channels = build_layer(layer, channels, batch_norm)
            stage.add(block)
    return stage, channels


def _window(layer):
    """(kernel, stride, pad) of a layer that changes spatial size, else None."""
    if isinstance(layer, (Conv,)):
        return layer.kernel, layer.stride, layer.pad
    if isinstance(layer, (MaxPool, AvgPool)):
        return layer.size, layer.stride, layer.pad
    return None  # Inception blocks keep the size; global pooling takes any size


def min_input_size(stages):
    """Smallest square input side for which every layer of the stage table has output >= 1.

    From out = floor((H + 2p - k) / s) + 1, a layer needs H >= (out - 1) * s + k - 2p.
    """
    need = 1
    for _, layers in reversed(stages):
        for layer in reversed(layers):
            window = _window(layer)
            if window is not None:
                k, s, p = window
                need = max(1, (need - 1) * s + k - 2 * p)
    return need

