"""Device contexts: parse_ctx and its one-line errors."""
from gluon_googlenet.base.context import parse_ctx
from gluon_googlenet.base.errors import ContextError

import mxnet as mx
import pytest


def test_parse_cpu_contexts():
    assert parse_ctx("cpu") == [mx.cpu(0)]
    assert parse_ctx("cpu:0,1") == [mx.cpu(0), mx.cpu(1)]
    assert parse_ctx(" CPU ") == [mx.cpu(0)]


@pytest.mark.parametrize("spec", ["gpu", "gpu:0,1", "gpu:1"])
def test_gpu_without_gpus_is_a_clear_error(spec):
    with pytest.raises(ContextError, match="MXNet sees none"):
        parse_ctx(spec, gpus=0)


def test_gpu_lists_become_gpu_contexts_when_gpus_exist(monkeypatch):
    from gluon_googlenet.base import context
    monkeypatch.setattr(context, "gpu_capability", lambda index: 86)  # an Ampere card's answer
    assert parse_ctx("gpu", gpus=2) == [mx.gpu(0)]
    assert parse_ctx("gpu:0,1", gpus=2) == [mx.gpu(0), mx.gpu(1)]
    with pytest.raises(ContextError, match="GPU 2 does not exist"):
        parse_ctx("gpu:0,2", gpus=2)


@pytest.mark.parametrize("spec", ["tpu", "gpu:a", "cpu:0,0", "gpu:-1"])
def test_bad_context_strings(spec):
    with pytest.raises(ContextError):
        parse_ctx(spec, gpus=2)


# What the libraries carry, as their fat binaries list it: PyPI's mxnet-cu117 1.9.1 (sm_50..sm_86, no
# PTX) and a build for CUDA 12 with Hopper (NVIDIA's NGC MXNet 1.9.1 containers: also sm_90).
PYPI_WHEEL = ({50, 52, 60, 61, 70, 75, 80, 86}, set())
CUDA12_BUILD = ({52, 60, 61, 70, 75, 80, 86, 90}, set())


@pytest.mark.parametrize("build, capability, runs", [
    (PYPI_WHEEL, 50, True), (PYPI_WHEEL, 61, True), (PYPI_WHEEL, 86, True), (PYPI_WHEEL, 89, True),
    (PYPI_WHEEL, 90, False), (PYPI_WHEEL, 100, False), (PYPI_WHEEL, 35, False),
    (CUDA12_BUILD, 90, True), (CUDA12_BUILD, 89, True), (CUDA12_BUILD, 100, False), (CUDA12_BUILD, 50, False),
    (({86}, {80}), 120, True),  # PTX for sm_80: the driver compiles it for any later GPU
], ids=lambda v: "pypi" if v is PYPI_WHEEL else "cuda12" if v is CUDA12_BUILD else str(v))
def test_gpus_are_judged_by_what_the_installed_mxnet_carries(monkeypatch, build, capability, runs):
    """Both answers replaced (the GPU's capability, the library's architectures): a GPU runs when the
    library has SASS of its major at or below its minor, or PTX at or below it; otherwise one line
    naming the capability and what the library carries."""
    from gluon_googlenet.base import context
    monkeypatch.setattr(context, "gpu_capability", lambda index: capability)
    monkeypatch.setattr(context, "library_archs", lambda: build)
    if runs:
        assert context.parse_ctx("gpu:0,1", gpus=2) == [mx.gpu(0), mx.gpu(1)]
        return
    with pytest.raises(ContextError) as err:
        context.parse_ctx("gpu", gpus=1)
    message = str(err.value)
    assert message.splitlines() == [message]
    carried = ", ".join(f"sm_{a}" for a in sorted(build[0]))
    assert message.startswith(f"GPU 0 has compute capability {capability // 10}.{capability % 10} (sm_{capability}); "
                              f"the installed MXNet (1.9.1) carries kernels for {carried} and PTX for none")


def test_the_architectures_are_read_from_real_fat_binaries(tmp_path):
    """nvcc's own fat binaries (where the CUDA toolkit is installed), in a file and linked into a
    shared library as libmxnet holds them; this CPU build of MXNet carries none."""
    import shutil
    import subprocess

    from gluon_googlenet.base.context import fatbin_archs, library_archs
    assert library_archs() == (set(), set())
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("no nvcc (CUDA toolkit) to make fat binaries with")
    (tmp_path / "k.cu").write_text("__global__ void k(float* x) { x[threadIdx.x] += 1.f; }\n")
    codes = ["-gencode", "arch=compute_75,code=sm_75", "-gencode", "arch=compute_86,code=sm_86",
             "-gencode", "arch=compute_90,code=sm_90", "-gencode", "arch=compute_90,code=compute_90"]
    subprocess.run([nvcc, "--fatbin", *codes, "k.cu", "-o", "k.fatbin"], cwd=tmp_path, check=True)
    assert fatbin_archs((tmp_path / "k.fatbin").read_bytes()) == ({75, 86, 90}, {90})
    subprocess.run([nvcc, "-c", "-Xcompiler", "-fPIC", *codes[:4], "k.cu", "-o", "k.o"], cwd=tmp_path, check=True)
    subprocess.run(["gcc", "-shared", "-o", "libk.so", "k.o"], cwd=tmp_path, check=True)
    assert library_archs(str(tmp_path / "libk.so")) == ({75, 86}, set())
