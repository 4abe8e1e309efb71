"""OpenMP thread set-up, which must happen before MXNet is imported.

MXNet 1.9.1's CPU wheel runs one OpenMP thread here unless OMP_NUM_THREADS is
set when it loads; with one thread per core it trains about 1.8x faster on
2 cores. A value the user has set is kept.
"""
import os
import sys
import warnings


def usable_cores():
    """Cores this process may run on (its CPU affinity where the OS tells it), at least 1."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


def configure_threads():
    """Set OMP_NUM_THREADS to the core count if unset and MXNet is not loaded yet.

    Returns the value in force. When MXNet was imported first (a notebook's order) the setting
    can no longer take effect: then, where it is unset and there are several cores, a warning says
    once how to get them.
    """
    if "mxnet" in sys.modules:
        cores = usable_cores()
        if "OMP_NUM_THREADS" not in os.environ and cores > 1:
            warnings.warn(f"mxnet was imported before gluon_googlenet, so MXNet runs 1 OpenMP thread of "
                          f"this machine's {cores} cores: import gluon_googlenet first, or set "
                          f"OMP_NUM_THREADS={cores} before importing mxnet", RuntimeWarning, stacklevel=3)
        return os.environ.get("OMP_NUM_THREADS")
    os.environ.setdefault("OMP_NUM_THREADS", str(usable_cores()))
    return os.environ["OMP_NUM_THREADS"]
