"""OpenMP thread set-up, which must happen before MXNet is imported.

MXNet 1.9.1's CPU wheel runs one OpenMP thread unless OMP_NUM_THREADS is set
when it loads; with one thread per core it trains faster on every machine
measured (docs/speed.md). A value the user has set is kept.

MXNet also copies arrays of over MXNET_CPU_PARALLEL_SIZE (200,000) elements with
OpenMP in the thread that asks: ``mx.nd.array`` or ``asnumpy`` of a big array in
Python's own thread (resizing a data set, writing a checkpoint) starts a second
team of OpenMP threads. From then on libgomp counts more threads than cores and
stops spinning between parallel regions, and every later training step is slower
for the rest of the process (benchmarks/openmp_teams.py measures by how much). Unless set,
that size is raised so such copies stay a plain memcpy.
"""
import os
import sys
import warnings


def usable_cores():
    """Cores this process may run on (its CPU affinity where the OS tells it), at least 1."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


SERIAL_COPY_SIZE = str(2**31 - 1)  # elements: no array copy starts an OpenMP team


def configure_threads():
    """Set OMP_NUM_THREADS to the core count and MXNET_CPU_PARALLEL_SIZE to SERIAL_COPY_SIZE
    where unset, if MXNet is not loaded yet.

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
    os.environ.setdefault("MXNET_CPU_PARALLEL_SIZE", SERIAL_COPY_SIZE)
    return os.environ["OMP_NUM_THREADS"]
