"""Per-channel input normalisation, in one function for arrays and graphs alike.

``normalize(F, x, mean, std)`` computes (x - mean_c) / std_c for each channel c of an N x C x H x W
``x``, with F mxnet.nd or mxnet.sym (in either array mode); the constants are plain numbers, so a
graph holds no extra parameters. Every place that normalises (training input, exported graphs, published weights'
transforms, torchvision's input transform) calls it; ``channel_stats`` adapts RGB statistics to
other channel counts.
"""
from . import ops


def normalize(F, x, mean, std):
    """(x - mean[c]) / std[c] per channel c (axis 1); one value of each stands for every channel."""
    if len(mean) == 1:
        return (x - float(mean[0])) / float(std[0])
    channels = ops.split(F, x, len(mean), axis=1)
    return ops.concat(F, *[(c - float(m)) / float(s) for c, m, s in zip(channels, mean, std)])


def channel_stats(mean, std, channels):
    """RGB ``mean``, ``std`` for ``channels`` input channels: one channel takes their averages (as
    timm), other counts repeat them as adapt_input_conv repeats the filters."""
    if channels == 1:
        return (sum(mean) / len(mean),), (sum(std) / len(std),)
    return (tuple(mean[i % len(mean)] for i in range(channels)),
            tuple(std[i % len(std)] for i in range(channels)))
