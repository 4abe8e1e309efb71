"""Common base for the package's classifiers: input checks and stage iteration."""
from mxnet import nd
from mxnet.gluon.nn import HybridBlock

from ..errors import InputShapeError


def check_input_shape(shape, in_channels, min_size, model_name):
    """Raise InputShapeError unless ``shape`` is (N, in_channels, H, W) with H, W >= min_size."""
    if len(shape) != 4:
        raise InputShapeError(
            f"{model_name} expects a 4-D input (batch, {in_channels}, height, width), got shape {tuple(shape)}")
    if shape[1] != in_channels:
        raise InputShapeError(
            f"{model_name} was built for {in_channels} input channel(s), got {shape[1]} "
            f"(input shape {tuple(shape)}); build it with in_channels={shape[1]}")
    if min(shape[2], shape[3]) < min_size:
        raise InputShapeError(
            f"{model_name} needs inputs of at least {min_size}x{min_size} pixels, "
            f"got {shape[2]}x{shape[3]}")


class ImageClassifier(HybridBlock):
    """A HybridBlock made of named stages and a head, checking inputs before MXNet does.

    Subclasses set ``stage_names`` (children run in that order, then ``head``),
    ``in_channels``, ``classes`` and ``min_size``.
    """

    stage_names = ()
    model_name = "model"

    def stages(self):
        """(name, block) pairs in forward order, the head last."""
        return [(name, getattr(self, name)) for name in self.stage_names] + [("head", self.head)]

    def forward(self, x, *args):
        if isinstance(x, nd.NDArray):
            check_input_shape(x.shape, self.in_channels, self.min_size, self.model_name)
        return super().forward(x, *args)

    def hybrid_forward(self, F, x):
        for name in self.stage_names:
            x = getattr(self, name)(x)
        return self.head(x)
