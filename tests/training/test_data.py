"""IDX reading, verification, search order and errors; resizing; loaders; image folders."""
import gzip
import hashlib
import os

from gluon_googlenet.base.errors import DataError
from gluon_googlenet.training.data.datasets import FASHION_MNIST, MNIST
from gluon_googlenet.training.data.idx_files import find_data_dir, load_split, read_idx
from gluon_googlenet.training.data.image_folders import load_image_folder, split_indices
from gluon_googlenet.training.data.run_data import load_dataset, resize_images
from gluon_googlenet.training.data.sampling import EpochSampler, make_loader

import numpy as np
import pytest
from conftest import make_idx_dir, make_image_folder, write_idx


def _spec_for(folder):
    """A DatasetSpec whose MD5s are those of the test's own files."""
    files = {}
    for key, (base, _) in FASHION_MNIST.files.items():
        path = next(p for p in (os.path.join(folder, base), os.path.join(folder, base + ".gz"))
                    if os.path.isfile(p))
        with open(path, "rb") as handle:
            raw = handle.read()
        files[key] = (base, hashlib.md5(gzip.decompress(raw) if path.endswith(".gz") else raw).hexdigest())
    return FASHION_MNIST._replace(files=files)


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trip(tmp_path, gz):
    array = np.random.RandomState(1).randint(0, 256, (5, 28, 28))
    path = write_idx(tmp_path / ("x.gz" if gz else "x"), array, gz)
    np.testing.assert_array_equal(read_idx(path), array)


def test_read_idx_rejects_truncated_and_corrupt_files(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros((4, 28, 28)))
    with open(path, "rb") as handle:
        raw = handle.read()
    (tmp_path / "short").write_bytes(raw[:-100])
    with pytest.raises(DataError, match="truncated"):
        read_idx(str(tmp_path / "short"))
    (tmp_path / "bad.gz").write_bytes(gzip.compress(raw)[:-30])
    with pytest.raises(DataError, match="corrupt or truncated"):
        read_idx(str(tmp_path / "bad.gz"))
    (tmp_path / "magic").write_bytes(b"\x01\x02" + raw[2:])
    with pytest.raises(DataError, match="bad magic"):
        read_idx(str(tmp_path / "magic"))


def test_md5_is_checked_on_uncompressed_bytes(tmp_path):
    folder = make_idx_dir(tmp_path / "d", gz=True)
    spec = _spec_for(folder)
    images, labels = load_split(spec, "train", folder)
    assert images.shape == (60, 28, 28) and labels.dtype == np.int32
    wrong = spec._replace(files=dict(spec.files, **{"train-labels": (spec.files["train-labels"][0], "0" * 32)}))
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: MD5 .* expected 0{32}"):
        load_split(wrong, "train", folder)


def test_our_fake_files_fail_the_real_checksums(tmp_path):
    folder = make_idx_dir(tmp_path / "d")
    with pytest.raises(DataError, match="not the expected data set"):
        load_split(FASHION_MNIST, "test", folder)
    assert load_split(FASHION_MNIST, "test", folder, verify=False)[0].shape == (20, 28, 28)


def test_missing_file_names_it_and_the_folder(tmp_path):
    folder = make_idx_dir(tmp_path / "d")
    os.remove(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\[.gz\] not found in .*d \(--data-dir\)"):
        find_data_dir(FASHION_MNIST, folder)


def test_search_order_env_then_system_then_cache(tmp_path, monkeypatch):
    env_dir = make_idx_dir(tmp_path / "env")
    monkeypatch.setenv(FASHION_MNIST.env_var, env_dir)
    assert find_data_dir(FASHION_MNIST) == env_dir
    explicit = make_idx_dir(tmp_path / "explicit")
    assert find_data_dir(FASHION_MNIST, explicit) == explicit
    monkeypatch.delenv(FASHION_MNIST.env_var)
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "mxhome"))
    spec = FASHION_MNIST._replace(system_dir=str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="not found \\(looked in .*nowhere, .*mxhome.*"
                                        "apt-get install dataset-fashion-mnist"):
        find_data_dir(spec)
    cache = make_idx_dir(tmp_path / "mxhome" / "datasets" / "fashion-mnist", gz=False)
    assert find_data_dir(spec) == cache


def test_mnist_error_says_to_pass_a_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(MNIST.env_var, raising=False)
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    with pytest.raises(DataError, match="mnist not found .* pass --data-dir"):
        find_data_dir(MNIST)


