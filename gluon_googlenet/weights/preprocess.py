"""Preprocessing that travels with published weights: the transforms a PretrainedCfg asks for,
and the normalisation built into a net so that an exported graph takes RGB in [0, 1].

``eval_transform(cfg)``: resize the short side to side / crop_pct, centre-crop, scale to
[0, 1], normalise (timm's and torchvision's evaluation pipeline); ``train_transform(cfg)``:
random resized crop and left-right flip instead of resize and crop. Both take an image as an
HxWxC uint8 NDArray (``mx.image.imread``) and give a CxHxW float32 one.
"""
from mxnet.gluon.data.vision import transforms
from mxnet.gluon.nn import HybridBlock

from ..base.normalization import normalize

# OpenCV's codes, which MXNet's resize takes
INTERPOLATION = {"bilinear": 1, "bicubic": 2}


def eval_transform(cfg):
    """Resize (short side to side / crop_pct), centre crop, to tensor, normalise."""
    side = cfg.input_size[-1]
    return transforms.Compose([
        transforms.Resize(int(round(side / cfg.crop_pct)), keep_ratio=True,
                          interpolation=INTERPOLATION[cfg.interpolation]),
        transforms.CenterCrop(side),
        transforms.ToTensor(),
        ChannelNormalize(cfg.mean, cfg.std)])


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
        return F.squeeze(normalize(F, F.expand_dims(x, axis=0), self.mean, self.std), axis=0)


class Normalized(HybridBlock):
    """``net`` behind a per-channel (x - mean) / std whose mean and std are constants of the
    graph: exported, it takes RGB (or grey) in [0, 1] as a plain MXNet or ONNX user has it."""

    def __init__(self, net, mean, std):
        super().__init__(prefix=net.prefix)
        self.net, self.mean, self.std = net, tuple(mean), tuple(std)

    def hybrid_forward(self, F, x):
        return self.net(normalize(F, x, self.mean, self.std))
