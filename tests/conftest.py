"""Shared fixtures and helpers: small IDX files and image folders written by the tests, the real
Fashion-MNIST, a small finished run, the command line as a user runs it, reference counts."""
import contextlib
import dataclasses
import functools
import gzip
import http.server
import os
import struct
import subprocess
import sys
import threading

import gluon_googlenet  # noqa: F401  (sets OMP_NUM_THREADS before MXNet loads)
from gluon_googlenet.viz.summary import count_params

import mxnet as mx
import numpy as np
import pytest
from PIL import Image

# No test reaches the network: downloads on first use (data sets, published weights) go to a port
# where nothing listens unless a test serves them on loopback itself.
for _var in ("GLUON_GOOGLENET_DATA_MIRRORS", "GLUON_GOOGLENET_TORCHVISION_URL", "HF_ENDPOINT", "MXNET_GLUON_REPO"):
    os.environ[_var] = "http://127.0.0.1:9/"


def write_idx(path, array, gz=False):
    """Write a uint8 array as an IDX file (gzipped when ``gz``); return the path."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    data = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    data += array.tobytes()
    opener = gzip.open if gz else open
    with opener(path, "wb") as handle:
        handle.write(data)
    return str(path)


@contextlib.contextmanager
def serving(folder, handler=http.server.SimpleHTTPRequestHandler):
    """A loopback HTTP server of ``folder`` (``handler``: how it answers; requests unlogged) while the
    block runs: its base URL, ending in /."""
    quiet = type(handler.__name__, (handler,), {"log_message": lambda *args: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def serve():
    """serve(folder, handler=SimpleHTTPRequestHandler) -> the base URL of a loopback server of
    ``folder`` (conftest.serving), stopped after the test."""
    with contextlib.ExitStack() as servers:
        yield lambda folder, handler=http.server.SimpleHTTPRequestHandler: servers.enter_context(
            serving(folder, handler))


def make_idx_dir(folder, n_train=60, n_test=20, size=28, gz=True, seed=0):
    """Four Fashion-MNIST-named IDX files of random images and labels 0..9 in ``folder``."""
    rng = np.random.RandomState(seed)
    os.makedirs(folder, exist_ok=True)
    suffix = ".gz" if gz else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte{suffix}"),
                  rng.randint(0, 256, (n, size, size)), gz)
        write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte{suffix}"),
                  np.arange(n) % 10, gz)
    return str(folder)


@pytest.fixture(scope="session")
def fashion_dir():
    """Folder of the real, verified Fashion-MNIST; skipped (or failed, in CI) when absent."""
    from gluon_googlenet.base.errors import DataError
    from gluon_googlenet.training.data.datasets import FASHION_MNIST
    from gluon_googlenet.training.data.idx_files import find_data_dir
    try:
        return find_data_dir(FASHION_MNIST)
    except DataError as err:
        if os.environ.get("GLUON_GOOGLENET_REQUIRE_DATA"):
            pytest.fail(f"real Fashion-MNIST required here: {err}")
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def small_run(fashion_dir, tmp_path_factory):
    """A finished two-epoch run of the d2l net on a slice of Fashion-MNIST at 32x32."""
    from gluon_googlenet import TrainConfig, train
    out = tmp_path_factory.mktemp("small_run")
    train(TrainConfig(data_dir=fashion_dir, epochs=2, resize=32, limit_train=512, limit_test=200,
                      batch_size=32, optimizer="adam", lr=1e-3, out=str(out), progress=False))
    return out


@pytest.fixture(scope="session")
def executed_notebook(fashion_dir, tmp_path_factory):
    """examples/googlenet_d2l.ipynb run top to bottom once per session on a real ipykernel (quick
    settings, real Fashion-MNIST): (the executed notebook, in-place redraws per cell index, the folder
    it ran in). The notebook test checks it; the site build shows it instead of running it again."""
    import nbformat
    from nbclient import NotebookClient

    class CountingClient(NotebookClient):
        """Counts the in-place redraws (update_display_data) per cell."""
        updates = {}

        def process_message(self, msg, cell, cell_index):
            if msg["msg_type"] == "update_display_data":
                self.updates[cell_index] = self.updates.get(cell_index, 0) + 1
            return super().process_message(msg, cell, cell_index)

    folder = tmp_path_factory.mktemp("notebook")
    notebook = nbformat.read(os.path.join(ROOT, "examples", "googlenet_d2l.ipynb"), as_version=4)
    settings = notebook.cells[1]
    settings.source = settings.source.replace("DATA_DIR = None", f"DATA_DIR = {str(fashion_dir)!r}", 1)
    client = CountingClient(notebook, timeout=600, startup_timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    return notebook, dict(client.updates), folder


@pytest.fixture(scope="session")
def needs_bf16():
    """Skip, naming this CPU, where MXNet's oneDNN has no bfloat16 kernels."""
    from gluon_googlenet.base import cpu
    problem = cpu.bf16_problem(cpu.cpu_info(), cpu.mxnet_runs_bf16())
    if problem:
        pytest.skip(f"bfloat16 needs {problem}")


