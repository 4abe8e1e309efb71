"""Export to ``PREFIX-symbol.json`` + ``PREFIX-NNNN.params`` and load such files back.

The files need only MXNet to load: ``gluon.SymbolBlock.imports(json, ['data'], params)``.
"""
import json
import os
import tempfile
import warnings

import mxnet as mx
import numpy as np
from mxnet.util import is_np_array

from ..base import ops
from ..base.errors import CheckpointError, ConfigError, DependencyError
from ..base.fileio import ensure_writable_dir, fsync_folder, is_write_failure, write_bytes, write_failure, write_json
from ..base.gluon_internals import first_value, general_graph
from .preprocess import Normalized


def export_model(net, prefix, input_shape, epoch=0, ctx=None, preprocess=None, *,  # noqa: PLR0913
                 normalization=None, weights=None):
    """Hybridize ``net``, run it once on zeros of ``input_shape``, export; return both paths.

    The graph's input is named ``data``; training-only outputs (aux heads) are not in it.
    ``preprocess``: True (the net's pretrained_cfg) or a (mean, std) pair puts the input
    normalisation inside the graph, which then takes RGB (or grey) in [0, 1]. Beside the two files,
    ``PREFIX-meta.json`` says what the graph takes (export_meta): ``normalization`` is the (mean, std)
    the caller must apply where it is not in the graph, ``weights`` where the weights come from.
    """
    wrapped = _with_preprocess(net, preprocess)
    in_graph = wrapped is not net
    meta = export_meta(net, input_shape, (wrapped.mean, wrapped.std) if in_graph else normalization, in_graph,
                       weights)
    net = wrapped
    folder = ensure_writable_dir(os.path.dirname(os.path.abspath(prefix)))
    ctx = ctx or mx.cpu()
    net.hybridize()
    paths = f"{prefix}-symbol.json", f"{prefix}-{epoch:04d}.params"
    size = sum(first_value(p).size * 4 for p in net.collect_params().values())
    try:  # MXNet writes both files itself: into a hidden folder beside them, then renamed
        with tempfile.TemporaryDirectory(dir=folder, prefix=".export-") as scratch:
            with general_graph(net), warnings.catch_warnings():  # aux heads are training-only: not in the graph
                warnings.filterwarnings("ignore", message=r"Parameter .* is not found in the graph")
                net((mx.np if is_np_array() else mx.nd).zeros(input_shape, ctx=ctx))
                net.export(os.path.join(scratch, "m"), epoch)
            if is_np_array():  # Gluon wrote numpy shape semantics, which plain MXNet refuses
                params_file = os.path.join(scratch, f"m-{epoch:04d}.params")
                ops.save_arrays(params_file, ops.load_arrays(params_file))
            for name, path in zip(("m-symbol.json", f"m-{epoch:04d}.params"), paths):
                os.replace(os.path.join(scratch, name), path)
            write_json(f"{prefix}-meta.json", dict(meta, files=[os.path.basename(p) for p in paths]))
            fsync_folder(folder)
    except Exception as err:
        if is_write_failure(err):
            raise write_failure(paths[1], err, size) from None
        raise
    return paths


def export_meta(net, input_shape, normalization=None, in_graph=False, weights=None):
    """What an exported graph takes and holds, as ``PREFIX-meta.json`` records it: the model, class
    names, the input (name, shape NCHW, channels, value range), the normalisation (a (mean, std)
    pair, or None) and whether the graph holds it (``in_graph``), and where the weights come from."""
    channels = input_shape[1]
    mean, std = normalization if normalization and normalization[0] is not None else (None, None)
    return {
        "model": getattr(net, "model_name", type(net).__name__),
        "class_names": list(net.class_names) if getattr(net, "class_names", None) else None,
        "input": {"name": "data", "shape": list(input_shape), "layout": "NCHW", "dtype": "float32",
                  "channels": {1: "grey", 3: "RGB"}.get(channels, f"{channels} channels"),
                  "value_range": [0.0, 1.0],
                  "to_value_range": "8-bit pixel values divided by 255"},
        "normalization": _normalization(mean, std, in_graph),
        "weights": weights or "as the caller had them (not recorded)",
        "mxnet_version": mx.__version__,
    }


def _normalization(mean, std, in_graph):
    """The meta file's account of the input normalisation: what to apply before the graph, if anything."""
    if mean is None:
        return {"mean": None, "std": None, "in_graph": False,
                "apply": "nothing: the net takes the [0, 1] values as they are"}
    return {"mean": list(mean), "std": list(std), "in_graph": in_graph,
            "apply": "nothing: the graph normalises" if in_graph else
            "(x - mean[c]) / std[c] per channel c, before the graph"}


