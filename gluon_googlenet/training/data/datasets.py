"""The IDX data sets: file names with the MD5s of their uncompressed bytes, class names, and
where to look for them (no MXNet needed)."""
from collections import namedtuple

from ...base.errors import DataError


class DatasetSpec(namedtuple("DatasetSpec", "name files class_names env_var system_dir install_hint")):
    """An IDX data set: file names with MD5s, class names and where to look."""
    __slots__ = ()

    def __hash__(self):  # ``files`` is a dict: hash its items (specs key the loaded-data cache)
        return hash((self.name, tuple(sorted(self.files.items())), self.class_names))

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    files={
        "train-images": ("train-images-idx3-ubyte", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        "train-labels": ("train-labels-idx1-ubyte", "9018921c3c673c538a1fc5bad174d6f9"),
        "t10k-images": ("t10k-images-idx3-ubyte", "8181f5470baa50b63fa0f6fddb340f0a"),
        "t10k-labels": ("t10k-labels-idx1-ubyte", "15d484375f8d13e6eb1aabb0c3f46965"),
    },
    class_names=("t-shirt", "trouser", "pullover", "dress", "coat",
                 "sandal", "shirt", "sneaker", "bag", "ankle boot"),
    env_var="GLUON_GOOGLENET_FASHION_MNIST",
    system_dir="/usr/share/datasets/fashion-mnist",
    install_hint="install it with 'apt-get install dataset-fashion-mnist' or 'gluon-googlenet data fetch "
                 "fashion-mnist', or pass --data-dir DIR",
)

MNIST = DatasetSpec(
    name="mnist",
    files={
        "train-images": ("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb"),
        "train-labels": ("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624"),
        "t10k-images": ("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea"),
        "t10k-labels": ("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637"),
    },
    class_names=tuple(str(d) for d in range(10)),
    env_var="GLUON_GOOGLENET_MNIST",
    system_dir=None,
    install_hint="fetch it with 'gluon-googlenet data fetch mnist', or pass --data-dir DIR holding the four "
                 "MNIST IDX files (gzipped or not)",
)

DATASETS = {spec.name: spec for spec in (FASHION_MNIST, MNIST)}


def get_dataset_spec(name):
    """The DatasetSpec called ``name`` ('fashion-mnist' or 'mnist')."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}") from None
