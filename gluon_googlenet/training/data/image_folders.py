"""Image folders, one sub-folder per class (as torchvision's ImageFolder): read, checked, split."""
import functools
import os

import numpy as np

from ...base.errors import DataError

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