def test_resize_matches_opencv_bilinear_within_one_level():
    cv2 = pytest.importorskip("cv2")
    images = np.random.RandomState(2).randint(0, 256, (50, 28, 28)).astype(np.uint8)
    resized = resize_images(images, 96, chunk=16)
    assert resized.shape == (50, 1, 96, 96) and resized.dtype == np.uint8
    reference = np.stack([cv2.resize(im, (96, 96), interpolation=cv2.INTER_LINEAR) for im in images])
    assert np.abs(resized[:, 0].astype(int) - reference.astype(int)).max() <= 1


def test_load_dataset_caches_and_limits(tmp_path):
    folder = make_idx_dir(tmp_path / "d")
    x1, y1 = load_dataset("fashion-mnist", "train", folder, resize=32, limit=10, verify=False)
    x2, _ = load_dataset("fashion-mnist", "train", folder, resize=32, limit=10, verify=False)
    assert x1 is x2 and x1.shape == (10, 1, 32, 32) and not x1.flags.writeable
    np.testing.assert_array_equal(y1, np.arange(10) % 10)


def test_epoch_sampler_order_depends_on_seed_and_epoch_only():
    a, b = EpochSampler(100, seed=3), EpochSampler(100, seed=3)
    first = list(a)
    assert sorted(first) == list(range(100)) and first == list(b)
    a.epoch = 1
    assert list(a) != first
    assert list(EpochSampler(5)) == [0, 1, 2, 3, 4]


def test_loader_batches_cover_the_data():
    images = np.arange(10 * 4, dtype=np.uint8).reshape(10, 1, 2, 2)
    labels = np.arange(10, dtype=np.int32)
    batches = list(make_loader(images, labels, 4, seed=0))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b[1].asnumpy() for b in batches]).tolist()) == list(range(10))


@pytest.mark.slow
def test_real_fashion_mnist_is_verified(fashion_dir):
    images, labels = load_split(FASHION_MNIST, "test", fashion_dir)
    assert images.shape == (10000, 28, 28)
    assert np.bincount(labels).tolist() == [1000] * 10


def test_image_folder_reads_classes_and_splits_per_class(tmp_path):
    root = make_image_folder(tmp_path / "imgs", per_class=10)
    images, labels, names, skipped = load_image_folder(str(root), 24)
    assert images.shape == (20, 3, 24, 24) and names == ("left", "right") and skipped == ()
    train_idx, test_idx = split_indices(labels, 0.2, seed=1)
    assert len(test_idx) == 4 and sorted(labels[test_idx].tolist()) == [0, 0, 1, 1]
    assert set(train_idx).isdisjoint(test_idx) and len(train_idx) + len(test_idx) == 20


def test_unreadable_images_are_named_then_skipped_on_request(tmp_path):
    root = make_image_folder(tmp_path / "imgs", per_class=4)
    (root / "left" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"cannot read image .*broken.jpg .*--bad-images skip"):
        load_image_folder(str(root), 16)
    images, labels, _, skipped = load_image_folder(str(root), 16, skip_bad=True)
    assert len(labels) == 8 and skipped == (str(root / "left" / "broken.jpg"),)


def test_files_that_are_not_images_are_ignored(tmp_path):
    root = make_image_folder(tmp_path / "imgs", per_class=3)
    (root / "left" / "README.txt").write_text("pictures of the left class")
    (root / "right" / "labels.csv").write_text("0,1\n")
    (root / "right" / "UPPER.PNG").write_bytes((root / "right" / "0.png").read_bytes())
    images, labels, _, skipped = load_image_folder(str(root), 16)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 1] and skipped == ()
    notes = root / "notes"
    notes.mkdir()
    (notes / "todo.md").write_text("no pictures here")
    with pytest.raises(DataError, match=r"class folder .*notes has no image files .*todo.md"):
        load_image_folder(str(root), 16)


def test_empty_class_folder_and_missing_folder_are_errors(tmp_path):
    root = make_image_folder(tmp_path / "imgs", per_class=2)
    (root / "empty").mkdir()
    with pytest.raises(DataError, match="class folder .*empty is empty"):
        load_image_folder(str(root), 16)
    with pytest.raises(DataError, match="does not exist"):
        load_image_folder(str(tmp_path / "nope"), 16)
