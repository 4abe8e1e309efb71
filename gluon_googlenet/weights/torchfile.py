"""Read a PyTorch ``.pth`` state dict into numpy arrays without torch, and without running it.

A ``.pth`` written by ``torch.save`` since PyTorch 1.6 is a zip: ``<name>/data.pkl``, a pickle
whose tensors point at raw storages ``<name>/data/<key>``. Older files (the legacy format, in
which torchvision's GoogLeNet and Inception v3 weights were published) are a few pickles in a
row followed by the raw storages. A pickle can call any function it names, so both are read
with an unpickler that knows a handful of names (an ordered dict, tensor and parameter
rebuilding, storage types) and refuses every other global: loading a file never runs code from it.
"""
import collections
import io
import os
import pickle
import zipfile
import zlib

import numpy as np

from ..base.errors import CheckpointError

# torch storage type -> numpy dtype
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": None, "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


_LEGACY_MAGIC = 0x1950a86a20f9469cfc6c


class _StorageType:
    def __init__(self, name):
        self.name = name


class _LegacyStorage:
    """A legacy file's storage: its bytes follow the pickle, so tensors on it wait for them."""

    def __init__(self, dtype):
        self.dtype, self.array = np.dtype(dtype).newbyteorder("<"), None


class _LegacyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.args = storage, (offset, size, stride)

    def materialise(self):
        return _rebuild_tensor(self.storage.array, *self.args)


def _rebuild_tensor(storage, offset, size, stride, *_unused):
    """torch._utils._rebuild_tensor_v2, into a numpy array (a copy, C-ordered)."""
    if isinstance(storage, _LegacyStorage):
        return _LegacyTensor(storage, offset, size, stride)
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
    """Zip format: storages are read from ``archive``; legacy format (archive None): storages
    are placeholders, collected in ``legacy`` by key, filled once the pickle is read."""

    def __init__(self, handle, archive=None, root=None):
        super().__init__(handle)
        self._archive, self._root, self.legacy = archive, root, {}

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
        if self._archive is None:
            return self.legacy.setdefault(key, _LegacyStorage(dtype))
        raw = self._archive.read(f"{self._root}/data/{key}")
        return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))


def _read_legacy(path):
    """The legacy format: magic number, protocol, system info, the object, the storage keys,
    then each storage as an int64 element count and its bytes."""
    with open(path, "rb") as handle:
        try:
            magic = _Unpickler(handle).load()
        except pickle.UnpicklingError as err:
            if "refusing" in str(err):
                raise CheckpointError(f"{path}: {err}") from None
            magic = None
        except Exception:  # not a pickle at all
            magic = None
        if magic != _LEGACY_MAGIC:
            raise CheckpointError(f"{path} is not a PyTorch file (neither a zip nor the legacy format)")
        try:
            for _ in range(2):  # protocol version, system info: plain values
                _Unpickler(handle).load()
            unpickler = _Unpickler(handle)
            state = unpickler.load()
            keys = _Unpickler(handle).load()
            for key in keys:
                storage = unpickler.legacy[key]
                count = int(np.frombuffer(handle.read(8), dtype="<i8")[0])
                storage.array = np.frombuffer(handle.read(count * storage.dtype.itemsize), dtype=storage.dtype)
                if len(storage.array) != count:
                    raise EOFError(f"storage {key} is truncated")
        except (pickle.UnpicklingError, KeyError, ValueError, EOFError, IndexError) as err:
            raise CheckpointError(f"{path}: {err}") from None

    def materialise(value):
        if isinstance(value, _LegacyTensor):
            return value.materialise()
        if isinstance(value, dict):
            return type(value)((k, materialise(v)) for k, v in value.items())
        return value
    return materialise(state)


def read_torch_state_dict(path):
    """{name: numpy array} from a ``.pth`` (zip or legacy format); CheckpointError otherwise."""
    check_weights_path(path)
    if not zipfile.is_zipfile(path):
        return _check_state(_read_legacy(path), path)
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise CheckpointError(f"{path}: no data.pkl inside: not a PyTorch file")
            root = pickles[0][:-len("/data.pkl")]
            data = io.BytesIO(archive.read(pickles[0]))  # read whole: zipfile checks its CRC-32
            state = _Unpickler(data, archive, root).load()
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        raise CheckpointError(f"{path} is damaged: {err} (a changed bit or an incomplete download)") from None
    except (pickle.UnpicklingError, KeyError, ValueError) as err:
        raise CheckpointError(f"{path}: {err}") from None
    return _check_state(state, path)


def check_weights_path(path):
    """CheckpointError, naming ``path``, unless it is a file."""
    if os.path.isdir(path):
        raise CheckpointError(f"weights file {path} is a folder; give the weights file inside it")
    if not os.path.isfile(path):
        raise CheckpointError(f"weights file {path} does not exist")


def _check_state(state, path):
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]  # a training checkpoint that wraps the weights
    if not isinstance(state, dict) or not all(isinstance(v, np.ndarray) for v in state.values()):
        raise CheckpointError(f"{path}: not a state dict (name -> tensor)")
    return dict(state)
