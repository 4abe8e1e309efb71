"""The one model registry: ``register_model``, ``get_model``, ``get_spec``, ``list_models``.

The built-in models are a table of data here, so names, input sizes and descriptions are known
without importing MXNet (the command line answers at once); a factory's module is imported
when the model is first built. ``register_model`` adds a model of your own.
"""
import importlib
from collections import namedtuple

from ..errors import ConfigError


class ModelSpec(namedtuple("ModelSpec", "name target input_size classes description")):
    """A registered model: its factory (a callable, or 'module:function' in this package),
    default input (C, H, W), class count and a one-line description."""
    __slots__ = ()

    @property
    def factory(self):
        if callable(self.target):
            return self.target
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module, __package__), function)


BUILTIN = (
    ModelSpec("googlenet_d2l", ".googlenet:googlenet_d2l", (1, 96, 96), 10,
              "d2l GoogLeNet: b1..b5 + Dense, no BN, for Fashion-MNIST at 96x96"),
    ModelSpec("googlenet", ".googlenet:googlenet", (3, 224, 224), 1000,
              "paper GoogLeNet (BN convs, 5x5 branch), dropout 0.4, optional aux heads"),
    ModelSpec("googlenet_bn", ".googlenet:googlenet_bn", (3, 224, 224), 1000,
              "Inception v1 with BN in every Inception conv, 1024-1024-classes head"),
    ModelSpec("inception_bn", ".inception:inception_bn", (3, 224, 224), 1000,
              "Inception v2 / BN-Inception: BN, two 3x3 for 5x5, 224x224"),
    ModelSpec("inception_v3", ".inception:inception_v3", (3, 299, 299), 1000,
              "Inception v3: factorised 1xn/nx1 convs, 299x299 (no aux head)"),
    ModelSpec("inception_v4", ".inception:inception_v4", (3, 299, 299), 1000,
              "Inception v4: stem, 4xA, reduction A, 7xB, reduction B, 3xC, 299x299"),
    ModelSpec("inception_resnet_v1", ".inception_resnet:inception_resnet_v1", (3, 299, 299), 1000,
              "Inception-ResNet v1 (paper figures), residual scaling, 299x299"),
    ModelSpec("inception_resnet_v2", ".inception_resnet:inception_resnet_v2", (3, 299, 299), 1000,
              "Inception-ResNet v2 as timm: 10xA, 20xB, 10xC, 299x299"),
    ModelSpec("mnist_inception", ".mnist:mnist_inception", (1, 28, 28), 10,
              "article 004: small Inception net for 28x28 MNIST (Dense 1408->10)"),
    ModelSpec("mnist_resnet", ".mnist:mnist_resnet", (1, 28, 28), 10,
              "article 004: two residual blocks for 28x28 MNIST (Dense 980->10)"),
)

_REGISTRY = {spec.name: spec for spec in BUILTIN}


def register_model(name, input_size, classes, description):
    """Decorator registering a factory under ``name``; a name can be registered once."""
    def decorate(factory):
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} is registered already")
        _REGISTRY[name] = ModelSpec(name, factory, tuple(input_size), classes, description)
        return factory
    return decorate


def list_models():
    """Names of all registered models, sorted."""
    return sorted(_REGISTRY)


def get_spec(name):
    """The ModelSpec of ``name``; ConfigError (a ValueError) listing the valid names otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; choose one of: {', '.join(list_models())}") from None


def get_model(name, **kwargs):
    """Build a registered model, e.g. ``get_model('googlenet_d2l', classes=10)``."""
    return get_spec(name).factory(**kwargs)
