"""Device selection: ``parse_ctx('cpu' | 'gpu' | 'gpu:0,1' | 'cpu:0,1')``."""
import mxnet as mx

from .errors import ContextError


def parse_ctx(spec="cpu", gpus=None):
    """Return a list of MXNet contexts for ``spec``, checking GPUs exist before first use.

    'cpu' -> [cpu(0)]; 'gpu' -> [gpu(0)]; 'gpu:0,1' -> [gpu(0), gpu(1)];
    'cpu:0,1' -> two CPU contexts (data-parallel code paths, tested on CPU).
    ``gpus``: the number of GPUs to check against (None: as many as MXNet sees).
    """
    text = (spec or "cpu").strip().lower()
    kind, _, ids = text.partition(":")
    if kind not in ("cpu", "gpu"):
        raise ContextError(f"unknown context {spec!r}; use cpu, gpu, gpu:0,1 or cpu:0,1")
    try:
        indices = [int(i) for i in ids.split(",")] if ids else [0]
    except ValueError:
        raise ContextError(f"bad device list in {spec!r}; write e.g. gpu:0,1") from None
    if any(i < 0 for i in indices) or len(set(indices)) != len(indices):
        raise ContextError(f"device indices in {spec!r} must be distinct and >= 0")
    if kind == "cpu":
        return [mx.cpu(i) for i in indices]
    available = mx.context.num_gpus() if gpus is None else gpus
    if available == 0:
        raise ContextError(
            f"--ctx {spec} asks for a GPU but MXNet sees none (CPU build or no CUDA device); "
            "install a CUDA build (MXNET_PACKAGE=mxnet-cu117 bash scripts/setup.sh) or use --ctx cpu")
    missing = [i for i in indices if i >= available]
    if missing:
        raise ContextError(f"--ctx {spec}: GPU {missing[0]} does not exist; MXNet sees {available} GPU(s)")
    return [mx.gpu(i) for i in indices]
