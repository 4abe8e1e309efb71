"""A run's data: an IDX data set resized once and cached per process, or an image folder split
per class; and the step from uint8 images to the net's input.

The files themselves: idx_files.py and image_folders.py; batching: sampling.py.
"""
import functools
import logging
import os
from collections import namedtuple

import mxnet as mx
import numpy as np

from ...base.normalization import normalize
from .datasets import get_dataset_spec
from .fetch import locate_dataset
from .idx_files import load_split
from .image_folders import load_image_folder, split_indices

log = logging.getLogger("gluon_googlenet.data")


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


def load_dataset(name="fashion-mnist", split="train", data_dir=None, resize=96, limit=None,  # noqa: PLR0913
                 verify=True, download=True):
    """Images uint8 [N, 1, S, S] and labels int32 [N], resized once and cached per process.

    ``limit`` keeps the first N examples; ``resize`` None keeps the files' side (28); where no
    folder holds the data set it is downloaded first, unless ``download`` is False (fetch.py).
    """
    spec = get_dataset_spec(name)
    folder = locate_dataset(spec, data_dir, download)
    return _cached(spec, split, os.path.abspath(folder), resize, limit or 0, verify)


@functools.lru_cache(maxsize=8)
def _cached(spec, split, folder, size, limit, verify):
    images, labels = load_split(spec, split, folder, verify)
    if limit:
        images, labels = images[:limit], labels[:limit]
    images = resize_images(images, size) if size else images[:, None].copy()
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


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

    def split(name, limit):
        return load_dataset(source.dataset, name, source.data_dir, size, limit, source.verify, source.download)
    train = split("train", source.limit_train) if need_train else None
    names = list(get_dataset_spec(source.dataset).class_names)
    return RunData(source.dataset, train, split("test", source.limit_test), names, 1)


def to_input(batch, mean=None, std=None):
    """uint8 images on a device -> float32 in [0, 1] (then normalised per channel with mean, std)."""
    x = batch.astype("float32") / 255
    return x if mean is None else normalize(mx.nd, x, mean, std)


def images_to_input(images, mean=None, std=None, ctx=None):
    """uint8 image(s) [C, S, S] or [N, C, S, S] (numpy) -> the net's input on ``ctx``, as to_input
    (a checkpoint's ``meta['mean']``, ``meta['std']`` normalise as its run did)."""
    images = np.asarray(images)
    batch = images[None] if images.ndim == 3 else images
    return to_input(mx.nd.array(batch, ctx=ctx or mx.cpu(), dtype="uint8"), mean, std)
