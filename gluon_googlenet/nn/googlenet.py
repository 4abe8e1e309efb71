"""GoogLeNet (Inception v1): the d2l net, the paper's net with auxiliary heads, and the BN net.

Szegedy et al., "Going deeper with convolutions" (2015). All three share the
paper's Inception channel table (3a..5b) and differ in stem, normalisation and head.
Each ``InceptionSpec`` row below builds one ``blocks.Inception``.
"""

from .blocks import Inception  # noqa: F401  (what every InceptionSpec row builds)
from .layers import AdaptiveAvgPool, AuxTap, AvgPool, Conv, GlobalAvgPool, InceptionSpec, Level, MaxPool
from .staged import TORCHVISION_TRANSFORM, AuxHeadSpec, NetSpec, StagedNet

# d2l section 7.4: b1..b5, each Inception row (c1, (c2 reduce, c2), (c3 reduce, c3), c4).
# Output shapes for a 1x1x96x96 input are in the comments. Its feature levels are its stages' ends.
D2L_STAGES = (
    ("b1", (Conv(64, 7, 2, 3), MaxPool(3, 2, 1))),                      # 64 x 24 x 24
    ("b2", (Conv(64, 1), Conv(192, 3, 1, 1), MaxPool(3, 2, 1))),        # 192 x 12 x 12
    ("b3", (InceptionSpec(64, (96, 128), (16, 32), 32),                 # 256
            InceptionSpec(128, (128, 192), (32, 96), 64),               # 480
            MaxPool(3, 2, 1))),                                         # 480 x 6 x 6
    ("b4", (InceptionSpec(192, (96, 208), (16, 48), 64),                # 512  (4a)
            InceptionSpec(160, (112, 224), (24, 64), 64),               # 512
            InceptionSpec(128, (128, 256), (24, 64), 64),               # 512
            InceptionSpec(112, (144, 288), (32, 64), 64),               # 528  (4d)
            InceptionSpec(256, (160, 320), (32, 128), 128),             # 832
            MaxPool(3, 2, 1))),                                         # 832 x 3 x 3
    ("b5", (InceptionSpec(256, (160, 320), (32, 128), 128),             # 832
            InceptionSpec(384, (192, 384), (48, 128), 128),             # 1024
            GlobalAvgPool())),                                          # 1024 x 1 x 1
)


def imagenet_table(stages, aux_taps=False):
    """The d2l-shaped ``stages`` with the ImageNet nets' marks: feature levels at reductions 2..32,
    named as torchvision's GoogLeNet names its layers, and with ``aux_taps`` the paper's auxiliary
    heads after 4a and 4d."""
    b1, b2, b3, b4, b5 = (layers for _, layers in stages)
    tap = (AuxTap(),) if aux_taps else ()
    return (("b1", (b1[0], Level("conv1"), *b1[1:])),
            ("b2", (*b2[:2], Level("conv3"), *b2[2:])),
            ("b3", (*b3[:2], Level("inception3b"), *b3[2:])),
            ("b4", (b4[0], *tap, *b4[1:4], *tap, b4[4], Level("inception4e"), *b4[5:])),
            ("b5", (*b5[:2], Level("inception5b"), *b5[2:])))


def paper_stages(k3=5):
    """The paper's table (224x224x3: 56, 28, 14, 7 after b1..b4) with aux taps after 4a and 4d.

    The paper (BVLC Caffe model) pools 3x3/2 in ceil mode without padding, d2l pads by 1 instead:
    same sizes at 224, other windows. ``k3=3`` gives the torchvision / GluonCV net: a 3x3
    "5x5" branch and a 2x2/2 pool before 5a.
    """
    last_pool = MaxPool(3, 2, 0, ceil=True) if k3 == 5 else MaxPool(2, 2, 0, ceil=True)

    def convert(name, layer):
        if isinstance(layer, InceptionSpec):
            return layer._replace(k3=k3)
        if isinstance(layer, MaxPool):
            return last_pool if name == "b4" else MaxPool(3, 2, 0, ceil=True)
        return layer
    return imagenet_table(tuple((name, tuple(convert(name, layer) for layer in layers)) for name, layers in D2L_STAGES),
                          aux_taps=True)


def bn_article_stages():
    """googlenet_bn's table: plain conv+ReLU stem; Inception convs with bias and BN."""
    def convert(layer):
        if isinstance(layer, Conv):
            return Conv(*layer[:4], bn=False)
        return layer._replace(bias=True) if isinstance(layer, InceptionSpec) else layer
    return imagenet_table(tuple((name, tuple(convert(layer) for layer in layers)) for name, layers in D2L_STAGES))


