"""What this package needs from Gluon blocks beyond MXNet 1.9's public API, in one place.

MXNet 1.x offers no public accessor for a block's children, its hybridization state or a
layer's kernel; these helpers read the private attributes, and ``tests/base/test_gluon_internals.py``
fails loudly if an MXNet release changes them. Everything else here uses public calls.
"""
from contextlib import contextmanager, nullcontext

from .errors import CheckpointError


def child_blocks(block):
    """(name, child) pairs of ``block``'s registered children, in registration order."""
    return list(block._children.items())


def structural_params(net):
    """{dotted path in ``net``: parameter} ('b4.0.p2.0.weight' for a conv in 4a), the names
    ``save_parameters`` writes."""
    return dict(net._collect_params_with_prefix().items())


def first_value(param):
    """``param``'s value on the first context it lives on (its copies on others are equal)."""
    return param.data(param.list_ctx()[0])


def structural_names(net):
    """{parameter's full name: its dotted path in ``net``}."""
    return {param.name: path for path, param in structural_params(net).items()}


def is_hybridized(block):
    """True once ``block.hybridize()`` is in effect."""
    return bool(block._active)


def clear_cached_graph(block):
    """Drop ``block``'s cached graph: its next call traces ``hybrid_forward`` again."""
    block._clear_cached_op()


def layer_kernel(block):
    """Kernel size tuple of a Conv2D or pooling layer."""
    return tuple(block._kwargs["kernel"])


def conv_geometry(block):
    """(kernel, stride, pad, dilate) tuples and the group count of a Conv2D."""
    settings = block._kwargs
    return (layer_kernel(block), tuple(settings["stride"]), tuple(settings["pad"]), tuple(settings["dilate"]),
            settings["num_group"])


def freeze(block):
    """Keep ``block`` fixed while training: no gradients for its parameters, and its BatchNorm
    layers normalise with (and keep) their running statistics. Call before hybridize()."""
    from mxnet.gluon import nn
    for param in block.collect_params().values():
        param.grad_req = "null"
    if isinstance(block, nn.BatchNorm):
        block._kwargs["use_global_stats"] = True
    for _, child in child_blocks(block):
        freeze(child)


def owns_parameters(block):
    """True for a layer holding parameters of its own (Conv2D, Dense, BatchNorm, ...)."""
    return len(list(block.params.keys())) > 0


def initialize_if_needed(net, ctx):
    """``net.initialize(ctx=ctx)`` unless some initialisation (perhaps deferred) was asked for."""
    for param in net.collect_params().values():
        try:
            param.list_ctx()  # raises RuntimeError only if initialize() was never called
        except RuntimeError:
            net.initialize(ctx=ctx)
            return


@contextmanager
def imperative(net):
    """Run ``net`` imperatively inside the block (so forward hooks see every layer), then
    restore its hybridization."""
    was_hybridized = is_hybridized(net)
    net.hybridize(False)
    try:
        yield net
    finally:
        if was_hybridized:
            net.hybridize()


def general_graph(net):
    """A context in which ``net`` runs its graph for any input side: StagedNet.general_graph (no
    small-map trimming), nothing for other blocks."""
    return net.general_graph() if hasattr(net, "general_graph") else nullcontext()


def run_with_hooks(net, x, hooks):
    """One imperative forward pass of ``x`` with ``hooks`` ((block, hook(block, inputs, output))
    pairs) attached for the pass only, every layer of the net run (``general_graph``); returns the
    output."""
    with imperative(net), general_graph(net):
        handles = [block.register_forward_hook(hook) for block, hook in hooks]
        try:
            return net(x)
        finally:
            for handle in handles:
                handle.detach()


def load_structural(net, arrays, ctx, source="checkpoint"):
    """Set ``net``'s parameters from ``arrays`` ({dotted path: NDArray}, the names
    ``save_parameters`` writes) on ``ctx``, as ``load_parameters`` does, but from memory: no
    file is written. CheckpointError, one line naming ``source`` (a file), for a parameter
    missing from ``arrays`` or not in ``net``, or a shape that differs."""
    from mxnet.base import MXNetError
    params = structural_params(net)
    missing = [name for name in params if name not in arrays]
    extra = [name for name in arrays if name not in params]
    problem = (f"parameter {missing[0]!r} is missing" if missing else
               f"it has parameter {extra[0]!r}, which this model has not" if extra else None)
    try:
        for name, value in ({} if problem else arrays).items():
            params[name]._load_init(value, ctx)
    except (AssertionError, ValueError, MXNetError) as err:
        problem = str(err).split("\n")[0][:200]
    if problem:
        raise CheckpointError(f"{source} does not fit this model: {problem}")


@contextmanager
def tolerant_calibration():
    """While active, MXNet's INT8 calibration collectors (mxnet.contrib.quantization's min/max and
    histogram ones) skip a layer output they cannot read (MXNet 1.9.1 cannot read some oneDNN-layout
    views, a final FullyConnected's output among them) instead of raising inside MXNet's monitor
    callback, where the error is printed, ignored and the layer left without its range. Whether
    every quantised layer still got its range is ``calibration_counts``'s to say."""
    from mxnet.base import MXNetError
    from mxnet.contrib import quantization
    classes = quantization._LayerOutputMinMaxCollector, quantization._LayerHistogramCollector
    originals = [cls.collect for cls in classes]

    def skipping_unreadable(collect):
        def call(self, name, arr):
            try:
                collect(self, name, arr)
            except MXNetError:
                pass
        return call
    for cls, collect in zip(classes, originals):
        cls.collect = skipping_unreadable(collect)
    try:
        yield
    finally:
        for cls, collect in zip(classes, originals):
            cls.collect = collect


def calibration_counts(block):
    """(quantised layers that carry their calibrated range, quantised layers that need one) in a
    quantised SymbolBlock's graph; a layer with float output (``enable_float_output``) needs none."""
    import json
    nodes = json.loads(block._cached_graph[1].tojson())["nodes"]
    needed = [n.get("attrs", {}) for n in nodes
              if (n["op"] == "_contrib_quantize_v2" or str(n.get("attrs", {}).get("quantized")).lower() == "true")
              and str(n.get("attrs", {}).get("enable_float_output")).lower() != "true"]
    return sum("min_calib_range" in attrs for attrs in needed), len(needed)


@contextmanager
def inference_in_training_mode(net):
    """While active, ``net`` runs imperatively and computes its inference function even while
    autograd records in training mode: BatchNorm normalises with its running statistics (and
    keeps them), dropout passes inputs through. Gradients with respect to activations must be
    taken in training mode: MXNet 1.9.1's oneDNN max-pooling backward is wrong after an
    inference-mode forward (it disagrees with finite differences, which tests/viz/test_gradcam.py checks)."""
    from mxnet.gluon import nn
    saved = []

    def visit(block):
        if isinstance(block, nn.BatchNorm):
            saved.append((block._kwargs, "use_global_stats", block._kwargs["use_global_stats"]))
            block._kwargs["use_global_stats"] = True
        elif isinstance(block, nn.Dropout):
            saved.append((block.__dict__, "_rate", block._rate))
            block._rate = 0.0
        for _, child in child_blocks(block):
            visit(child)
    visit(net)
    try:
        with imperative(net):
            yield net
    finally:
        for store, key, value in saved:
            store[key] = value
