"""Inception v2 (BN-Inception), v3 and v4 as stage tables over the shared layers.

Ioffe & Szegedy, "Batch Normalization" (2015), appendix table (BN-Inception);
Szegedy et al., "Rethinking the Inception Architecture" (2016) for v3, with the
layer table of MXNet's and GluonCV's ``inception_v3``; Szegedy et al.,
"Inception-v4, Inception-ResNet and the Impact of Residual Connections" (2017)
for v4, with the layer table of timm's ``inception_v4``. BN (eps 1e-3) after
every conv, ReLU after every BN.
"""
from .layers import AvgPool, Conv, GlobalAvgPool, Level, MaxPool, MixedSpec
from .staged import TORCHVISION_TRANSFORM, staged_model


def split13(channels):
    """The 1x3 and 3x1 convs applied side by side to one input (v3 E blocks, v4 C blocks)."""
    return MixedSpec(((Conv(channels, (1, 3), 1, (0, 1)),), (Conv(channels, (3, 1), 1, (1, 0)),)))


def conv17(channels):
    """1x7 conv, padded to keep the size."""
    return Conv(channels, (1, 7), 1, (0, 3))


def conv71(channels):
    """7x1 conv, padded to keep the size."""
    return Conv(channels, (7, 1), 1, (3, 0))


# --- Inception v2 / BN-Inception: 5x5 convs become two 3x3 --------------------------------
def bn_block(c1, c3, d3, pool, proj, stride=1):
    """BN-Inception block: 1x1 c1; 1x1 c3[0] -> 3x3 c3[1]; 1x1 d3[0] -> 3x3 d3[1] -> 3x3 d3[1];
    pool -> 1x1 proj. With stride 2 the 1x1 branch and projection are dropped (3c, 4e)."""
    branches = []
    if c1:
        branches.append((Conv(c1, 1),))
    branches.append((Conv(c3[0], 1), Conv(c3[1], 3, stride, 1)))
    branches.append((Conv(d3[0], 1), Conv(d3[1], 3, 1, 1), Conv(d3[1], 3, stride, 1)))
    pooling = MaxPool(3, stride, 1) if pool == "max" else AvgPool(3, stride, 1)
    branches.append((pooling, Conv(proj, 1)) if proj else (pooling,))
    return MixedSpec(tuple(branches))


# Level marks: reductions 2..32, named as the paper's table names the layers.
INCEPTION_BN_STAGES = (
    ("b1", (Conv(64, 7, 2, 3), Level("conv1"), MaxPool(3, 2, 1))),          # 64 x 56 x 56
    ("b2", (Conv(64, 1), Conv(192, 3, 1, 1), Level("conv2_3x3"),
            MaxPool(3, 2, 1))),                                             # 192 x 28 x 28
    ("b3", (bn_block(64, (64, 64), (64, 96), "avg", 32),                    # 3a: 256
            bn_block(64, (64, 96), (64, 96), "avg", 64), Level("inception3b"),  # 3b: 320
            bn_block(0, (128, 160), (64, 96), "max", 0, stride=2))),        # 3c: 576 x 14 x 14
    ("b4", (bn_block(224, (64, 96), (96, 128), "avg", 128),                 # 4a: 576
            bn_block(192, (96, 128), (96, 128), "avg", 128),                # 4b: 576
            bn_block(160, (128, 160), (128, 160), "avg", 128),              # 4c: 608
            bn_block(96, (128, 192), (160, 192), "avg", 128), Level("inception4d"),  # 4d: 608
            bn_block(0, (128, 192), (192, 256), "max", 0, stride=2))),      # 4e: 1056 x 7 x 7
    ("b5", (bn_block(352, (192, 320), (160, 224), "avg", 128),              # 5a: 1024
            bn_block(352, (192, 320), (192, 224), "max", 128), Level("inception5b"),  # 5b: 1024
            GlobalAvgPool())),
)


# --- Inception v3 ---------------------------------------------------------------------------
def v3_a(pool_features):
    """Inception v3's block A (35x35) with ``pool_features`` channels after its pooling."""
    return MixedSpec(((Conv(64, 1),), (Conv(48, 1), Conv(64, 5, 1, 2)),
                (Conv(64, 1), Conv(96, 3, 1, 1), Conv(96, 3, 1, 1)),
                (AvgPool(3, 1, 1), Conv(pool_features, 1))))


def v3_c(c7):
    """Inception v3's block C (17x17) with ``c7`` channels in its factorised 7x7 branches."""
    return MixedSpec(((Conv(192, 1),), (Conv(c7, 1), conv17(c7), conv71(192)),
                (Conv(c7, 1), conv71(c7), conv17(c7), conv71(c7), conv17(192)),
                (AvgPool(3, 1, 1), Conv(192, 1))))


V3_B = MixedSpec(((Conv(384, 3, 2),), (Conv(64, 1), Conv(96, 3, 1, 1), Conv(96, 3, 2)), (MaxPool(3, 2),)))
V3_D = MixedSpec(((Conv(192, 1), Conv(320, 3, 2)),
            (Conv(192, 1), conv17(192), conv71(192), Conv(192, 3, 2)), (MaxPool(3, 2),)))
