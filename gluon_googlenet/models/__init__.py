"""Model zoo: the registry (importable without MXNet) and the model families, loaded on use."""
import importlib

from .registry import ModelSpec, get_model, get_spec, list_models, register_model

# Names exported here that live in modules importing MXNet: loaded on first access.
_LAZY = {"AuxHeadSpec": ".base", "StagedNet": ".base", "TrainOutputs": ".base",
         "check_input_shape": ".base", "D2L_STAGES": ".googlenet", "GoogLeNet": ".googlenet",
         "googlenet": ".googlenet", "googlenet_bn": ".googlenet", "googlenet_d2l": ".googlenet"}

__all__ = ["ModelSpec", "get_model", "get_spec", "list_models", "register_model", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
