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

from ..base import numpy_aliases, ops
from ..base.errors import CheckpointError, ConfigError, DependencyError
from ..base.fileio import ensure_writable_dir, fsync_folder, is_write_failure, write_bytes, write_failure, write_json
from ..base.gluon_internals import first_value, general_graph
from .preprocess import FlipAveraged, Normalized

TTA_IN_GRAPH = {"flip": "the graph averages each image's logits with its left-right mirror's"}


def export_model(net, prefix, input_shape, epoch=0, ctx=None, preprocess=None, *,  # noqa: PLR0913
                 normalization=None, weights=None, tta=None):
    """Hybridize ``net``, run it once on zeros of ``input_shape``, export; return both paths.

    The graph's input is named ``data``; training-only outputs (aux heads) are not in it.
    ``preprocess``: True (the net's pretrained_cfg) or a (mean, std) pair puts the input
    normalisation inside the graph, which then takes RGB (or grey) in [0, 1]. ``tta='flip'`` puts
    the flip test-time augmentation inside it (FlipAveraged). Beside the two files,
    ``PREFIX-meta.json`` says what the graph takes (export_meta): ``normalization`` is the (mean, std)
    the caller must apply where it is not in the graph, ``weights`` where the weights come from.
    """
    if tta not in (None, *TTA_IN_GRAPH):
        raise ConfigError(f"unknown test-time augmentation {tta!r}; use one of: {', '.join(TTA_IN_GRAPH)}")
    wrapped = _with_preprocess(net, preprocess)
    in_graph = wrapped is not net
    meta = export_meta(net, input_shape, (wrapped.mean, wrapped.std) if in_graph else normalization, in_graph,
                       weights)
    meta["test_time_augmentation"] = {"name": tta, "in_graph": TTA_IN_GRAPH[tta]} if tta else None
    net = FlipAveraged(wrapped) if tta == "flip" else wrapped
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


def usage_lines(prefix, epoch=0):
    """How to use an export, for people: its files, its input, and three lines of plain MXNet."""
    meta = read_export_meta(prefix) or {}
    shape = meta.get("input", {}).get("shape")
    norm = meta.get("normalization") or {}
    takes = (f"input 'data' {'x'.join(map(str, shape))} (NCHW), {meta['input']['channels']} in [0, 1]"
             if shape else "input 'data'")
    if norm.get("mean") is not None and not norm.get("in_graph"):
        takes += f", then (x - {norm['mean']}) / {norm['std']} per channel"
    symbol_file, params_file = f"{prefix}-symbol.json", f"{prefix}-{epoch:04d}.params"
    return [f"model: {symbol_file} and {params_file} ({takes}; {prefix}-meta.json says the rest)",
            "load it in plain MXNet:",
            *(_shim_lines() if numpy_aliases.ALIASES_MISSING else []),
            "  import mxnet as mx",
            f"  net = mx.gluon.SymbolBlock.imports({symbol_file!r}, ['data'], {params_file!r})",
            f"  logits = net(mx.nd.zeros(({', '.join(map(str, shape or (1, 1, 28, 28)))})))"]


def _shim_lines():
    """What must run before ``import mxnet`` where numpy lacks names MXNet 1.9.1 reads."""
    if set(numpy_aliases.ALIASES_MISSING) <= set(numpy_aliases.ALIASES):
        return ["  import numpy; numpy.bool, numpy.int = bool, int  # numpy>=1.24 dropped these; "
                "MXNet 1.9.1 reads them"]
    return ["  " + line for line in numpy_aliases.standalone_lines(numpy_aliases.ALIASES_MISSING)]


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
        with warnings.catch_warnings():  # MXNet warns that it cannot tell the input's type before a call
            warnings.filterwarnings("ignore", message="Cannot decide type")
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
    onnx = _onnx()
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


def _onnx():
    """The onnx module, with ``onnx.mapping`` (removed in onnx 1.16) put back where it is missing:
    MXNet 1.9.1's exporter (mx2onnx) reads its two tables, NP_TYPE_TO_TENSOR_TYPE and
    TENSOR_TYPE_TO_NP_TYPE, which onnx.helper still holds as functions."""
    try:
        import onnx
    except ImportError:
        raise DependencyError("ONNX export needs the onnx package: pip install 'gluon-googlenet[onnx]'") from None
    if not hasattr(onnx, "mapping"):
        import sys
        import types
        to_numpy = {}
        for code in sorted(onnx.TensorProto.DataType.values()):
            try:
                to_numpy[code] = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(code))
            except (KeyError, TypeError, ValueError):
                continue  # UNDEFINED, STRING: no numpy type
        mapping = types.ModuleType("onnx.mapping")
        mapping.TENSOR_TYPE_TO_NP_TYPE = to_numpy
        mapping.NP_TYPE_TO_TENSOR_TYPE = {}
        for code, dtype in to_numpy.items():  # the first code of a dtype, as the old table (uint16: UINT16)
            mapping.NP_TYPE_TO_TENSOR_TYPE.setdefault(dtype, code)
        sys.modules["onnx.mapping"] = onnx.mapping = mapping
    return onnx
