"""Single-file training checkpoints: weights, optimizer state and run metadata, checksummed.

A ``.ckpt`` file is an MXNet NDArray dict (``mx.nd.load`` reads it): ``param:NAME`` for each
parameter (Gluon structural names, as ``save_parameters`` writes them), ``meta`` (UTF-8 JSON
as uint8) and ``trainer`` (the Gluon Trainer's state bytes as uint8), followed by a trailer:
``GGCKSHA2`` and the SHA-256 of every byte before it, checked on every read. A run with
``--ema`` keeps the averaged weights as ``param:NAME`` (what it tested, evaluates and exports)
and the net's own as ``live:NAME`` (what training goes on from). It is written
atomically, so an interrupted save leaves the previous file intact.
"""
import hashlib
import json
import os
import tempfile
from collections import namedtuple

import mxnet as mx
import numpy as np

from ...base.errors import CheckpointError
from ...base.fileio import atomic_path
from ...base.gluon_internals import first_value, load_structural, structural_params
from ...nn.registry import build_model

FORMAT = "gluon-googlenet-checkpoint/2"
TRAILER = b"GGCKSHA2"
_TRAILER_SIZE = len(TRAILER) + 32


Checkpoint = namedtuple("Checkpoint", "meta params states live")
Checkpoint.__doc__ = ("A checkpoint's metadata, weights (the ones the run tested: with --ema the average), "
                      "optimizer state bytes (or None) and, with --ema, the net's own weights (else None).")


def _bytes_array(data):
    return mx.nd.array(np.frombuffer(data, dtype=np.uint8), dtype=np.uint8)


def save_checkpoint(path, net, trainer, meta, previous=None, average=None):  # noqa: PLR0913
    """Write ``net``'s weights, ``trainer``'s state and ``meta`` (a JSON-able dict) to ``path``;
    ``previous``: the name the replaced checkpoint keeps (a hard link, no copy); ``average``
    ({structural name: NDArray}, --ema): saved as the weights, the net's own as ``live:``."""
    own = {name: first_value(param).copyto(mx.cpu()) for name, param in structural_params(net).items()}
    tested = own if average is None else {name: average[name].copyto(mx.cpu()) for name in own}
    payload = {f"param:{name}": value for name, value in tested.items()}
    if average is not None:
        payload.update({f"live:{name}": value for name, value in own.items()})
    if trainer is not None:
        with tempfile.TemporaryDirectory() as scratch:
            states_file = os.path.join(scratch, "s")
            trainer.save_states(states_file)
            with open(states_file, "rb") as handle:
                payload["trainer"] = _bytes_array(handle.read())
    payload["meta"] = _bytes_array(json.dumps(dict(meta, format=FORMAT)).encode("utf-8"))
    size = sum(v.size * np.dtype(v.dtype).itemsize for v in payload.values()) + 64 * len(payload) + 4096
    with atomic_path(path, size, previous) as tmp:
        mx.nd.save(tmp, payload)
        with open(tmp, "rb+") as handle:
            digest = hashlib.sha256(handle.read()).digest()
            handle.write(TRAILER + digest)


def read_checkpoint(path):
    """Return a Checkpoint (meta dict, {param name: NDArray}, trainer state bytes or None, the
    live weights or None); CheckpointError, one line naming ``path``, for a missing, damaged or
    foreign file."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path} does not exist")
    with open(path, "rb") as handle:
        raw = handle.read()
    body, checked = raw[:-_TRAILER_SIZE], raw[-_TRAILER_SIZE:-32] == TRAILER
    if checked and hashlib.sha256(body).digest() != raw[-32:]:
        raise CheckpointError(f"{path} is damaged: its content does not match the checksum it was saved "
                              "with (a changed bit or an incomplete copy); use another checkpoint")
    try:
        payload = mx.nd.load_frombuffer(body)
        meta = json.loads(payload.pop("meta").asnumpy().tobytes().decode("utf-8"))
    except (mx.base.MXNetError, KeyError, ValueError, AttributeError):
        raise CheckpointError(f"{path} is not a gluon-googlenet checkpoint (corrupt, or a bare "
                              ".params file: use 'gluon-googlenet export' output with import_model)") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: unknown checkpoint format {meta.get('format')!r}")
    if not checked:
        raise CheckpointError(f"{path} is damaged: its checksum trailer is missing or changed")
    states = payload.pop("trainer", None)
    params = {k[len("param:"):]: v for k, v in payload.items() if k.startswith("param:")}
    live = {k[len("live:"):]: v for k, v in payload.items() if k.startswith("live:")}
    return Checkpoint(meta, params, None if states is None else states.asnumpy().tobytes(), live or None)


def check_compatible(meta, path, model, model_kwargs=None):
    """CheckpointError unless ``meta`` is for ``model`` built with the same ``model_kwargs``."""
    saved_kwargs = meta["model_kwargs"]
    expected = [("model", meta.get("model"), model)]
    expected += [(k, saved_kwargs.get(k), v) for k, v in (model_kwargs or {}).items()]
    for key, saved, wanted in expected:
        if saved != wanted:
            raise CheckpointError(
                f"{path} was saved for {key}={saved!r}, this run has {key}={wanted!r} "
                f"(a checkpoint of {meta.get('model')} with {saved_kwargs.get('num_classes')} classes)")


def load_states(trainer, states):
    """Restore a Gluon Trainer's optimizer state from bytes saved by ``save_checkpoint``."""
    with tempfile.TemporaryDirectory() as scratch:
        states_file = os.path.join(scratch, "s")
        with open(states_file, "wb") as handle:
            handle.write(states)
        trainer.load_states(states_file)


def load_model(path, ctx=None):
    """Rebuild the model a checkpoint was saved from and load the weights it tested (with --ema
    the average); return (net, meta)."""
    meta, params = read_checkpoint(path)[:2]
    ctx = ctx or [mx.cpu()]
    net = build_model(meta["model"], **meta["model_kwargs"])
    load_structural(net, params, ctx, path)
    net.class_names = tuple(meta["class_names"]) if meta.get("class_names") else None
    return net, meta
