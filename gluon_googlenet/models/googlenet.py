"""GoogLeNet of "Dive into Deep Learning" (MXNet edition, section 7.4) as a HybridBlock.

Follows Szegedy et al., "Going deeper with convolutions" (2015), as d2l simplifies it:
no local response normalisation, no auxiliary classifiers, no dropout, global
average pooling before a single Dense layer, and a 1-channel 96x96 input
(Fashion-MNIST resized). With 10 classes it has 5,977,530 parameters.
"""
from mxnet.gluon import nn

from ..stages import Conv, GlobalAvgPool, InceptionSpec as I, MaxPool, build_stage, min_input_size
from .base import ImageClassifier
from .registry import register_model

# Output shapes for a 1x1x96x96 input are in the comments.
D2L_STAGES = (
    ("b1", (Conv(64, 7, 2, 3), MaxPool(3, 2, 1))),                    # 64 x 24 x 24
    ("b2", (Conv(64, 1, 1, 0), Conv(192, 3, 1, 1), MaxPool(3, 2, 1))),  # 192 x 12 x 12
    ("b3", (I(64, (96, 128), (16, 32), 32),                           # 256
            I(128, (128, 192), (32, 96), 64),                         # 480
            MaxPool(3, 2, 1))),                                       # 480 x 6 x 6
    ("b4", (I(192, (96, 208), (16, 48), 64),                          # 512
            I(160, (112, 224), (24, 64), 64),                         # 512
            I(128, (128, 256), (24, 64), 64),                         # 512
            I(112, (144, 288), (32, 64), 64),                         # 528
            I(256, (160, 320), (32, 128), 128),                       # 832
            MaxPool(3, 2, 1))),                                       # 832 x 3 x 3
    ("b5", (I(256, (160, 320), (32, 128), 128),                       # 832
            I(384, (192, 384), (48, 128), 128),                       # 1024
            GlobalAvgPool())),                                        # 1024 x 1 x 1
)


class GoogLeNet(ImageClassifier):
    """GoogLeNet built from a stage table: stages ``b1``..``b5`` then ``head`` (Dense).

    ``classes``: outputs of the head; ``in_channels``: input channels (1 for
    Fashion-MNIST); ``stages``: the table (default: d2l's); ``batch_norm``: BN after
    every conv; ``dropout``: dropout rate before the head (0 = none). Parameter
    names start with ``prefix``, so exported files load into a fresh net.
    """

    def __init__(self, classes=10, in_channels=1, stages=D2L_STAGES, batch_norm=False,
                 dropout=0.0, prefix="googlenet_", model_name="googlenet", **kwargs):
        super().__init__(prefix=prefix, **kwargs)
        self.classes, self.in_channels, self.model_name = classes, in_channels, model_name
        self.stage_table = tuple(stages)
        self.stage_names = tuple(name for name, _ in stages)
        self.min_size = min_input_size(stages)
        channels = in_channels
        with self.name_scope():
            for name, layers in stages:
                stage, channels = build_stage(layers, channels, batch_norm, prefix=f"{name}_")
                setattr(self, name, stage)
            self.head = nn.HybridSequential(prefix="head_")
            with self.head.name_scope():
                if dropout:
                    self.head.add(nn.Dropout(dropout))
                self.head.add(nn.Dense(classes, in_units=channels))
        self.features = channels


@register_model("googlenet_d2l", input_size=(1, 96, 96), classes=10,
                description="d2l GoogLeNet (b1..b5 + Dense) for 1x96x96 Fashion-MNIST")
def googlenet_d2l(classes=10, in_channels=1, **kwargs):
    """The d2l GoogLeNet: 5,977,530 parameters with 1 input channel and 10 classes."""
    return GoogLeNet(classes, in_channels, D2L_STAGES, prefix="googlenet_d2l_",
                     model_name="googlenet_d2l", **kwargs)
