"""Shared fixtures: small IDX files written by the tests, and the real Fashion-MNIST."""
import gzip
import os
import struct

import gluon_googlenet  # noqa: F401  (sets OMP_NUM_THREADS before MXNet loads)
import numpy as np
import pytest


def write_idx(path, array, gz=False):
    """Write a uint8 array as an IDX file (gzipped when ``gz``); return the path."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    data = bytes([0, 0, 8, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    data += array.tobytes()
    opener = gzip.open if gz else open
    with opener(path, "wb") as handle:
        handle.write(data)
    return str(path)


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
    from gluon_googlenet.data import FASHION_MNIST, find_data_dir
    from gluon_googlenet.errors import DataError
    try:
        return find_data_dir(FASHION_MNIST)
    except DataError as err:
        if os.environ.get("GLUON_GOOGLENET_REQUIRE_DATA"):
            pytest.fail(f"real Fashion-MNIST required here: {err}")
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def small_run(fashion_dir, tmp_path_factory):
    """A finished two-epoch run of the d2l net on a slice of Fashion-MNIST at 32x32."""
    from gluon_googlenet.trainer import TrainConfig, train
    out = tmp_path_factory.mktemp("small_run")
    train(TrainConfig(data_dir=fashion_dir, epochs=2, resize=32, limit_train=512, limit_test=200,
                      batch_size=32, optimizer="adam", lr=1e-3, out=str(out), progress=False))
    return out


@pytest.fixture(scope="session")
def needs_bf16():
    """Skip, naming this CPU, where MXNet's oneDNN has no bfloat16 kernels."""
    from gluon_googlenet import cpu
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
