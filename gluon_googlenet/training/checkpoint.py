"""Single-file training checkpoints: weights, optimizer state and run metadata.

A ``.ckpt`` file is an MXNet NDArray dict: ``param:NAME`` for each parameter
(Gluon structural names, as ``save_parameters`` writes them), ``meta`` (UTF-8
JSON as uint8) and ``trainer`` (the Gluon Trainer's state bytes as uint8). It is
written atomically, so an interrupted save leaves the previous file intact.
"""
import json
import os
import tempfile

import mxnet as mx
import numpy as np

from ..base.errors import CheckpointError
from ..base.fileio import atomic_path
from ..nn.registry import build_model

FORMAT = "gluon-googlenet-checkpoint/1"


def _bytes_array(data):
    return mx.nd.array(np.frombuffer(data, dtype=np.uint8), dtype=np.uint8)


def save_checkpoint(path, net, trainer, meta):
    """Write ``net``'s weights, ``trainer``'s state and ``meta`` (a JSON-able dict) to ``path``."""
    with tempfile.TemporaryDirectory() as scratch:
        params_file, states_file = os.path.join(scratch, "p"), os.path.join(scratch, "s")
        net.save_parameters(params_file)
        payload = {f"param:{k}": v for k, v in mx.nd.load(params_file).items()}
        if trainer is not None:
            trainer.save_states(states_file)
            with open(states_file, "rb") as handle:
                payload["trainer"] = _bytes_array(handle.read())
    payload["meta"] = _bytes_array(json.dumps(dict(meta, format=FORMAT)).encode("utf-8"))
    with atomic_path(path) as tmp:
        mx.nd.save(tmp, payload)


def read_checkpoint(path):
    """Return (meta dict, {param name: NDArray}, trainer state bytes or None)."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = mx.nd.load(path)
        meta = json.loads(payload.pop("meta").asnumpy().tobytes().decode("utf-8"))
    except (mx.base.MXNetError, KeyError, ValueError, AttributeError):
        raise CheckpointError(f"{path} is not a gluon-googlenet checkpoint (corrupt, or a bare "
                              ".params file: use 'gluon-googlenet export' output with import_model)") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {meta.get('format')!r}")
    states = payload.pop("trainer", None)
    params = {k[len("param:"):]: v for k, v in payload.items() if k.startswith("param:")}
    return meta, params, None if states is None else states.asnumpy().tobytes()


def check_compatible(meta, path, model, model_kwargs=None):
    """CheckpointError unless ``meta`` is for ``model`` built with the same ``model_kwargs``."""
    saved_kwargs = meta.get("model_kwargs") or {}
    expected = [("model", meta.get("model"), model)]
    expected += [(k, saved_kwargs.get(k), v) for k, v in (model_kwargs or {}).items()]
    for key, saved, wanted in expected:
        if saved != wanted:
            raise CheckpointError(
                f"{path} was saved for {key}={saved!r}, this run has {key}={wanted!r} "
                f"(a checkpoint of {meta.get('model')} with {saved_kwargs.get('classes')} classes)")


def load_weights(net, params, ctx, path="checkpoint"):
    """Load ``params`` (structural names) into ``net`` on ``ctx``; CheckpointError on mismatch."""
    with tempfile.TemporaryDirectory() as scratch:
        params_file = os.path.join(scratch, "p")
        mx.nd.save(params_file, params)
        try:
            net.load_parameters(params_file, ctx=ctx)
        except (AssertionError, mx.base.MXNetError) as err:
            first = str(err).split("\n")[0][:200]
            raise CheckpointError(f"{path} does not fit this model: {first}") from None


def load_states(trainer, states):
    """Restore a Gluon Trainer's optimizer state from bytes saved by ``save_checkpoint``."""
    with tempfile.TemporaryDirectory() as scratch:
        states_file = os.path.join(scratch, "s")
        with open(states_file, "wb") as handle:
            handle.write(states)
        trainer.load_states(states_file)


def load_model(path, ctx=None):
    """Rebuild the model a checkpoint was saved from and load its weights; return (net, meta)."""
    meta, params, _ = read_checkpoint(path)
    ctx = ctx or [mx.cpu()]
    kwargs = meta.get("model_kwargs") or {"classes": meta["classes"], "in_channels": meta["in_channels"]}
    net = build_model(meta["model"], **kwargs)
    load_weights(net, params, ctx, path)
    return net, meta

