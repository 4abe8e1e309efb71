"""Model zoo: every family registers its factories here on import."""
from .registry import ModelSpec, get_model, get_spec, list_models, register_model
from .base import AuxHeadSpec, StagedNet, TrainOutputs, check_input_shape
from .googlenet import D2L_STAGES, GoogLeNet, googlenet, googlenet_bn, googlenet_d2l

__all__ = ["ModelSpec", "get_model", "get_spec", "list_models", "register_model", "AuxHeadSpec",
           "StagedNet", "TrainOutputs", "check_input_shape", "D2L_STAGES", "GoogLeNet",
           "googlenet", "googlenet_bn", "googlenet_d2l"]
from . import inception, inception_resnet, mnist  # noqa: E402,F401  (registers the families)
