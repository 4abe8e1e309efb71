"""gluon_googlenet: GoogLeNet (Inception v1) and its family as MXNet Gluon HybridBlocks.

Importing this package before MXNet sets OMP_NUM_THREADS to the core count
(unless already set), so MXNet's CPU build uses every core.
"""
from ._threads import configure_threads

configure_threads()

from .blocks import Inception  # noqa: E402
from .layers import conv_relu  # noqa: E402
from .errors import GluonGoogLeNetError  # noqa: E402
from .models import GoogLeNet, get_model, get_spec, list_models, register_model  # noqa: E402

__version__ = "0.1.0"
__all__ = ["Inception", "GoogLeNet", "conv_relu", "get_model", "get_spec", "list_models",
           "register_model", "GluonGoogLeNetError", "__version__"]
