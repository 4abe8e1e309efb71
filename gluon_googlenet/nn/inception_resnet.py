"""Inception-ResNet v1 and v2 (Szegedy et al. 2017): Inception branches summed onto a shortcut.

Each residual block concatenates its branches, projects them back to the input
width with a linear 1x1 conv (with bias), scales the result (0.17, 0.10, 0.20 for
the 35x35, 17x17 and 8x8 blocks) and adds it to the input before the ReLU. v2
follows timm's ``inception_resnet_v2``; v1 follows the paper's figures 7 and 10-14.
"""
from .inception import conv17, conv71
from .layers import AvgPool, Conv, GlobalAvgPool, Level, MaxPool, MixedSpec, ResidualSpec
from .staged import staged_model

# --- v2 -----------------------------------------------------------------------------------
IRV2_BLOCK35 = ResidualSpec(((Conv(32, 1),), (Conv(32, 1), Conv(32, 3, 1, 1)),
                         (Conv(32, 1), Conv(48, 3, 1, 1), Conv(64, 3, 1, 1))), 0.17)
IRV2_BLOCK17 = ResidualSpec(((Conv(192, 1),), (Conv(128, 1), conv17(160), conv71(192))), 0.10)


def irv2_block8(scale=0.20, relu=True):
    """Inception-ResNet-v2's Block8 (8x8) with residual ``scale``; ``relu`` after the sum."""
    return ResidualSpec(((Conv(192, 1),), (Conv(192, 1), Conv(224, (1, 3), 1, (0, 1)),
                                       Conv(256, (3, 1), 1, (1, 0)))), scale, relu)


# Level marks named as timm's feature_info: conv2d_2b, conv2d_4a, repeat (10 block35), repeat_1
# (20 block17), conv2d_7b.
INCEPTION_RESNET_V2_STAGES = (
    ("stem", (Conv(32, 3, 2), Conv(32, 3), Conv(64, 3, 1, 1), Level("conv2d_2b"), MaxPool(3, 2), Conv(80, 1),
              Conv(192, 3), Level("conv2d_4a"), MaxPool(3, 2),
              MixedSpec(((Conv(96, 1),), (Conv(48, 1), Conv(64, 5, 1, 2)),
                   (Conv(64, 1), Conv(96, 3, 1, 1), Conv(96, 3, 1, 1)),
                   (AvgPool(3, 1, 1, False), Conv(64, 1)))))),                   # 320 x 35 x 35
    ("stage_a", (IRV2_BLOCK35,) * 10 + (Level("block35_10"),)),
    ("stage_b", (MixedSpec(((Conv(384, 3, 2),), (Conv(256, 1), Conv(256, 3, 1, 1), Conv(384, 3, 2)),
                      (MaxPool(3, 2),))),) + (IRV2_BLOCK17,) * 20 + (Level("block17_20"),)),  # 1088 x 17 x 17
    ("stage_c", (MixedSpec(((Conv(256, 1), Conv(384, 3, 2)), (Conv(256, 1), Conv(288, 3, 2)),
                      (Conv(256, 1), Conv(288, 3, 1, 1), Conv(320, 3, 2)), (MaxPool(3, 2),))),)
     + (irv2_block8(),) * 9 + (irv2_block8(1.0, relu=False), Conv(1536, 1), Level("conv2d_7b"), GlobalAvgPool())),
)

# --- v1 (paper) ---------------------------------------------------------------------------
IRV1_A = ResidualSpec(((Conv(32, 1),), (Conv(32, 1), Conv(32, 3, 1, 1)),
                   (Conv(32, 1), Conv(32, 3, 1, 1), Conv(32, 3, 1, 1))), 0.17)
IRV1_B = ResidualSpec(((Conv(128, 1),), (Conv(128, 1), conv17(128), conv71(128))), 0.10)


def irv1_c(scale=0.20, relu=True):
    """Inception-ResNet-v1's block C (8x8) with residual ``scale``; ``relu`` after the sum."""
    return ResidualSpec(((Conv(192, 1),), (Conv(192, 1), Conv(192, (1, 3), 1, (0, 1)),
                                       Conv(192, (3, 1), 1, (1, 0)))), scale, relu)


# Level marks: the stem's two (named as TF-slim's Inception-ResNet-v1 names those convs), then the
# ends of the paper's three stages of residual blocks (5 x Inception-resnet-A, 10 x -B, 5 x -C).
INCEPTION_RESNET_V1_STAGES = (
    ("stem", (Conv(32, 3, 2), Conv(32, 3), Conv(64, 3, 1, 1), Level("conv2d_2b"), MaxPool(3, 2), Conv(80, 1),
              Conv(192, 3), Level("conv2d_4a"), Conv(256, 3, 2))),               # 256 x 35 x 35
    ("stage_a", (IRV1_A,) * 5 + (Level("inception_resnet_a"),)),
    ("stage_b", (MixedSpec(((MaxPool(3, 2),), (Conv(384, 3, 2),),                      # reduction A:
                      (Conv(192, 1), Conv(192, 3, 1, 1), Conv(256, 3, 2)))),)    # k, l, m, n =
     + (IRV1_B,) * 10 + (Level("inception_resnet_b"),)),                         # 192, 192, 256, 384
    ("stage_c", (MixedSpec(((MaxPool(3, 2),), (Conv(256, 1), Conv(384, 3, 2)), (Conv(256, 1), Conv(256, 3, 2)),
                      (Conv(256, 1), Conv(256, 3, 1, 1), Conv(256, 3, 2)))),)    # 1792 x 8 x 8
     + (irv1_c(),) * 5 + (Level("inception_resnet_c"), GlobalAvgPool())),
)


def inception_resnet_v1(num_classes=1000, in_channels=3, dropout=0.2, **kwargs):
    """Inception-ResNet v1 after the paper.

    Dropout 0.2 (the paper's keep 0.8) before the classifier.
    """
    return staged_model("inception_resnet_v1", INCEPTION_RESNET_V1_STAGES, num_classes, in_channels,
                        dropout, **kwargs)


def inception_resnet_v2(num_classes=1000, in_channels=3, dropout=0.0, **kwargs):
    """Inception-ResNet v2 as timm's ``inception_resnet_v2``."""
    return staged_model("inception_resnet_v2", INCEPTION_RESNET_V2_STAGES, num_classes, in_channels,
                        dropout, **kwargs)
