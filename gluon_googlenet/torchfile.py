"""Read a PyTorch ``.pth`` state dict into numpy arrays without torch, and without running it.

A ``.pth`` written by ``torch.save`` (PyTorch >= 1.6) is a zip: ``<name>/data.pkl``, a pickle
whose tensors point at raw storages ``<name>/data/<key>``. A pickle can call any function
it names, so it is read with an unpickler that knows a handful of names (an ordered dict,
tensor and parameter rebuilding, storage types) and refuses every other global: loading a
file never runs code from it.
"""
import collections
import pickle
import zipfile

import numpy as np

from .errors import CheckpointError

# torch storage type -> numpy dtype
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": None, "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class _StorageType:
    def __init__(self, name):
        self.name = name


def _rebuild_tensor(storage, offset, size, stride, *_unused):
    """torch._utils._rebuild_tensor_v2, into a numpy array (a copy, C-ordered)."""
    if not size:
        return storage[offset:offset + 1].reshape(()).copy()
    itemsize = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=tuple(size),
                                           strides=tuple(s * itemsize for s in stride), writeable=False)
    return np.ascontiguousarray(view)


def _rebuild_parameter(data, *_unused):
    return data


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, handle, archive, root):
        super().__init__(handle)
        self._archive, self._root = archive, root

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a weights file names only "
                                     "tensors, and this one asks for code")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        storage_type, key = pid[1], pid[2]
        dtype = _STORAGE_DTYPES.get(getattr(storage_type, "name", None))
        if dtype is None:
            raise pickle.UnpicklingError(f"unsupported tensor storage {getattr(storage_type, 'name', storage_type)}")
        raw = self._archive.read(f"{self._root}/data/{key}")
        return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))


def read_torch_state_dict(path):
    """{name: numpy array} from a zip-format ``.pth``; CheckpointError for anything else."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise CheckpointError(f"{path} is not a zip-format PyTorch file ({err}); re-save it with "
                              "torch.save(state_dict, path) from PyTorch 1.6 or later") from None
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise CheckpointError(f"{path}: no data.pkl inside: not a PyTorch file")
        root = pickles[0][:-len("/data.pkl")]
        with archive.open(pickles[0]) as handle:
            try:
                state = _Unpickler(handle, archive, root).load()
            except (pickle.UnpicklingError, KeyError, ValueError, EOFError) as err:
                raise CheckpointError(f"{path}: {err}") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]  # a training checkpoint that wraps the weights
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise CheckpointError(f"{path}: not a state dict (name -> tensor)")
    return dict(state)