class GoogLeNet(StagedNet):
    """GoogLeNet built from a stage table: stages ``b1``..``b5`` then ``head`` (Dense).

    num_classes: outputs; in_channels: input channels (1 for Fashion-MNIST); stages: the
    table (default d2l's); batch_norm: BN after every conv; dropout: rate before the
    head; hidden: Dense+ReLU widths before the classifier; aux_logits: build the
    paper's auxiliary classifiers at the table's AuxTap marks (sized for input_size).
    Parameter names start with ``prefix``, so exported files load into a fresh net; by default
    it is the d2l net under the d2l net's names (``get_model('googlenet_d2l')`` loads its exports).
    """

    # The public keyword options of the class (README); model factories pass them through.
    def __init__(self, num_classes=10, in_channels=1, stages=D2L_STAGES, batch_norm=False,  # noqa: PLR0913
                 dropout=0.0, hidden=(), aux_logits=False, input_size=96, prefix="googlenet_d2l_",
                 model_name="googlenet_d2l", aux_head=None, input_transform=None, **kwargs):
        spec = NetSpec(model_name, stages, batch_norm, dropout, tuple(hidden),
                       (aux_head or AuxHeadSpec()) if aux_logits else None, input_transform)
        super().__init__(spec, num_classes, in_channels, input_size, prefix=prefix, **kwargs)


def googlenet_d2l(num_classes=10, in_channels=1, **kwargs):
    """The d2l GoogLeNet (section 7.4): ``D2L_STAGES`` above, then a Dense classifier.

    As d2l simplifies the paper: no LRN, no auxiliary classifiers, no dropout.
    """
    return GoogLeNet(num_classes, in_channels, D2L_STAGES, prefix="googlenet_d2l_",
                     model_name="googlenet_d2l", **kwargs)


def googlenet_d2l_bn(num_classes=10, in_channels=1, **kwargs):
    """The d2l GoogLeNet with batch normalisation after every convolution (the chapter's first
    exercise): ``D2L_STAGES``, BN (eps 1e-3) before each ReLU, no bias before BN, Dense classifier.
    It trains at larger learning rates and learns from the first epoch where the plain net may not."""
    return GoogLeNet(num_classes, in_channels, D2L_STAGES, batch_norm=True, prefix="googlenet_d2l_bn_",
                     model_name="googlenet_d2l_bn", **kwargs)


def googlenet(num_classes=1000, in_channels=3, aux_logits=False, k3=5, dropout=0.4,  # noqa: PLR0913
              input_size=224, aux_pool="fixed", transform_input=False, dropout_aux=0.7, **kwargs):
    """The paper's GoogLeNet with BN after every conv (as torchvision and GluonCV), no LRN.

    The paper's table: 5x5 third branches, 3x3/2 ceil-mode max-pools.
    ``k3``: the third branch's kernel (``Inception``'s ``k3``); 3 is the torchvision / GluonCV net
    (same function as theirs given the same weights): 3x3 third branches, a 2x2/2 pool before 5a.
    aux_logits: the two auxiliary classifiers after 4a and 4d (1x1 conv 128, FC 1024,
    dropout ``dropout_aux``), pooling 5x5/3 as the paper and GluonCV (``aux_pool='fixed'``) or to 4x4 bins
    as torchvision (``'adaptive'``); in training mode the net then returns TrainOutputs(main, aux).
    transform_input: torchvision's per-channel input transform (its published weights use it).
    """
    if aux_pool not in ("fixed", "adaptive"):
        raise ValueError(f"aux_pool must be 'fixed' or 'adaptive', got {aux_pool!r}")
    aux_head = AuxHeadSpec(pool=AdaptiveAvgPool(4) if aux_pool == "adaptive" else AvgPool(5, 3),
                           dropout=dropout_aux)
    return GoogLeNet(num_classes, in_channels, paper_stages(k3), batch_norm=True,
                     dropout=dropout, aux_logits=aux_logits, input_size=input_size,
                     prefix="googlenet_", model_name="googlenet", aux_head=aux_head,
                     input_transform=TORCHVISION_TRANSFORM if transform_input else None, **kwargs)


def googlenet_bn(num_classes=1000, in_channels=3, dropout=0.4, **kwargs):
    """Inception v1 as "深度学习笔记35_Inception v1算法实战与解析" (deep-learning notes 35: Inception v1
    in practice, a write-up of K同学啊's "365-day deep-learning camp", n.d.) builds it, in PyTorch,
    for a two-class image folder: stem convs without BN, Inception convs with bias
    and BN, global average pooling, dropout 0.4, Dense 1024 + ReLU, Dense num_classes (its layer
    summary's count at 4 classes is checked in the tests).
    """
    return GoogLeNet(num_classes, in_channels, bn_article_stages(), batch_norm=True, dropout=dropout,
                     hidden=(1024,), prefix="googlenet_bn_", model_name="googlenet_bn", **kwargs)
