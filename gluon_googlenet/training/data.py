"""Fashion-MNIST and MNIST from their IDX files, verified, resized once, batched by Gluon.

Files are looked for in: an explicit ``data_dir``; the dataset's environment
variable; the Debian package's folder; MXNet's dataset cache. Each file may be
gzipped or not and is checked against the MD5 of its uncompressed bytes.
"""
import functools
import gzip
import hashlib
import logging
import os
import zlib
from collections import namedtuple

import mxnet as mx
import numpy as np

from ..base.errors import DataError
from .datasets import get_dataset_spec

log = logging.getLogger("gluon_googlenet.data")

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
    raise DataError(f"{spec.name} not found (looked in {', '.join(searched)}); {spec.install_hint}")


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


def resize_images(images, size, chunk=4096):
    """Bilinear resize of uint8 [N, H, W] to uint8 [N, 1, size, size], vectorised in chunks.

    Pixel centres are aligned as in OpenCV's INTER_LINEAR (what d2l's Resize uses),
    then values are rounded back to uint8.
    """
    n, height, width = images.shape
    if (height, width) == (size, size):
        return images.reshape(n, 1, size, size).copy()
    out = np.empty((n, 1, size, size), dtype=np.uint8)
    for start in range(0, n, chunk):
        batch = mx.nd.array(images[start:start + chunk, None], dtype="float32")
        resized = mx.nd.contrib.BilinearResize2D(batch, height=size, width=size, align_corners=False)
        out[start:start + chunk] = mx.nd.clip(mx.nd.round(resized), 0, 255).asnumpy().astype(np.uint8)
    return out


def load_dataset(name="fashion-mnist", split="train", data_dir=None, resize=96, limit=None,
                 verify=True):
    """Images uint8 [N, 1, S, S] and labels int32 [N], resized once and cached per process.

    ``limit`` keeps the first N examples; ``resize`` None keeps the files' side (28).
    """
    return _load(get_dataset_spec(name), split, data_dir, resize, limit, verify)


def _load(spec, split, data_dir, size, limit, verify):
    folder = find_data_dir(spec, data_dir)
    return _load_cached(spec, split, os.path.abspath(folder), size, limit or 0, verify)


@functools.lru_cache(maxsize=8)
def _load_cached(spec, split, folder, size, limit, verify):
    images, labels = load_split(spec, split, folder, verify)
    if limit:
        images, labels = images[:limit], labels[:limit]
    images = resize_images(images, size) if size else images[:, None].copy()
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def epoch_seed(seed, epoch):
    """The one seed of (run seed, 0-based epoch): the epoch's shuffle uses it."""
    return (seed * 1_000_003 + epoch) % 2**31


def batch_seed(seed, epoch, batch):
    """The seed of (run seed, 0-based epoch, 1-based batch): every random draw of that batch
    (dropout, augmentation) comes from it, so a run resumed mid-epoch draws what it would have."""
    return (epoch_seed(seed, epoch) * 1_000_003 + batch) % 2**31


class EpochSampler(mx.gluon.data.Sampler):
    """Indices in an order fixed by (seed, epoch): shuffled, or in order when ``seed`` is None.

    The order depends on nothing else, so a resumed run sees the same batches; ``skip`` leaves
    out the first indices of the order (those a mid-epoch checkpoint had done).
    """

    def __init__(self, length, seed=None):
        self._length, self._seed, self.epoch, self.skip = length, seed, 0, 0

    def __iter__(self):
        if self._seed is None:
            order = range(self._length)
        else:
            order = np.random.RandomState(epoch_seed(self._seed, self.epoch)).permutation(self._length).tolist()
        return iter(order[self.skip:])

    def __len__(self):
        return self._length - self.skip


def make_loader(images, labels, batch_size, seed=None):
    """Gluon DataLoader of (uint8 images, int32 labels) batches; shuffled per epoch if ``seed``."""
    dataset = mx.gluon.data.ArrayDataset(images, labels)
    sampler = EpochSampler(len(dataset), seed)
    batches = mx.gluon.data.BatchSampler(sampler, batch_size, last_batch="keep")
    loader = mx.gluon.data.DataLoader(dataset, batch_sampler=batches)
    loader.epoch_sampler = sampler
    return loader


# --- image folders: one sub-folder per class (reference article 002) -----------------------
# File types read from image folders, as torchvision's ImageFolder; other files are ignored.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def read_image_file(path, size, channels=3):
    """One image file as uint8 [channels, size, size] (grey for 1 channel, RGB for 3), resized
    bilinearly; DataError naming the file when it cannot be decoded."""
    from PIL import Image
    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB").resize((size, size), Image.BILINEAR)
            array = np.asarray(img, dtype=np.uint8)
    except Exception as err:  # PIL raises many types (OSError, ValueError, ...) for bad files
        raise DataError(f"cannot read image {path} ({type(err).__name__}: {err})") from None
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _folder_stamp(root):
    """Modification times of ``root`` and its sub-folders: changes when files come or go."""
    try:
        return tuple((e.name, e.stat().st_mtime_ns) for e in sorted(os.scandir(root), key=lambda e: e.name)
                     if e.is_dir()) + (os.stat(root).st_mtime_ns,)
    except OSError:
        return None


