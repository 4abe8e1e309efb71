"""Model zoo: every family registers its factories here on import."""
from .registry import ModelSpec, get_model, get_spec, list_models, register_model
from .base import ImageClassifier, check_input_shape
from .googlenet import D2L_STAGES, GoogLeNet, googlenet_d2l

__all__ = ["ModelSpec", "get_model", "get_spec", "list_models", "register_model",
           "ImageClassifier", "check_input_shape", "D2L_STAGES", "GoogLeNet", "googlenet_d2l"]
