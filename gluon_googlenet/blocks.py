"""The Inception block (d2l 7.4; Szegedy et al. 2015) on top of the shared ``Mixed`` block."""
from .layers import InceptionSpec, Mixed, conv_relu, inception_branches

__all__ = ["Inception", "conv_relu"]


class Inception(Mixed):
    """Inception block with four parallel branches, concatenated on channels.

    p1: 1x1 conv (c1); p2: 1x1 (c2[0]) -> 3x3 (c2[1]); p3: 1x1 (c3[0]) -> 5x5 (c3[1]);
    p4: 3x3 max-pool (stride 1) -> 1x1 (c4). ReLU after every conv, as in d2l and the
    paper; spatial size is kept. ``in_channels`` fixes parameter shapes up front
    (0 defers them to the first forward pass); ``batch_norm`` adds BN before each
    ReLU; ``k3`` is the third branch's kernel (torchvision and GluonCV use 3).
    """

    def __init__(self, c1, c2, c3, c4, in_channels=0, batch_norm=False, k3=5, **kwargs):
        spec = InceptionSpec(c1, tuple(c2), tuple(c3), c4, k3)
        super().__init__(inception_branches(spec), in_channels, batch_norm, **kwargs)
