"""Preprocessing that travels with published weights: the transforms a PretrainedCfg asks for,
and the normalisation built into a net so that an exported graph takes RGB in [0, 1].

``eval_transform(cfg)``: resize the short side to side / crop_pct, centre-crop, scale to
[0, 1], normalise (timm's and torchvision's evaluation pipeline); ``train_transform(cfg)``:
random resized crop and left-right flip instead of resize and crop. Both take an image as an
HxWxC uint8 NDArray (``mx.image.imread``) and give a CxHxW float32 one.
"""
import math

import mxnet as mx
import numpy as np
from mxnet.gluon.data.vision import transforms
from mxnet.gluon.nn import Block, HybridBlock

from ..base import ops
from ..base.normalization import normalize

# OpenCV's codes, which MXNet's resize takes (the training transform's random crops)
INTERPOLATION = {"bilinear": 1, "bicubic": 2}


def resize_side(cfg):
    """The short side an image is resized to before the centre crop: side / crop_pct, floored as
    timm's create_transform does, rounded as torchvision's and GluonCV's sizes are (342 for 299)."""
    side = cfg.input_size[-1] / cfg.crop_pct
    return math.floor(side) if cfg.source == "timm" else int(round(side))


def eval_transform(cfg):
    """Resize (short side to resize_side) and centre crop as the weights' publishers do
    (ResizeCenterCrop), to tensor, normalise."""
    return transforms.Compose([
        ResizeCenterCrop(resize_side(cfg), cfg.input_size[-1], cfg.interpolation),
        transforms.ToTensor(),
        ChannelNormalize(cfg.mean, cfg.std)])


class ResizeCenterCrop(Block):
    """torchvision's and timm's evaluation resize and centre crop, step for step: the short side
    to ``resize`` (the long one scaled and truncated), PIL's antialiased resampling, a ``crop`` x
    ``crop`` centre crop at rounded offsets. HxWxC uint8 NDArray in and out."""

    def __init__(self, resize, crop, interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        self.resize, self.crop, self.interpolation = resize, crop, interpolation

    def forward(self, x):
        """The block's computation on ``x`` (see the class docstring)."""
        from PIL import Image
        image = Image.fromarray(x.asnumpy())
        width, height = image.size
        short, long = sorted((width, height))
        new_long = int(self.resize * long / short)
        size = (self.resize, new_long) if width <= height else (new_long, self.resize)
        image = image.resize(size, {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}[self.interpolation])
        left, top = (int(round((side - self.crop) / 2.0)) for side in size)
        image = image.crop((left, top, left + self.crop, top + self.crop))
        return mx.nd.array(np.asarray(image), dtype="uint8")


def train_transform(cfg):
    """Random resized crop, random left-right flip, to tensor, normalise."""
    return transforms.Compose([
        transforms.RandomResizedCrop(cfg.input_size[-1], interpolation=INTERPOLATION[cfg.interpolation]),
        transforms.RandomFlipLeftRight(),
        transforms.ToTensor(),
        ChannelNormalize(cfg.mean, cfg.std)])


class ChannelNormalize(HybridBlock):
    """One C x H x W image -> per-channel (x - mean) / std (base.normalization.normalize)."""

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.mean, self.std = tuple(mean), tuple(std)

    def hybrid_forward(self, F, x):
        """The block's computation on ``x`` (see the class docstring)."""
        return ops.squeeze(F, normalize(F, ops.expand_dims(F, x, 0), self.mean, self.std), 0)


class Normalized(HybridBlock):
    """``net`` behind a per-channel (x - mean) / std whose mean and std are constants of the
    graph: exported, it takes RGB (or grey) in [0, 1] as a plain MXNet or ONNX user has it."""

    def __init__(self, net, mean, std):
        super().__init__(prefix=net.prefix)
        self.net, self.mean, self.std = net, tuple(mean), tuple(std)

    def hybrid_forward(self, F, x):
        """The block's computation on ``x`` (see the class docstring)."""
        return self.net(normalize(F, x, self.mean, self.std))


class FlipAveraged(HybridBlock):
    """``net``'s logits averaged over each image and its left-right mirror (flip test-time
    augmentation) inside the graph: exported, it is the model a run tested with ``tta='flip'``."""

    def __init__(self, net):
        super().__init__(prefix=net.prefix)
        self.net = net

    def hybrid_forward(self, F, x):
        """The block's computation on ``x`` (see the class docstring)."""
        return (self.net(x) + self.net(ops.flip(F, x, 3))) / 2
