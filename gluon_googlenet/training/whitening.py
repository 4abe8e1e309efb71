"""--whiten: the first convolution starts as the patch-whitening filters of the training images.

The covariance of the image patches that the first convolution sees (its kernel, stride and zero
padding, on the net's input: the images as the loop feeds them) has eigenvectors v_i with
eigenvalues l_i; the filter v_i / sqrt(l_i + EPS) maps a patch to its i-th decorrelated
component, of variance l_i / (l_i + EPS) (about 1 where l_i is well above EPS). The first
n = min(channels // 2, patch size) filters get the n components of largest variance, the next n
their negatives (so a ReLU keeps both signs); any filters left keep their initialisation. The
filters go on training with the rest of the net.
"""
import numpy as np
from mxnet.gluon import nn

from ..base.errors import ConfigError
from ..base.gluon_internals import child_blocks, conv_geometry

IMAGES = 4000  # the first images of the training set give the patch statistics
EPS = 1e-2     # added to each eigenvalue, on the [0, 1] (or normalised) input scale


def first_conv(net):
    """The first Conv2D of ``net`` in the order its blocks were added (the stem's: the one that
    reads the input); ConfigError when the net has none."""
    pending = [net]
    while pending:
        block = pending.pop(0)
        if isinstance(block, nn.Conv2D):
            return block
        pending[:0] = [child for _, child in child_blocks(block)]
    raise ConfigError(f"--whiten: {type(net).__name__} has no 2-D convolution to whiten")


def patches(x, kernel, stride, pad):
    """Every ``kernel`` patch of the images ``x`` (numpy [N, C, H, W]) that a convolution with this
    ``stride`` and zero ``pad`` (pairs) reads, one per row: [N * positions, C * kh * kw]."""
    x = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    windows = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, x.shape[1] * kernel[0] * kernel[1])


def patch_covariance(x, kernel, stride, pad, chunk=256):
    """The covariance matrix of the patches of ``x`` (float64), gathered ``chunk`` images at a time
    so that large inputs (96x96: 2,304 patches an image) need little memory."""
    size = x.shape[1] * kernel[0] * kernel[1]
    count, total, products = 0, np.zeros(size), np.zeros((size, size))
    for start in range(0, len(x), chunk):
        rows = patches(x[start:start + chunk].astype(np.float64), kernel, stride, pad)
        count += len(rows)
        total += rows.sum(axis=0)
        products += rows.T @ rows
    mean = total / count
    return (products - count * np.outer(mean, mean)) / (count - 1)


def whitening_filters(x, kernel, stride, pad, channels):
    """The whitening filters of the patches of ``x`` (numpy [N, C, H, W], the net's input), shape
    [2n, C, kh, kw] with n = min(channels // 2, C * kh * kw): the n largest components, then their
    negatives."""
    values, vectors = np.linalg.eigh(patch_covariance(x, kernel, stride, pad))
    values, vectors = values[::-1], vectors[:, ::-1]  # largest first
    # each eigenvector's sign as LAPACK builds differ on it: its largest entry positive, so the filters
    # (and the run) are the same under every numpy
    vectors = vectors * np.where(vectors[np.abs(vectors).argmax(axis=0), range(vectors.shape[1])] < 0, -1, 1)
    n = min(channels // 2, len(values))
    filters = (vectors / np.sqrt(np.maximum(values, 0) + EPS)).T[:n]
    return np.concatenate([filters, -filters]).reshape(2 * n, x.shape[1], *kernel).astype(np.float32)


def net_input(images, mean=None, std=None):
    """uint8 images [N, C, S, S] as the loop feeds them to the net (run_data.to_input), in float64."""
    x = images.astype(np.float64) / 255
    if mean is None:
        return x
    return (x - np.asarray(mean, np.float64).reshape(1, -1, 1, 1)) / np.asarray(std, np.float64).reshape(1, -1, 1, 1)


def whiten_first_conv(net, images, mean=None, std=None):
    """Set the first convolution of the initialised ``net`` to the whitening filters of the first
    IMAGES of ``images`` (uint8 [N, C, H, W], numpy) as the net is fed them (net_input, with the
    run's ``mean`` and ``std``); returns how many filters were set."""
    conv = first_conv(net)
    kernel, stride, pad, dilate, groups = conv_geometry(conv)
    if dilate != (1, 1) or groups != 1:
        raise ConfigError("--whiten: the first convolution is dilated or grouped; whitening takes a plain one")
    weight = conv.weight
    channels, in_channels = weight.shape[:2]
    if in_channels != images.shape[1]:
        raise ConfigError(f"--whiten: the first convolution reads {in_channels} channel(s), the images have "
                          f"{images.shape[1]}")
    if channels < 2:
        raise ConfigError(f"--whiten: the first convolution ({conv.name}) has {channels} filter; whitening needs "
                          "at least 2 (a component and its negative)")
    filters = whitening_filters(net_input(images[:IMAGES], mean, std), kernel, stride, pad, channels)
    for ctx in weight.list_ctx():
        value = weight.data(ctx)
        value[:len(filters)] = filters
    return len(filters)
