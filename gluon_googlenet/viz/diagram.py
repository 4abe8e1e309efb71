"""Network diagrams with MXNet's ``mx.viz.plot_network`` (Graphviz): stage level or expanded."""
import os

import mxnet as mx

from ..base.errors import DependencyError, OutputDirError
from ..base.fileio import ensure_writable_dir, write_bytes
from .summary import layer_summary


def _describe(layers):
    """'2 x Inception, MaxPool 3/2' for a stage's table entries."""
    names = []
    for layer in layers:
        name = type(layer).__name__.removesuffix("Spec")
        if name == "Level":  # a feature level's mark, not a layer
            continue
        if name in ("Conv", "MaxPool", "AvgPool"):
            k = getattr(layer, "kernel", None) or layer.size
            s = layer.stride
            name = f"{name} {k if isinstance(k, int) else 'x'.join(map(str, k))}/{s if isinstance(s, int) else s[0]}"
        if name == "AuxTap":
            name = "(aux head)"
        if names and names[-1][1] == name:
            names[-1][0] += 1
        else:
            names.append([1, name])
    return ", ".join(f"{n} x {name}" if n > 1 else name for n, name in names)


def stage_symbol(net, input_shape):
    """A chain symbol with one node per stage, labelled with its layers, output shape and size."""
    summary = {row.name: row for row in layer_summary(net, input_shape, max_depth=0).rows}
    tables = dict(getattr(net, "stage_table", ()))
    x = mx.sym.var("data")
    for name, _ in net.stages():
        row = summary[name]
        layers = tables.get(name)
        what = _describe(layers) if layers else "Dense"
        shape = " x ".join(map(str, row.output_shape[1:]))
        # no ":" in the name: Graphviz would read it as a node port
        x = mx.sym.identity(x, name=f"{name}\n{what}\n{shape}\n{row.params:,} params")
    return x


def draw_network(net, input_shape, path, expanded=False, title=None):
    """Write ``path`` (.svg, .png or .pdf) showing ``net`` by stage, or every op when expanded."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise OutputDirError(f"diagram file {path} must end in .svg, .png or .pdf")
    if expanded:
        symbol = net(mx.sym.var("data"))
        graph = mx.viz.plot_network(symbol, title=title or "network", shape={"data": input_shape},
                                    node_attrs={"fontsize": "10"})
    else:
        graph = mx.viz.plot_network(stage_symbol(net, input_shape), title=title or "stages",
                                    node_attrs={"shape": "box", "fixedsize": "false", "fontsize": "11"})
    try:
        data = graph.pipe(format=fmt)
    except Exception as err:  # graphviz raises its own ExecutableNotFound / RuntimeError types
        if "ExecutableNotFound" in type(err).__name__ or "dot" in str(err) and "PATH" in str(err):
            raise DependencyError("drawing needs Graphviz's 'dot' program: apt-get install graphviz") from None
        raise
    ensure_writable_dir(os.path.dirname(os.path.abspath(path)))
    write_bytes(path, data)
    return path