def find_chromium():
    """Path of a Chromium binary, or None (skip, or fail where the test command installed it)."""
    import shutil
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None and os.environ.get("GLUON_GOOGLENET_REQUIRE_BROWSER"):
        pytest.fail("chromium is required here (scripts/test.sh installs it with apt)")
    return path


@pytest.fixture(scope="session")
def torch_python():
    """Python of the PyTorch venv (torch, torchvision, timm, safetensors), for reference models;
    skipped where it is absent (failed where the test command set it up)."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    python = os.environ.get("GLUON_GOOGLENET_TORCH_PYTHON") or os.path.join(root, ".venv-torch", "bin", "python")
    probe = [python, "-c", "import sys, types; sys.modules['torchvision._meta_registrations'] = "
             "types.ModuleType('m'); import torch, torchvision, timm, safetensors"]
    ok = os.path.isfile(python) and subprocess.run(probe, capture_output=True).returncode == 0
    if not ok:
        message = f"no PyTorch venv with torchvision and timm at {python} (bash benchmarks/setup_torch.sh)"
        if os.environ.get("GLUON_GOOGLENET_REQUIRE_TORCH"):
            pytest.fail(message)
        pytest.skip(message)
    return python


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Files a user saves, written by scripts/make_fixtures.py (tests/fixtures/README.md): they must keep loading.
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SAVED = os.path.join(FIXTURES, "mnist_resnet-v1")  # .ckpt, -symbol.json, -0000.params, -io.npy


D2L_SHAPES = [("b1", (1, 64, 24, 24)), ("b2", (1, 192, 12, 12)), ("b3", (1, 480, 6, 6)),
              ("b4", (1, 832, 3, 3)), ("b5", (1, 1024, 1, 1)), ("head", (1, 10))]


def smallest_side(name, floor=16):
    """The smallest input side model ``name`` takes (its only one for fixed-size nets), at least
    ``floor``: the cheapest input that still runs every layer on maps of more than one pixel early on."""
    from gluon_googlenet import get_spec
    spec = get_spec(name)
    return spec.input_size[1] if name.startswith("mnist") else max(spec.min_size, floor)


def cheap_side(name):
    """An input side each registered model accepts at a fraction of its default's cost."""
    from gluon_googlenet import get_spec
    default = get_spec(name).input_size[1]
    return {96: 32, 224: 96, 299: 96}.get(default, default)


# Small and fast: 32x32 inputs, a few hundred images.
SMALL = dict(resize=32, limit_train=256, limit_test=128, batch_size=64, progress=False)


LOADED = ("import sys\nprint(' '.join(sorted(m for m in ('mxnet', 'matplotlib', 'gluoncv', 'PIL')"
          " if m in sys.modules)))\n")


def run_cli(*args, env=None):
    """Run the console entry point as a user would; ``env`` adds to the environment."""
    return subprocess.run([sys.executable, "-m", "gluon_googlenet", *args], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, **(env or {})))


def dict_replace(config, **changes):
    """A copy of a TrainConfig with ``changes``."""
    return dataclasses.replace(config, **changes)


def make_image_folder(root, per_class=16, size=40, seed=0):
    """Two classes a net can tell apart: a bright left half vs a bright right half, plus noise."""
    rng = np.random.RandomState(seed)
    for label, name in enumerate(("left", "right")):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            img = rng.randint(0, 60, (size, size, 3)).astype(np.uint8)
            half = slice(0, size // 2) if label == 0 else slice(size // 2, size)
            img[:, half] += 150
            Image.fromarray(img).save(folder / f"{i}.png")
    return root


def gluoncv_param_count(name, shape):
    """Trainable parameters of GluonCV's own net ``name`` (skipped where GluonCV is absent)."""
    gluoncv = pytest.importorskip("gluoncv")
    net = gluoncv.model_zoo.get_model(name)
    net.initialize()
    net(mx.nd.zeros(shape))
    return count_params(net)


def save_gluoncv_googlenet(path):
    """GluonCV's googlenet with Xavier weights, saved as its published files are; returns ``path``
    (skipped where GluonCV is absent)."""
    gluoncv = pytest.importorskip("gluoncv")
    source = gluoncv.model_zoo.get_model("googlenet", pretrained=False)
    source.initialize(mx.init.Xavier())
    source(mx.nd.zeros((1, 3, 224, 224)))
    source.save_parameters(str(path))
    return str(path)
