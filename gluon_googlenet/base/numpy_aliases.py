"""NumPy's removed type aliases that MXNet 1.9.1 still uses, restored before MXNet is imported.

NumPy 1.24 removed ``np.bool`` and ``np.int`` (aliases of the builtins, deprecated since 1.20);
Python 3.12 has no wheel of numpy<1.24. MXNet 1.9.1 uses them in these lines:

- ``np.bool``: ``mxnet/numpy/utils.py:37`` (``bool = onp.bool``, run by ``import mxnet``), and
  boolean indexing and ``*_like`` defaults in ``mxnet/numpy/multiarray.py`` (150, 591, 719, 725),
  ``mxnet/ndarray/numpy/_op.py:377``, ``mxnet/symbol/numpy/_symbol.py:1260``;
- ``np.int``: ``mxnet/test_utils.py:2319`` (``mx.test_utils``' random-distribution checks).

``restore()`` sets each to the builtin it aliased, only where numpy lacks it; nothing else of
numpy is touched, and on numpy<1.24 it does nothing. (Python 3.12 also lacks ``distutils``, which MXNet
imports in ``numpy_dispatch_protocol.py`` and ``numpy_op_fallback.py``: setuptools' copy stands in,
a dependency of this package there.)
"""
import builtins
import warnings

ALIASES = ("bool", "int")
ALIASES_MISSING = []  # the ALIASES this numpy lacked before restore() set them


def restore():
    """Give numpy back the ALIASES it lacks; returns the names set (none on numpy<1.24)."""
    try:
        import numpy
    except ImportError:  # numpy missing: the command line names it when a verb needs it
        return []
    with warnings.catch_warnings():  # numpy<1.24 still has them (DeprecationWarning); 1.26 warns on asking
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        missing = [name for name in ALIASES if not hasattr(numpy, name)]
    for name in missing:
        setattr(numpy, name, getattr(builtins, name))
    ALIASES_MISSING.extend(name for name in missing if name not in ALIASES_MISSING)
    return missing