@functools.lru_cache(maxsize=4)
def _load_folder_cached(root, size, skip_bad, stamp):
    if not os.path.isdir(root):
        raise DataError(f"image folder {root} does not exist")
    classes = sorted(d for d in os.listdir(root)
                     if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    if len(classes) < 2:
        raise DataError(f"image folder {root} needs one sub-folder per class, at least two; "
                        f"found {len(classes)}")
    images, labels, skipped = [], [], []
    for label, name in enumerate(classes):
        folder = os.path.join(root, name)
        entries = sorted(f for f in os.listdir(folder)
                         if not f.startswith(".") and os.path.isfile(os.path.join(folder, f)))
        if not entries:
            raise DataError(f"class folder {folder} is empty")
        files = [f for f in entries if f.lower().endswith(IMAGE_EXTENSIONS)]
        if not files:
            raise DataError(f"class folder {folder} has no image files "
                            f"({', '.join(IMAGE_EXTENSIONS)}); it holds {', '.join(entries[:3])}")
        count = 0
        for file in files:
            path = os.path.join(folder, file)
            try:
                images.append(read_image_file(path, size))
            except DataError as err:
                if not skip_bad:
                    raise DataError(f"{err}; remove it or pass --bad-images skip") from None
                skipped.append(path)
                continue
            labels.append(label)
            count += 1
        if count == 0:
            raise DataError(f"class folder {folder} has no readable image")
    out = np.stack(images), np.asarray(labels, dtype=np.int32)
    for array in out:
        array.setflags(write=False)
    return out + (tuple(classes), tuple(skipped))


def load_image_folder(root, size, skip_bad=False):
    """All images under ``root/<class>/`` as uint8 [N, 3, size, size], int32 labels, class
    names (sorted folder names) and the paths skipped as unreadable (``skip_bad``; else error)."""
    root = os.path.abspath(root)
    return _load_folder_cached(root, size, skip_bad, _folder_stamp(root))


def split_indices(labels, test_fraction=0.2, seed=0):
    """Per-class seeded split: (train indices, test indices), each class ~``test_fraction`` test."""
    rng = np.random.RandomState(seed)
    train, test = [], []
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        n_test = int(round(len(idx) * test_fraction))
        if len(idx) > 1:
            n_test = min(max(n_test, 1), len(idx) - 1)
        test.extend(idx[:n_test])
        train.extend(idx[n_test:])
    return np.sort(np.asarray(train, dtype=np.int64)), np.sort(np.asarray(test, dtype=np.int64))


# --- the data of one run, and the net's input -------------------------------------------------
RunData = namedtuple("RunData", "name train test class_names channels")
RunData.__doc__ = "Train and test (images uint8 NCHW, labels int32), class names, channels."


def load_run_data(size, source, need_train=True):
    """A run's data at ``size`` x ``size`` from ``source`` (a config.DataSource): an IDX data
    set's train/test files, or an image folder split per class (``test_fraction`` held out,
    split by ``seed``). ``need_train=False`` leaves an IDX training set unread (train is None).
    """
    if source.image_folder:
        images, labels, names, skipped = load_image_folder(source.image_folder, size,
                                                           source.bad_images == "skip")
        for path in skipped:
            log.warning("skipped unreadable image %s", path)
        train_idx, test_idx = split_indices(labels, source.test_fraction, source.seed)
        train_idx, test_idx = train_idx[:source.limit_train or None], test_idx[:source.limit_test or None]
        return RunData(f"image-folder {source.image_folder}", (images[train_idx], labels[train_idx]),
                       (images[test_idx], labels[test_idx]), list(names), 3)
    spec = get_dataset_spec(source.dataset)

    def split(name, limit):
        return _load(spec, name, source.data_dir, size, limit, source.verify)
    train = split("train", source.limit_train) if need_train else None
    return RunData(source.dataset, train, split("test", source.limit_test), list(spec.class_names), 1)


def to_input(batch, mean=None, std=None):
    """uint8 images on a device -> float32 in [0, 1] (then (x - mean) / std per channel)."""
    x = batch.astype("float32") / 255
    if mean is not None:
        shape = (1, len(mean), 1, 1)
        x = (x - mx.nd.array(mean, ctx=x.context).reshape(shape)) / \
            mx.nd.array(std, ctx=x.context).reshape(shape)
    return x