V3_E = MixedSpec(((Conv(320, 1),), (Conv(384, 1), split13(384)),
            (Conv(448, 1), Conv(384, 3, 1, 1), split13(384)), (AvgPool(3, 1, 1), Conv(192, 1))))

# Level marks named as timm's feature_info names them.
INCEPTION_V3_STAGES = (
    ("stem", (Conv(32, 3, 2), Conv(32, 3), Conv(64, 3, 1, 1), Level("Conv2d_2b_3x3"), MaxPool(3, 2),
              Conv(80, 1), Conv(192, 3), Level("Conv2d_4a_3x3"), MaxPool(3, 2))),  # 192 x 35 x 35
    ("mixed5", (v3_a(32), v3_a(64), v3_a(64), Level("Mixed_5d"))),        # 288 x 35 x 35
    ("mixed6", (V3_B, v3_c(128), v3_c(160), v3_c(160), v3_c(192), Level("Mixed_6e"))),  # 768 x 17 x 17
    ("mixed7", (V3_D, V3_E, V3_E, Level("Mixed_7c"), GlobalAvgPool())),   # 2048 x 1 x 1
)

# --- Inception v4 ---------------------------------------------------------------------------
V4_A = MixedSpec(((Conv(96, 1),), (Conv(64, 1), Conv(96, 3, 1, 1)),
            (Conv(64, 1), Conv(96, 3, 1, 1), Conv(96, 3, 1, 1)),
            (AvgPool(3, 1, 1, False), Conv(96, 1))))
V4_REDUCTION_A = MixedSpec(((Conv(384, 3, 2),), (Conv(192, 1), Conv(224, 3, 1, 1), Conv(256, 3, 2)),
                      (MaxPool(3, 2),)))
V4_B = MixedSpec(((Conv(384, 1),), (Conv(192, 1), conv17(224), conv71(256)),
            (Conv(192, 1), conv71(192), conv17(224), conv71(224), conv17(256)),
            (AvgPool(3, 1, 1, False), Conv(128, 1))))
V4_REDUCTION_B = MixedSpec(((Conv(192, 1), Conv(192, 3, 2)),
                      (Conv(256, 1), conv17(256), conv71(320), Conv(320, 3, 2)), (MaxPool(3, 2),)))
V4_C = MixedSpec(((Conv(256, 1),), (Conv(384, 1), split13(256)),
            (Conv(384, 1), Conv(448, (3, 1), 1, (1, 0)), Conv(512, (1, 3), 1, (0, 1)), split13(256)),
            (AvgPool(3, 1, 1, False), Conv(256, 1))))

INCEPTION_V4_STEM = (
    Conv(32, 3, 2), Conv(32, 3), Conv(64, 3, 1, 1),
    MixedSpec(((MaxPool(3, 2),), (Conv(96, 3, 2),))),                                        # 160
    MixedSpec(((Conv(64, 1), Conv(96, 3)), (Conv(64, 1), conv17(64), conv71(64), Conv(96, 3)))),  # 192
    MixedSpec(((Conv(192, 3, 2),), (MaxPool(3, 2),))),                                       # 384 x 35 x 35
)

# Level marks at timm's feature_info (features.2, .3, .9, .17, .21), named as TF-slim's Inception-v4 names them.
INCEPTION_V4_STAGES = (
    ("stem", (*INCEPTION_V4_STEM[:3], Level("Conv2d_2b_3x3"), INCEPTION_V4_STEM[3], Level("Mixed_3a"),
              *INCEPTION_V4_STEM[4:])),
    ("stage_a", (V4_A,) * 4 + (Level("Mixed_5e"),)),                       # 384 x 35 x 35
    ("stage_b", (V4_REDUCTION_A,) + (V4_B,) * 7 + (Level("Mixed_6h"),)),   # 1024 x 17 x 17
    ("stage_c", (V4_REDUCTION_B,) + (V4_C,) * 3 + (Level("Mixed_7d"), GlobalAvgPool())),  # 1536 x 1 x 1
)


def inception_bn(num_classes=1000, in_channels=3, dropout=0.0, **kwargs):
    """BN-Inception (Ioffe & Szegedy 2015, appendix table).

    Stride-2 blocks 3c and 4e pass the max-pooled input through; pooling pads keep
    the table's sizes (56, 28, 14, 7 at 224).
    """
    return staged_model("inception_bn", INCEPTION_BN_STAGES, num_classes, in_channels, dropout, **kwargs)


def inception_v3(num_classes=1000, in_channels=3, dropout=0.5, transform_input=False, **kwargs):
    """Inception v3 as MXNet's and GluonCV's ``inception_v3``.

    The same function as torchvision's and timm's ``inception_v3`` (their aux head aside);
    transform_input: torchvision's per-channel input transform (its published weights use it).
    """
    return staged_model("inception_v3", INCEPTION_V3_STAGES, num_classes, in_channels, dropout,
                        input_transform=TORCHVISION_TRANSFORM if transform_input else None, **kwargs)


def inception_v4(num_classes=1000, in_channels=3, dropout=0.0, **kwargs):
    """Inception v4 as timm's ``inception_v4``."""
    return staged_model("inception_v4", INCEPTION_V4_STAGES, num_classes, in_channels, dropout, **kwargs)
