"""What to install when a module is missing: one line the command line prints instead of an import
traceback. MXNet is not a hard requirement of the package metadata, so that a CUDA build (mxnet-cu1xx,
NVIDIA's containers) is never joined by a second, CPU build; the extra ``[cpu]`` brings the CPU one."""
import sys

MXNET_ROUTES = ("pip install 'mxnet==1.9.1' for the CPU build (or install this package with the extra [cpu]; "
                "on Python 3.13: pip install --no-deps mxnet==1.9.1), or a CUDA build such as "
                "'mxnet-cu117==1.9.1' (docs/getting-started.md, 'On a GPU')")
# module -> (what it is for, what to install); the package's own dependencies first, then its extras'.
INSTALL = {
    "numpy": ("a dependency", "numpy"), "tqdm": ("a dependency", "tqdm"),
    "matplotlib": ("a dependency", "matplotlib"), "PIL": ("a dependency", "Pillow"),
    "safetensors": ("a dependency", "safetensors"),
    "distutils": ("what MXNet 1.9.1 imports (Python 3.12 dropped it)", "setuptools"),
    "onnx": ("the extra onnx", "'gluon-googlenet[onnx]'"),
    "gluoncv": ("the extra gluoncv", "'gluon-googlenet[gluoncv]'"),
    "nbclient": ("the extra notebook", "'gluon-googlenet[notebook]'"),
    "graphviz": ("what MXNet's plot_network imports", "graphviz"),
}


def missing_module_message(err):
    """One line for a ModuleNotFoundError ``err``: which module, and what to install."""
    name = (err.name or str(err)).split(".")[0]
    where = f"this Python ({sys.executable})"
    if name == "mxnet":
        return f"MXNet is not installed in {where}: {MXNET_ROUTES}"
    role, package = INSTALL.get(name, (None, name))
    if role == "a dependency":
        return (f"{name} is missing in {where}, a dependency of gluon-googlenet (was it installed with "
                f"--no-deps?): pip install {package}")
    return f"{name} is missing in {where}" + (f", {role}" if role else "") + f": pip install {package}"
