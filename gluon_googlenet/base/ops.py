"""The few array operations our blocks call themselves, in both of MXNet's array modes.

MXNet 1.9.1 has two array APIs: legacy ``mx.nd`` / ``mx.sym`` and numpy (``npx.set_np()``, which
every d2l notebook runs). Gluon's own layers pick theirs by ``mx.util.is_np_array()``; the
operators our blocks call (concatenation of branches, ReLU, flattening, adaptive pooling, channel
split) do the same here, so every net runs, hybridizes and exports in either mode. ``F`` is what
``hybrid_forward`` receives (``mx.nd`` or ``mx.sym``); in numpy mode its ``np`` / ``npx``
namespaces are used.
"""
import contextlib

import mxnet as mx
from mxnet.util import is_np_array


def concat(F, *arrays, dim=1):
    """``arrays`` joined along ``dim`` (branches on channels)."""
    if is_np_array():
        return F.np.concatenate(arrays, axis=dim)
    return F.concat(*arrays, dim=dim)


def relu(F, x):
    """max(x, 0)."""
    return F.npx.relu(x) if is_np_array() else F.relu(x)


def flatten(F, x):
    """N x ... to N x (product of the rest)."""
    return F.npx.batch_flatten(x) if is_np_array() else F.flatten(x)


def split(F, x, parts, axis=1):
    """``x`` cut into ``parts`` equal pieces along ``axis`` (a list)."""
    if is_np_array():
        return list(F.np.split(x, parts, axis=axis))
    return list(F.split(x, num_outputs=parts, axis=axis))


def expand_dims(F, x, axis):
    """``x`` with a new axis of length 1 at ``axis``."""
    return F.np.expand_dims(x, axis) if is_np_array() else F.expand_dims(x, axis=axis)


def squeeze(F, x, axis):
    """``x`` without its axis ``axis`` of length 1."""
    return F.np.squeeze(x, axis) if is_np_array() else F.squeeze(x, axis=axis)


def flip(F, x, axis):
    """``x`` reversed along ``axis`` (3: a left-right mirror of N x C x H x W images)."""
    return F.np.flip(x, axis) if is_np_array() else F.flip(x, axis=axis)


def crop(F, x, first, size):
    """``x[:, :, first:first + size, first:first + size]`` of a 4-D ``x`` (a kernel's middle taps)."""
    cut = dict(begin=(None, None, first, first), end=(None, None, first + size, first + size))
    return F.npx.slice(x, **cut) if is_np_array() else F.slice(x, **cut)


def adaptive_avg_pool(F, x, size):
    """Average pooling of N x C x H x W ``x`` to ``size`` x ``size`` bins. MXNet has this operator
    in its legacy API only: in numpy mode the array goes there and back (no copy)."""
    if is_np_array():
        pooled = F.contrib.AdaptiveAvgPooling2D(x.as_nd_ndarray(), output_size=size)
        return pooled.as_np_ndarray()
    return F.contrib.AdaptiveAvgPooling2D(x, output_size=size)


def legacy(x):
    """``x`` as a legacy NDArray (the same memory); legacy arrays and other values pass through."""
    return x.as_nd_ndarray() if isinstance(x, mx.np.ndarray) else x


def array_like(template, value):
    """``value`` (a legacy NDArray) in the array API of ``template`` (numpy or legacy)."""
    return value.as_np_ndarray() if isinstance(template, mx.np.ndarray) else value


def load_arrays(path):
    """The arrays of an MXNet file (``mx.nd.save``, Gluon's ``.params``) as legacy NDArrays, whichever
    shape semantics it was saved in: Gluon writes numpy-mode files in numpy shape semantics, which
    MXNet refuses to read in the other (and the other way round)."""
    with _legacy_semantics():
        try:
            return mx.nd.load(path)
        except mx.base.MXNetError as err:
            if "saved in np shape semantics" not in str(err):
                raise
    with mx.util.np_shape(True):
        return {name: legacy(value) for name, value in mx.nd.load(path).items()}


def save_arrays(path, arrays):
    """``mx.nd.save`` in legacy shape semantics, which plain MXNet reads outside numpy mode, whatever
    mode the caller is in (``load_arrays`` reads it in either)."""
    with _legacy_semantics():
        mx.nd.save(path, {name: legacy(value) for name, value in arrays.items()})


@contextlib.contextmanager
def _legacy_semantics():
    """Legacy array and shape semantics inside (MXNet turns off numpy arrays before numpy shapes)."""
    with mx.util.np_array(False), mx.util.np_shape(False):
        yield
