"""gluon_googlenet: GoogLeNet (Inception v1) and its family as MXNet Gluon HybridBlocks.

Layers, each importing only those below it: ``base`` <- ``nn`` (blocks, layer vocabulary,
models, registry) <- ``weights`` (published weights, export) <- ``training`` <- ``viz`` <- ``cli``.

Importing this package gives numpy back the names MXNet 1.9.1 reads that later numpy releases removed
(base/numpy_aliases.py) and sets OMP_NUM_THREADS to the core count (unless already set) before
MXNet loads, so MXNet's CPU build uses every core. MXNet itself is imported only when a
name that needs it is first used (``Inception``, ``GoogLeNet``, ``get_model``, ``train``), so
the command line answers ``--help`` at once.
"""
import importlib

from .base.numpy_aliases import restore as _restore_numpy_aliases
from .base.threads import configure_threads

_restore_numpy_aliases()  # numpy>=1.24 (Python 3.12): the aliases MXNet 1.9.1 uses, before it loads
configure_threads()

from .base.errors import GluonGoogLeNetError  # noqa: E402
from .nn.registry import get_spec, list_models, register_model  # noqa: E402

__version__ = "0.1.0"

# Names that live in modules importing MXNet: loaded on first access.
_LAZY = {"Inception": ".nn.blocks", "conv_relu": ".nn.blocks", "GoogLeNet": ".nn.googlenet",
         "get_model": ".weights.factory", "list_pretrained": ".weights.pretrained",
         "TrainConfig": ".training.run.config", "train": ".training.trainer"}

__all__ = ["Inception", "GoogLeNet", "conv_relu", "get_model", "get_spec", "list_models", "list_pretrained",
           "register_model", "TrainConfig", "train", "GluonGoogLeNetError", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
