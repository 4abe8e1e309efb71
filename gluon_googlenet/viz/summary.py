"""Per-stage output shapes and a layer summary (output shape and parameters per layer)."""
from collections import namedtuple

import mxnet as mx
import numpy as np

from ..base.gluon_internals import child_blocks, initialize_if_needed, owns_parameters, run_with_hooks

Row = namedtuple("Row", "name kind depth output_shape params mult_adds")
Row.__doc__ = ("One summary line: dotted path, block class, nesting depth, output shape, "
               "parameters and multiply-adds of the subtree.")
Summary = namedtuple("Summary", "rows total_params trainable_params input_shape mult_adds")


def stage_shapes(net, input_shape, ctx=None):
    """Run a zero input through ``net.stages()`` one stage at a time; return [(name, shape)]."""
    ctx = ctx or mx.cpu()
    initialize_if_needed(net, ctx)
    x = mx.nd.zeros(input_shape, ctx=ctx)
    net(x)  # checks the input shape and completes any deferred initialisation
    shapes = []
    for name, block in net.stages():
        x = block(x)
        shapes.append((name, x.shape))
    return shapes


def count_params(block, trainable_only=True):
    """Number of scalar parameters under ``block`` (trainable only: BN running stats excluded)."""
    return sum(int(np.prod(p.shape)) for p in block.collect_params().values()
               if not trainable_only or p.grad_req != "null")


def _walk(block, path, depth):
    """Pre-order walk; a block that owns parameters (Conv2D, Dense, ...) is a leaf."""
    yield path, block, depth
    if owns_parameters(block):
        return
    for child_name, child in child_blocks(block):
        yield from _walk(child, f"{path}.{child_name}" if path else child_name, depth + 1)


def _leaf_mult_adds(block, in_shape, out_shape):
    """Multiply-adds of one parameterised layer for one forward pass, as torchinfo counts them:
    a convolution's kernel volume times its output elements, a Dense layer's weight size
    times the batch; other layers (BN, pooling, activations) count 0."""
    from mxnet.gluon import nn
    if out_shape is None or not isinstance(block, (nn.Conv2D, nn.Dense)):
        return 0
    weight = block.weight.shape
    if isinstance(block, nn.Dense):
        return int(np.prod(weight)) * out_shape[0]
    per_output = int(np.prod(weight[1:]))  # in_channels / groups x kernel area
    return per_output * int(np.prod(out_shape))


def layer_summary(net, input_shape, ctx=None, max_depth=None):
    """Summary of every block down to ``max_depth`` (None: all), from one imperative pass.

    Parameters and multiply-adds of a row count its whole subtree; totals count each once.
    A hybridized net is run imperatively for the pass and hybridized again after.
    """
    ctx = ctx or mx.cpu()
    initialize_if_needed(net, ctx)
    shapes, in_shapes = {}, {}
    blocks = [(p, b, d) for p, b, d in _walk(net, "", 0) if p]

    def hook_for(path):
        def hook(_block, inputs, output):
            shapes[path] = tuple(output.shape) if hasattr(output, "shape") else \
                tuple(tuple(o.shape) for o in output)
            in_shapes[path] = tuple(inputs[0].shape)
        return hook
    run_with_hooks(net, mx.nd.zeros(input_shape, ctx=ctx), [(block, hook_for(path)) for path, block, _ in blocks])
    leaf_macs = {path: _leaf_mult_adds(block, in_shapes.get(path), shapes.get(path))
                 for path, block, _ in blocks}
    rows = [Row(path, type(block).__name__, depth - 1, shapes.get(path), count_params(block),
                sum(m for p, m in leaf_macs.items() if p == path or p.startswith(path + ".")))
            for path, block, depth in blocks if max_depth is None or depth - 1 <= max_depth]
    return Summary(rows, count_params(net, trainable_only=False), count_params(net),
                   tuple(input_shape), sum(leaf_macs.values()))


def format_summary(summary):
    """The summary as a text table with totals, in the spirit of torchinfo."""
    lines = [f"{'Layer (type)':<48} {'Output shape':<22} {'Param #':>12} {'Mult-adds':>15}", "=" * 100]
    for row in summary.rows:
        label = "  " * row.depth + f"{row.name.rsplit('.', 1)[-1]} ({row.kind})"
        shape = "--" if row.output_shape is None else str(row.output_shape)
        lines.append(f"{label:<48} {shape:<22} {row.params:>12,} {row.mult_adds:>15,}")
    lines += ["=" * 100,
              f"Input shape: {summary.input_shape}",
              f"Total params: {summary.total_params:,}",
              f"Trainable params: {summary.trainable_params:,}",
              f"Non-trainable params: {summary.total_params - summary.trainable_params:,}",
              f"Total mult-adds (G): {summary.mult_adds / 1e9:.3f}"]
    return "\n".join(lines)
