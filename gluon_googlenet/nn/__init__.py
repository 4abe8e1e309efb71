"""The networks: building blocks, the layer vocabulary, the model families and their registry.

``registry`` needs no MXNet; the other modules load on first use of a name.
"""
import importlib

from .registry import ModelSpec, build_model, get_spec, list_models, register_model

# Names that live in modules importing MXNet: loaded on first access.
_LAZY = {"Inception": ".blocks", "conv_relu": ".blocks",
         "AuxHeadSpec": ".staged", "FeatureInfo": ".staged", "NetSpec": ".staged", "StagedNet": ".staged",
         "TrainOutputs": ".staged", "check_input_shape": ".backbone", "FeatureNet": ".backbone",
         "D2L_STAGES": ".googlenet", "GoogLeNet": ".googlenet", "googlenet": ".googlenet",
         "googlenet_bn": ".googlenet", "googlenet_d2l": ".googlenet"}

__all__ = ["ModelSpec", "build_model", "get_spec", "list_models", "register_model", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
