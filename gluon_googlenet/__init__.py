"""gluon_googlenet: GoogLeNet (Inception v1) and its family as MXNet Gluon HybridBlocks.

Importing this package sets OMP_NUM_THREADS to the core count (unless already set) before
MXNet loads, so MXNet's CPU build uses every core. MXNet itself is imported only when a
name that needs it is first used (``Inception``, ``GoogLeNet``, ``get_model(...)``), so the
command line answers ``--help`` at once.
"""
import importlib

from ._threads import configure_threads

configure_threads()

from .errors import GluonGoogLeNetError  # noqa: E402
from .models.registry import get_model, get_spec, list_models, register_model  # noqa: E402

__version__ = "0.1.0"

# Names that live in modules importing MXNet: loaded on first access.
_LAZY = {"Inception": ".blocks", "conv_relu": ".blocks", "GoogLeNet": ".models"}

__all__ = ["Inception", "GoogLeNet", "conv_relu", "get_model", "get_spec", "list_models",
           "register_model", "GluonGoogLeNetError", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
