"""The one model registry: ``register_model``, ``get_model``, ``list_models``."""
from collections import namedtuple

from ..errors import ConfigError

ModelSpec = namedtuple("ModelSpec", "name factory input_size classes description")
ModelSpec.__doc__ = """A registered model: its factory, default input (C, H, W) and class count."""

_REGISTRY = {}


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
