"""The IDX data sets: file names with the MD5s and sizes of their uncompressed bytes, class names,
where to look for them and where to download them from (no MXNet needed)."""
from collections import namedtuple

from ...base.errors import DataError


class DatasetSpec(namedtuple("DatasetSpec", "name files sizes class_names env_var system_dir install_hint urls")):
    """An IDX data set: file names with MD5s and byte counts (uncompressed, as published), class
    names, where to look, and the base URLs its ``.gz`` files download from (the canonical one
    first; ``{mxnet_repo}`` is MXNet's data set repository, $MXNET_GLUON_REPO respected)."""
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
    sizes={"train-images": 47040016, "train-labels": 60008, "t10k-images": 7840016, "t10k-labels": 10008},
    class_names=("t-shirt", "trouser", "pullover", "dress", "coat",
                 "sandal", "shirt", "sneaker", "bag", "ankle boot"),
    env_var="GLUON_GOOGLENET_FASHION_MNIST",
    system_dir="/usr/share/datasets/fashion-mnist",
    install_hint="install it with 'apt-get install dataset-fashion-mnist' or 'gluon-googlenet data fetch "
                 "fashion-mnist', or pass --data-dir DIR",
    urls=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # Zalando's own (its README)
          "{mxnet_repo}gluon/dataset/fashion-mnist/",                     # gluon.data.vision.FashionMNIST's
          "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),  # keras.datasets.fashion_mnist's
)

MNIST = DatasetSpec(
    name="mnist",
    files={
        "train-images": ("train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb"),
        "train-labels": ("train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624"),
        "t10k-images": ("t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea"),
        "t10k-labels": ("t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637"),
    },
    sizes={"train-images": 47040016, "train-labels": 60008, "t10k-images": 7840016, "t10k-labels": 10008},
    class_names=tuple(str(d) for d in range(10)),
    env_var="GLUON_GOOGLENET_MNIST",
    system_dir=None,
    install_hint="fetch it with 'gluon-googlenet data fetch mnist', or pass --data-dir DIR holding the four "
                 "MNIST IDX files (gzipped or not)",
    urls=("http://yann.lecun.com/exdb/mnist/",                # LeCun's own
          "https://ossci-datasets.s3.amazonaws.com/mnist/",   # torchvision.datasets.MNIST's mirror
          "{mxnet_repo}gluon/dataset/mnist/"),                 # gluon.data.vision.MNIST's
)

DATASETS = {spec.name: spec for spec in (FASHION_MNIST, MNIST)}


def get_dataset_spec(name):
    """The DatasetSpec called ``name`` ('fashion-mnist' or 'mnist')."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}") from None
