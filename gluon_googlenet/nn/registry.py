"""The one model registry: ``register_model``, ``build_model``, ``get_spec``, ``list_models``.

The built-in models are a table of data here, so names, input sizes and descriptions are known
without importing MXNet (the command line answers at once); a factory's module is imported
when the model is first built. ``register_model`` adds a model of your own. Published weights
are the weights layer's business: ``gluon_googlenet.get_model(name, pretrained=...)``.
"""
import fnmatch
import importlib
from collections import namedtuple

from ..base.errors import ConfigError


class ModelSpec(namedtuple("ModelSpec", "name target input_size num_classes description num_params "
                                         "mult_adds min_size", defaults=(None, None, None))):
    """A registered model: its factory (a callable, or 'module:function' in this package),
    default input (C, H, W), class count, a one-line description, and its facts at the default
    input and classes: trainable parameters (BN running statistics excluded), multiply-adds of
    one forward pass (as torchinfo counts them), and the smallest input side it can be built
    for (``input_size=``). tests/nn/test_registry.py checks the facts against the built nets."""
    __slots__ = ()

    @property
    def factory(self):
        """The callable that builds the model (``target``, imported when it is 'module:function')."""
        if callable(self.target):
            return self.target
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module, __package__), function)


# Where each parameter count comes from is noted above its entry.
BUILTIN = (
    # d2l's net
    ModelSpec("googlenet_d2l", ".googlenet:googlenet_d2l", (1, 96, 96), 10,
              "d2l GoogLeNet: b1..b5 + Dense, no BN, for Fashion-MNIST at 96x96",
              num_params=5_977_530, mult_adds=276_066_304, min_size=1),
    # d2l's net with BN after every conv (the chapter's exercise 1), counted here
    ModelSpec("googlenet_d2l_bn", ".googlenet:googlenet_d2l_bn", (1, 96, 96), 10,
              "d2l GoogLeNet with BN after every conv (d2l 7.4 exercise 1), for Fashion-MNIST",
              num_params=5_984_810, mult_adds=276_066_304, min_size=1),
    # paper table with 5x5 and BN; k3=3: GluonCV's count (tested)
    ModelSpec("googlenet", ".googlenet:googlenet", (3, 224, 224), 1000,
              "paper GoogLeNet (BN convs, 5x5 branch, ceil-mode pools), dropout 0.4, optional aux heads",
              num_params=7_005_832, mult_adds=1_582_671_872, min_size=47),
    # googlenet_bn's source (googlenet.py) at 1000 classes; 7,041,172 at 4, its count (tested)
    ModelSpec("googlenet_bn", ".googlenet:googlenet_bn", (3, 224, 224), 1000,
              "Inception v1 with BN in every Inception conv, 1024-1024-classes head",
              num_params=8_062_072, mult_adds=1_583_720_448, min_size=1),
    # BN-Inception table, counted here
    ModelSpec("inception_bn", ".inception:inception_bn", (3, 224, 224), 1000,
              "Inception v2 / BN-Inception: BN, two 3x3 for 5x5, 224x224",
              num_params=11_285_224, mult_adds=2_032_600_064, min_size=1),
    # GluonCV's inceptionv3 (tested live)
    ModelSpec("inception_v3", ".inception:inception_v3", (3, 299, 299), 1000,
              "Inception v3: factorised 1xn/nx1 convs, 299x299 (no aux head)",
              num_params=23_834_568, mult_adds=5_713_216_096, min_size=75),
    # timm's inception_v4
    ModelSpec("inception_v4", ".inception:inception_v4", (3, 299, 299), 1000,
              "Inception v4: stem, 4xA, reduction A, 7xB, reduction B, 3xC, 299x299",
              num_params=42_679_816, mult_adds=12_253_974_624, min_size=75),
    # paper figures, counted here
    ModelSpec("inception_resnet_v1", ".inception_resnet:inception_resnet_v1", (3, 299, 299), 1000,
              "Inception-ResNet v1 (paper figures), residual scaling, 299x299",
              num_params=22_756_328, mult_adds=6_206_361_696, min_size=75),
    # timm's inception_resnet_v2
    ModelSpec("inception_resnet_v2", ".inception_resnet:inception_resnet_v2", (3, 299, 299), 1000,
              "Inception-ResNet v2 as timm: 10xA, 20xB, 10xC, 299x299",
              num_params=55_843_464, mult_adds=13_155_794_016, min_size=75),
    # the course of mnist.py: 260 + 19,104 + 44,020 + 19,824 + 14,090
    ModelSpec("mnist_inception", ".mnist:mnist_inception", (1, 28, 28), 10,
              "Liu's PyTorch course: small Inception net for 28x28 MNIST (Dense 1408->10)",
              num_params=97_298, mult_adds=6_019_200, min_size=16),
    # the course of mnist.py: 210 + 4,550 + 9,810
    ModelSpec("mnist_resnet", ".mnist:mnist_resnet", (1, 28, 28), 10,
              "Liu's PyTorch course: two residual blocks for 28x28 MNIST (Dense 980->10)",
              num_params=14_570, mult_adds=1_039_976, min_size=4),
)

_REGISTRY = {spec.name: spec for spec in BUILTIN}


def register_model(name, input_size, num_classes, description, min_size=1):
    """Decorator registering a factory under ``name``; a name can be registered once."""
    def decorate(factory):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered already")
        _REGISTRY[name] = ModelSpec(name, factory, tuple(input_size), num_classes, description,
                                    min_size=min_size)
        return factory
    return decorate


def list_models(pattern=None):
    """Names of the registered models, sorted; ``pattern``: only those it matches, shell-style as
    timm's ``list_models`` ('inception*', '*resnet*')."""
    return sorted(n for n in _REGISTRY if pattern is None or fnmatch.fnmatchcase(n, pattern))


def get_spec(name):
    """The ModelSpec of ``name``; ConfigError (a ValueError) listing the valid names otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(list_models())}") from None


def build_model(name, **kwargs):
    """Build registered model ``name`` with fresh (uninitialised) parameters, e.g.
    ``build_model('googlenet_d2l', num_classes=10)``; ``kwargs`` go to its factory."""
    return get_spec(name).factory(**kwargs)
