"""The two small MNIST nets of lecture 11, "Advanced CNN", of Liu Er's (Hongpu Liu) video course
"PyTorch 深度学习实践" (PyTorch deep-learning practice, 2020), for 1x28x28 inputs: the course's
InceptionA net and its residual-block net (the course's figures: 1408 and 980 Dense inputs).

mnist_inception: conv 5x5 1->10, max-pool 2, Inception module (16 + 24 + 24 + 24 = 88
channels, no ReLU inside the module, as the course writes it), conv 5x5 88->20,
max-pool 2, the module again, then Dense 1408 (= 88 x 4 x 4) -> 10.
mnist_resnet: two residual blocks (conv3x3 -> ReLU -> conv3x3, plus a 3x3 conv on the
shortcut, ReLU after the sum), 1->10 and 10->20 channels, each followed by max-pool 2
and ReLU, then Dense 980 (= 20 x 7 x 7) -> 10.
"""
from .layers import AvgPool, Conv, MaxPool, MixedSpec, ShortcutSpec
from .staged import staged_model


def course_inception():
    """The course's Inception module: 1x1 16; 1x1 16 -> 5x5 24; 1x1 16 -> 3x3 24 -> 3x3 24;
    3x3 avg-pool -> 1x1 24; linear convs (no ReLU)."""
    def conv(channels, kernel=1, pad=0):
        return Conv(channels, kernel, 1, pad, act=False)
    return MixedSpec(((conv(16),), (conv(16), conv(24, 5, 2)), (conv(16), conv(24, 3, 1), conv(24, 3, 1)),
                (AvgPool(3, 1, 1), conv(24))))


MNIST_INCEPTION_STAGES = (
    ("b1", (Conv(10, 5), MaxPool(2, 2), course_inception())),            # 88 x 12 x 12
    ("b2", (Conv(20, 5), MaxPool(2, 2), course_inception())),            # 88 x 4 x 4
)


def course_residual(in_channels, out_channels):
    """The course's residual block: two 3x3 convolutions beside a 3x3 shortcut convolution."""
    return ShortcutSpec(branch=(Conv(in_channels, 3, 1, 1), Conv(out_channels, 3, 1, 1, act=False)),
                    shortcut=(Conv(out_channels, 3, 1, 1, act=False),))


MNIST_RESNET_STAGES = (
    ("b1", (course_residual(1, 10), MaxPool(2, 2))),                     # 10 x 14 x 14
    ("b2", (course_residual(10, 20), MaxPool(2, 2))),                    # 20 x 7 x 7
)


def mnist_inception(num_classes=10, in_channels=1, input_size=28, **kwargs):
    """The course's Inception net (the Dense layer is sized for ``input_size``)."""
    return staged_model("mnist_inception", MNIST_INCEPTION_STAGES, num_classes, in_channels,
                        batch_norm=False, input_size=input_size, **kwargs)


def mnist_resnet(num_classes=10, in_channels=1, input_size=28, **kwargs):
    """The course's residual net (the Dense layer is sized for ``input_size``).

    The max-pools follow ReLU outputs, so pool-then-ReLU equals the article's order.
    """
    return staged_model("mnist_resnet", MNIST_RESNET_STAGES, num_classes, in_channels,
                        batch_norm=False, input_size=input_size, **kwargs)
