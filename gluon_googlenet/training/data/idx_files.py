"""IDX data set files (Fashion-MNIST, MNIST): where they are, read and checked.

Files are looked for in: an explicit ``data_dir``; the data set's environment variable; the
Debian package's folder; MXNet's data set cache. Each file may be gzipped or not and is checked
against the MD5 of its uncompressed bytes.
"""
import gzip
import hashlib
import os
import zlib

import mxnet as mx
import numpy as np

from ...base.errors import DataError


class DataNotFound(DataError):
    """No folder searched holds any of a data set's files (so it may be downloaded)."""


_SPLIT_FILES = {"train": ("train-images", "train-labels"), "test": ("t10k-images", "t10k-labels")}


def _file_in(folder, base):
    """Path of ``base`` or ``base.gz`` in ``folder``, or None."""
    for candidate in (base, base + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    return None


def candidate_dirs(spec, data_dir=None):
    """Folders to search, in order, as (how it was named, path) pairs."""
    if data_dir:
        return [("--data-dir", data_dir)]
    if os.environ.get(spec.env_var):
        return [(f"${spec.env_var}", os.environ[spec.env_var])]
    dirs = [("Debian package", spec.system_dir)] if spec.system_dir else []
    dirs.append(("MXNet cache", os.path.join(mx.base.data_dir(), "datasets", spec.name)))
    return dirs


def find_data_dir(spec, data_dir=None):
    """First candidate folder holding all four files; DataError naming what is missing."""
    searched = []
    for label, folder in candidate_dirs(spec, data_dir):
        missing = [base for base, _ in spec.files.values() if _file_in(folder, base) is None]
        if not missing:
            return folder
        if len(missing) < len(spec.files) or label in ("--data-dir", f"${spec.env_var}"):
            raise DataError(f"{spec.name}: {missing[0]}[.gz] not found in {folder} ({label}); "
                            f"{spec.install_hint}")
        searched.append(folder)
    raise DataNotFound(f"{spec.name} not found (looked in {', '.join(searched)}); {spec.install_hint}")


def read_idx(path, expected_md5=None):
    """Read one IDX file (gzipped or not) into a numpy array, checking header, size and MD5."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{path}: cannot read or decompress ({err}); the file is corrupt or truncated") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or not 1 <= raw[3] <= 4:
        raise DataError(f"{path}: not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) - header != int(np.prod(shape)):
        raise DataError(f"{path}: holds {len(raw) - header} bytes of data, its header {shape} "
                        f"needs {int(np.prod(shape))}: the file is truncated or corrupt")
    if expected_md5 is not None:
        digest = hashlib.md5(raw).hexdigest()
        if digest != expected_md5:
            raise DataError(f"{path}: MD5 of the uncompressed data is {digest}, expected "
                            f"{expected_md5}: corrupt or not the expected data set")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_split(spec, split, data_dir=None, verify=True):
    """(images uint8 [N, H, W], labels int32 [N]) of 'train' or 'test'."""
    if split not in _SPLIT_FILES:
        raise DataError(f"unknown split {split!r}; use 'train' or 'test'")
    folder = find_data_dir(spec, data_dir)
    arrays = []
    for key in _SPLIT_FILES[split]:
        base, md5 = spec.files[key]
        arrays.append(read_idx(_file_in(folder, base), md5 if verify else None))
    images, labels = arrays
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{spec.name} {split} in {folder}: {len(images)} images but "
                        f"{len(labels)} labels")
    if labels.max(initial=0) >= len(spec.class_names):
        raise DataError(f"{spec.name} {split} in {folder}: label {labels.max()} out of range")
    return images, labels.astype(np.int32)
