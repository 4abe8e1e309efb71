import os

from setuptools import find_packages, setup


def _pinned(name):
    """The requirement lines of ``name`` beside this file (comments left out); the versions of each
    Python are in requirements/py3.X.txt, which scripts/setup.sh installs with."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


def _text(name):
    """The text of ``name`` beside this file, or '' where an sdist left it out."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    return open(path, encoding="utf-8").read() if os.path.exists(path) else ""


setup(
    name="gluon-googlenet",
    version="0.1.0",
    description="GoogLeNet (Inception v1) and its family as MXNet Gluon HybridBlocks, "
                "with the d2l Fashion-MNIST trainer",
    long_description=_text("README.md"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["gluon_googlenet", "gluon_googlenet.*"]),
    package_data={"gluon_googlenet.weights": ["imagenet1k_classes.txt", "names/*.json"]},
    license_files=["LICENSE"],
    python_requires=">=3.9,<3.14",
    # MXNet is not required here, so that a CUDA build (mxnet-cu117, NVIDIA's containers) is never
    # joined by a second build that overwrites its 'mxnet' module: the extra [cpu] brings the CPU
    # build, [cu112] / [cu117] a CUDA one; with MXNet already installed, no extra. MXNet 1.9.1 imports
    # with numpy<1.24; Python 3.12 has no such wheel, so there numpy 1.26 with the two aliases MXNet
    # still uses restored (gluon_googlenet/base/numpy_aliases.py).
    # Python 3.13 has no numpy 1.x: there numpy 2 with the names MXNet reads put back (the same module), and
    # MXNet, whose metadata says numpy<2, installed with --no-deps (scripts/setup.sh; getting-started).
    install_requires=["numpy>=1.16,<1.24; python_version<'3.12'",
                      "numpy>=1.24,<2; python_version=='3.12'",
                      "numpy>=2,<2.3; python_version>='3.13'",
                      # Python 3.12 has no distutils, which MXNet imports (numpy_dispatch_protocol.py,
                      # LooseVersion); setuptools puts its copy in its place
                      "setuptools; python_version>='3.12'",
                      # what MXNet itself requires, for 3.13's --no-deps install of it
                      "requests; python_version>='3.13'", "graphviz<0.9; python_version>='3.13'",
                      "matplotlib", "tqdm", "Pillow", "safetensors"],
    # Each extra is named in the one-line error of the verb that needs it.
    extras_require={
        "cpu": ["mxnet==1.9.1; python_version<'3.13'"],  # 3.13: pip install --no-deps mxnet==1.9.1
        "cu112": ["mxnet-cu112==1.9.1"],
        "cu117": ["mxnet-cu117==1.9.1"],
        # pretrained="gluoncv" (GluonCV's model store) and the tests' outside reference; gluoncv pins
        # its own numpy, so it goes in beside the pinned numpy (scripts/setup.sh: one pip command)
        "gluoncv": ["gluoncv==0.10.5.post0"],
        # MXNet 1.9.1's exporter reads onnx.mapping, which onnx 1.16 removed; onnx 1.14 has no wheel for
        # Python 3.12, where 1.16+ runs with the table put back (weights/export.py)
        "onnx": ["onnx==1.14.1; python_version<'3.12'", "onnx==1.17.0; python_version=='3.12'",
                 "onnx==1.18.0; python_version>='3.13'"],
        # examples/googlenet_d2l.ipynb: Jupyter and the kernel it runs on
        "notebook": ["notebook; python_version>='3.10'", "ipykernel"],  # 3.9: requirements/test.txt says why
        "test": ["pytest", "pytest-xdist"],
        # the documentation site (docs/, scripts/docs.sh)
        "docs": _pinned("requirements/docs.txt"),
        # launch on several hosts: ps-lite's scheduler comes with MXNet; ssh and mpirun from the OS
    },
    entry_points={"console_scripts": ["gluon-googlenet=gluon_googlenet.cli:main"]},
    license="MIT",
)
