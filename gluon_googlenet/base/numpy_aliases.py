"""The numpy names MXNet 1.9.1 reads that later numpy releases removed, put back before MXNet loads.

Only a name numpy lacks is set, so nothing of numpy changes for numpy 1.23 (Python 3.9-3.11); numpy
1.26 (Python 3.12) lacks the first two; numpy 2 (Python 3.13) all but ``bool``. MXNet reads each in
one place, at ``import mxnet`` unless said otherwise:

- ``bool``, ``int`` (numpy 1.24): ``mxnet/numpy/utils.py`` (``bool = onp.bool``), and at call time
  boolean indexing in ``mxnet/numpy/multiarray.py``; ``int`` in ``mxnet/test_utils.py``.
- ``PZERO``, ``NZERO``, ``PINF``, ``NINF``, ``NAN``, ``NaN`` (numpy 2): constants copied by
  ``mxnet/numpy/utils.py``; ``Inf``: ``mxnet/gluon/contrib/estimator/event_handler.py``.
- ``alltrue``, ``sometrue``, ``round_``, ``product`` (numpy 2): the functions
  ``mxnet/numpy_dispatch_protocol.py`` registers for the array-function protocol (``alltrue`` also
  in ``mxnet/numpy/fallback.py``); numpy's own all, any, round and prod, which they aliased.
- ``msort`` (numpy 2) and ``mirr``, ``npv``, ``pmt``, ``ppmt``, ``pv``, ``rate`` (numpy 1.20, now in
  numpy_financial): names ``mxnet/numpy/fallback.py`` lists and never calls; each is a function
  that raises a one-line error if it ever is.

``standalone_lines()`` is the same in plain Python, for a process that loads an export with MXNet
alone (``weights.export.usage_lines`` prints it).
"""
import builtins
import math

ALIASES = ("bool", "int")  # numpy>=1.24: the builtins these aliased
ALIASES_MISSING = []  # the names this numpy lacked before restore() set them

# What each name stands for, as Python source over ``numpy`` and ``math``: what restore() sets and
# what standalone_lines() writes.
STANDS_FOR = {"bool": "bool", "int": "int", "PZERO": "0.0", "NZERO": "-0.0", "PINF": "math.inf",
              "NINF": "-math.inf", "NAN": "math.nan", "NaN": "math.nan", "Inf": "math.inf",
              "alltrue": "numpy.all", "sometrue": "numpy.any", "round_": "numpy.round", "product": "numpy.prod"}
# Names MXNet only lists, with where they went: restore() sets a function that says so if called,
# standalone_lines() None.
LISTED_ONLY = {"msort": "numpy 2.0: numpy.sort(a, axis=0)", **{
    name: "numpy 1.20: numpy_financial has it" for name in ("mirr", "npv", "pmt", "ppmt", "pv", "rate")}}


def _removed(name, where):
    def removed(*args, **kwargs):
        raise NotImplementedError(f"numpy.{name} was removed from numpy ({where}); MXNet 1.9.1 only lists "
                                  "it in mxnet/numpy/fallback.py")
    removed.__name__ = name
    return removed


def _replacements(numpy):
    """{name: what it stands for} of every name restore() may set."""
    scope = {"numpy": numpy, "math": math, "bool": builtins.bool, "int": builtins.int}
    names = {name: eval(source, scope) for name, source in STANDS_FOR.items()}  # noqa: S307  (our own table)
    names.update({name: _removed(name, where) for name, where in LISTED_ONLY.items()})
    return names


def standalone_lines(names):
    """Python lines that give numpy back ``names`` (of STANDS_FOR and LISTED_ONLY) without this
    package: the first line of a plain MXNet script that loads an export, where numpy lacks them."""
    pairs = ", ".join(f'"{name}": {STANDS_FOR.get(name, "None")}' for name in names)
    return ["import math, numpy  # before MXNet: numpy lacks names MXNet 1.9.1 reads",
            f"for name, value in {{{pairs}}}.items(): setattr(numpy, name, value)"]


def restore():
    """Give numpy back the names MXNet 1.9.1 reads that it lacks; returns the names set (none on
    numpy<1.24)."""
    import warnings
    try:
        import numpy
    except ImportError:  # numpy missing: the command line names it when a verb needs it
        return []
    missing = []
    with warnings.catch_warnings():  # numpy<1.24 still has bool/int (DeprecationWarning); 1.26 warns on asking
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        for name, value in _replacements(numpy).items():
            try:
                getattr(numpy, name)
            except AttributeError:  # numpy 2 raises AttributeError naming the removal
                setattr(numpy, name, value)
                missing.append(name)
    ALIASES_MISSING.extend(name for name in missing if name not in ALIASES_MISSING)
    return missing
