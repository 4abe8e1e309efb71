import os

from setuptools import find_packages, setup


def _pinned(name):
    """The requirement lines of ``name`` beside this file (comments left out)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


setup(
    name="gluon-googlenet",
    version="0.1.0",
    description="GoogLeNet (Inception v1) and its family as MXNet Gluon HybridBlocks, "
                "with the d2l Fashion-MNIST trainer",
    long_description=open("README.md", encoding="utf-8").read() if __import__("os").path.exists("README.md") else "",
    long_description_content_type="text/markdown",
    packages=find_packages(include=["gluon_googlenet", "gluon_googlenet.*"]),
    package_data={"gluon_googlenet.weights": ["imagenet1k_classes.txt", "names/*.json"]},
    python_requires="==3.11.*",
    install_requires=["numpy<1.24", "matplotlib", "tqdm", "Pillow", "safetensors"],
    # MXNet is not a hard requirement, so a CUDA build (mxnet-cu117) can stand in for it.
    # GluonCV is the outside reference the tests compare our nets with; the package itself
    # does not import it.
    extras_require={"cpu": ["mxnet==1.9.1"], "onnx": ["onnx==1.14.1"],
                    # examples/googlenet_d2l.ipynb: Jupyter and the kernel it runs on
                    "notebook": ["notebook==7.6.5", "ipykernel==7.4.0"],
                    "test": ["pytest", "gluoncv>=0.10.5"],
                    # the documentation site (docs/, scripts/docs.sh)
                    "docs": _pinned("requirements-docs.txt")},
    entry_points={"console_scripts": ["gluon-googlenet=gluon_googlenet.cli:main"]},
    license="MIT",
)
