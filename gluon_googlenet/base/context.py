"""Device selection: ``parse_ctx('cpu' | 'gpu' | 'gpu:0,1' | 'cpu:0,1')``, GPUs checked before any kernel.

MXNet 1.9.1's CUDA wheels (mxnet-cu110 .. mxnet-cu117) carry kernels for sm_50 .. sm_86 and no
PTX. A GPU runs them when its architecture is one of those or a later minor of the same major
(Ada, sm_89, runs sm_86 code); on Hopper (sm_90) and newer MXNet still lists the device and its
first kernel crashes, so such a GPU is refused in one line. The wheels also load CUDA 11's
runtime and math libraries (cudart, cuBLAS, cuFFT, cuRAND, cuSOLVER, NVRTC), cuDNN 8
(libcudnn.so.8) and NCCL 2 (libnccl.so.2) of their CUDA version, and the driver's libcuda.so.
"""
import mxnet as mx

from .cpu import require_bf16
from .errors import ConfigError, ContextError

WHEEL_ARCHS = (50, 86)  # sm_50 .. sm_86: the kernels MXNet 1.9.1's CUDA wheels carry


def gpu_capability(index):
    """Compute capability of GPU ``index`` as an int (86 for sm_86), from the driver: no kernel runs."""
    return mx.util.get_cuda_compute_capability(mx.gpu(index))


def check_gpu_capability(index, capability):
    """ContextError naming the GPU's compute capability unless MXNet 1.9.1's kernels run on it."""
    low, high = WHEEL_ARCHS
    if capability < low or capability // 10 > high // 10:
        raise ContextError(
            f"GPU {index} has compute capability {capability // 10}.{capability % 10} (sm_{capability}); MXNet "
            f"1.9.1's CUDA wheels carry kernels for sm_{low}..sm_{high} only and no PTX, so no MXNet 1.9.1 wheel "
            "runs on it (its first kernel would crash): use a GPU from Maxwell to Ada (sm_50..sm_89), or --ctx cpu")


def check_precision(precision, ctxs):
    """ConfigError (one line) unless ``ctxs`` can run ``precision``: fp16 (AMP's float16) on GPUs,
    bf16 on a CPU whose oneDNN has it (base.cpu.require_bf16), fp32 anywhere."""
    on_gpu = all(c.device_type == "gpu" for c in ctxs)
    if precision == "fp16" and not on_gpu:
        raise ConfigError("--precision fp16 (float16 AMP) needs GPU contexts (--ctx gpu); "
                          "on a CPU use --precision bf16")
    if precision == "bf16" and on_gpu:
        raise ConfigError("--precision bf16 is MXNet's CPU path (oneDNN); on GPUs use fp16")
    if precision == "bf16":
        require_bf16("--precision bf16")


def parse_ctx(spec="cpu", gpus=None):
    """Return a list of MXNet contexts for ``spec``, checking GPUs exist before first use.

    'cpu' -> [cpu(0)]; 'gpu' -> [gpu(0)]; 'gpu:0,1' -> [gpu(0), gpu(1)];
    'cpu:0,1' -> two CPU contexts (data-parallel code paths, tested on CPU).
    ``gpus``: the number of GPUs to check against (None: as many as MXNet sees).
    """
    text = (spec or "cpu").strip().lower()
    kind, _, ids = text.partition(":")
    if kind not in ("cpu", "gpu"):
        raise ContextError(f"unknown context {spec!r}; use cpu, gpu, gpu:0,1 or cpu:0,1")
    try:
        indices = [int(i) for i in ids.split(",")] if ids else [0]
    except ValueError:
        raise ContextError(f"bad device list in {spec!r}; write e.g. gpu:0,1") from None
    if any(i < 0 for i in indices) or len(set(indices)) != len(indices):
        raise ContextError(f"device indices in {spec!r} must be distinct and >= 0")
    if kind == "cpu":
        return [mx.cpu(i) for i in indices]
    available = mx.context.num_gpus() if gpus is None else gpus
    if available == 0:
        raise ContextError(
            f"--ctx {spec} asks for a GPU but MXNet sees none (CPU build or no CUDA device); "
            "install a CUDA build (MXNET_PACKAGE=mxnet-cu117 bash scripts/setup.sh) or use --ctx cpu")
    missing = [i for i in indices if i >= available]
    if missing:
        raise ContextError(f"--ctx {spec}: GPU {missing[0]} does not exist; MXNet sees {available} GPU(s)")
    for i in indices:
        check_gpu_capability(i, gpu_capability(i))
    return [mx.gpu(i) for i in indices]