def read_export_meta(prefix):
    """The ``PREFIX-meta.json`` of an export, or None for exports made before it existed."""
    path = f"{prefix}-meta.json"
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{path} is not a readable meta file: {err}") from None


def _with_preprocess(net, preprocess):
    """``net``, or ``net`` behind its input normalisation (Normalized) for ``preprocess``."""
    if not preprocess:
        return net
    if preprocess is True:
        cfg = getattr(net, "pretrained_cfg", None)
        if cfg is None:
            raise ConfigError(f"{getattr(net, 'model_name', 'the net')} carries no pretrained_cfg (its weights "
                              "are not published ones): pass preprocess=(mean, std)")
        preprocess = (cfg.mean, cfg.std)
    return Normalized(net, *preprocess)


def import_model(prefix, epoch=0, ctx=None):
    """Load an exported model as a ``gluon.SymbolBlock`` (what plain MXNet does), in the caller's
    array mode: in numpy mode it takes and gives numpy arrays, from the same files. ``net.meta``:
    its ``PREFIX-meta.json`` (read_export_meta), None where the export has none."""
    symbol_file, params_file = f"{prefix}-symbol.json", f"{prefix}-{epoch:04d}.params"
    for path in (symbol_file, params_file):
        if not os.path.isfile(path):
            raise CheckpointError(f"exported file {path} does not exist")
    ctx = ctx or mx.cpu()
    if not is_np_array():
        net = mx.gluon.SymbolBlock.imports(symbol_file, ["data"], params_file, ctx=ctx)
    else:
        with warnings.catch_warnings():  # no parameter file yet: MXNet warns of unknown input types
            warnings.simplefilter("ignore")
            net = mx.gluon.SymbolBlock.imports(symbol_file, ["data"], None, ctx=ctx)
        net.collect_params().load_dict({name: value.as_np_ndarray()
                                        for name, value in read_params(params_file).items()},
                                       ctx=ctx, filename=params_file)
    net.meta = read_export_meta(prefix)  # what the graph takes (None for older exports)
    return net


def read_params(path):
    """{parameter name: NDArray} of an MXNet ``.params`` file, without exports' ``arg:``/``aux:``
    prefixes; CheckpointError when it is not one."""
    try:
        saved = ops.load_arrays(path)
    except mx.base.MXNetError:
        raise CheckpointError(f"{path} is not an MXNet parameter file") from None
    return {k.split(":", 1)[1] if k[:4] in ("arg:", "aux:") else k: v for k, v in saved.items()}


def load_exported_params(net, params_file, ctx=None):
    """Load an exported ``.params`` file into a freshly built net of the same model.

    Parameters absent from the exported graph (e.g. aux heads) keep their initial values.
    Raises CheckpointError when the file belongs to another model or class count.
    """
    saved = read_params(params_file)
    params = net.collect_params()
    unknown = sorted(set(saved) - set(params.keys()))
    if unknown:
        raise CheckpointError(
            f"{params_file} was exported from another model: it has parameter {unknown[0]!r}, "
            f"which {getattr(net, 'model_name', type(net).__name__)} does not")
    for name, value in saved.items():
        if params[name].shape and tuple(params[name].shape) != value.shape and 0 not in params[name].shape:
            raise CheckpointError(
                f"{params_file} does not fit this model: {name} has shape {value.shape}, "
                f"the model expects {params[name].shape} (another class count or input channels?)")
    params.load_dict(saved, ctx=ctx or mx.cpu(), allow_missing=True, filename=params_file)


def export_onnx(net, path, input_shape, ctx=None, preprocess=None):
    """Export ``net`` to an ONNX file (through MXNet's ``mx.onnx``), checked with onnx.checker.

    The graph's one input is ``data`` with ``input_shape`` but a free batch axis (``batch``);
    the weights are initializers, not graph inputs; ``preprocess`` as export_model's. Returns
    ``path``.
    """
    try:
        import onnx
    except ImportError:
        raise DependencyError("ONNX export needs the onnx package: pip install 'gluon-googlenet[onnx]'") from None
    ensure_writable_dir(os.path.dirname(os.path.abspath(path)))
    with tempfile.TemporaryDirectory() as scratch:
        symbol_file, params_file = export_model(net, os.path.join(scratch, "model"), input_shape, 0, ctx,
                                                preprocess)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onnx_file = mx.onnx.export_model(symbol_file, params_file, [tuple(input_shape)], [np.float32],
                                             os.path.join(scratch, "model.onnx"), dynamic=True,
                                             dynamic_input_shapes=[(None,) + tuple(input_shape[1:])])
        model = onnx.load(onnx_file)
    weights = {init.name for init in model.graph.initializer}
    kept = [i for i in model.graph.input if i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    onnx.checker.check_model(model)
    write_bytes(path, model.SerializeToString())
    return path
