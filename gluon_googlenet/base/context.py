"""Device selection: ``parse_ctx('cpu' | 'gpu' | 'gpu:0,1' | 'cpu:0,1')``, GPUs checked before any kernel.

A GPU runs MXNet's kernels when the loaded libmxnet carries machine code (SASS) for its
architecture's major version at or below its minor (Ada, sm_89, runs sm_86 code), or PTX of an
architecture at or below it (the driver compiles it). Which it carries is read from the library
itself, its fat binaries (``library_archs``): PyPI's CUDA wheels of 1.9.1 (mxnet-cu110 ..
mxnet-cu117) carry sm_50 .. sm_86 and no PTX, NVIDIA's NGC builds of 1.9.1 for CUDA 12 also
sm_90 (Hopper). A GPU the library has no code for is refused in one line naming what it carries
(MXNet would list the device and crash at its first kernel). The wheels also load CUDA 11's
runtime and math libraries (cudart, cuBLAS, cuFFT, cuRAND, cuSOLVER, NVRTC), cuDNN 8
(libcudnn.so.8) and NCCL 2 (libnccl.so.2) of their CUDA version, and the driver's libcuda.so.
CUDA is built for, not run, in this project's tests (no GPU there): these checks are tested with
the device queries replaced.
"""
import functools
import mmap
import struct

import mxnet as mx

from .cpu import require_bf16
from .errors import ConfigError, ContextError

FATBIN_MAGIC = b"\x50\xed\x55\xba"  # a CUDA fat binary's header (0xBA55ED50, little-endian)
SASS, PTX = 2, 1                      # a fat binary entry's kind: machine code (an ELF cubin), PTX


def gpu_capability(index):
    """Compute capability of GPU ``index`` as an int (86 for sm_86), from the driver: no kernel runs."""
    return mx.util.get_cuda_compute_capability(mx.gpu(index))


def fatbin_archs(data):
    """({SASS architectures}, {PTX architectures}) of the CUDA fat binaries in ``data`` (bytes or
    mmap): each fat binary is a 16-byte header (magic, version, header size, size) and entries of
    a header (kind u16, version u16, header size u32, payload size u64, ..., architecture u32 at 28)
    and a payload."""
    found = {SASS: set(), PTX: set()}
    start = data.find(FATBIN_MAGIC)
    while start >= 0:
        version, header, size = struct.unpack_from("<HHQ", data, start + 4)
        if version == 1 and header == 16:
            entry, end = start + header, start + header + size
            while entry + 32 <= min(end, len(data)):
                kind, _, entry_header, payload = struct.unpack_from("<HHIQ", data, entry)
                if kind in found:
                    found[kind].add(struct.unpack_from("<I", data, entry + 28)[0])
                if entry_header < 32:
                    break
                entry += entry_header + payload
        start = data.find(FATBIN_MAGIC, start + 4)
    return found[SASS], found[PTX]


@functools.lru_cache(maxsize=None)
def library_archs(path=None):
    """(SASS, PTX) architectures the loaded libmxnet (or the library at ``path``) carries, read
    once per process; (empty, empty) for a CPU build."""
    path = path or mx.libinfo.find_lib_path()[0]
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return fatbin_archs(data)


def _archs_text(archs):
    return ", ".join(f"sm_{a}" for a in sorted(archs)) or "none"


def check_gpu_capability(index, capability, archs=None):
    """ContextError naming the GPU's compute capability and what the library carries unless the
    loaded MXNet has code that runs on it; ``archs``: (SASS, PTX) sets (default: library_archs())."""
    sass, ptx = archs if archs is not None else library_archs()
    if not sass and not ptx:
        return  # no fat binary found: nothing to judge by, MXNet reports what it cannot run
    runs = any(a // 10 == capability // 10 and a <= capability for a in sass) or any(a <= capability for a in ptx)
    if not runs:
        raise ContextError(
            f"GPU {index} has compute capability {capability // 10}.{capability % 10} (sm_{capability}); the "
            f"installed MXNet ({mx.__version__}) carries kernels for {_archs_text(sass)} and PTX for "
            f"{_archs_text(ptx)}, none of which runs on it (its first kernel would crash): use an MXNet "
            "built for it (NVIDIA's NGC MXNet containers for Hopper) or --ctx cpu")


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


def split_ctx(spec):
    """(kind, device indices) of a --ctx ``spec``: ('gpu', [0, 1]) for 'gpu:0,1', ('gpu', None)
    for 'gpu' (no list given); ContextError, one line, for a spec that is neither."""
    text = (spec or "cpu").strip().lower()
    kind, _, ids = text.partition(":")
    if kind not in ("cpu", "gpu"):
        raise ContextError(f"unknown context {spec!r}; use cpu, gpu, gpu:0,1 or cpu:0,1")
    try:
        indices = [int(i) for i in ids.split(",")] if ids else None
    except ValueError:
        raise ContextError(f"bad device list in {spec!r}; write e.g. gpu:0,1") from None
    if indices and (any(i < 0 for i in indices) or len(set(indices)) != len(indices)):
        raise ContextError(f"device indices in {spec!r} must be distinct and >= 0")
    return kind, indices


def parse_ctx(spec="cpu", gpus=None):
    """Return a list of MXNet contexts for ``spec``, checking GPUs exist before first use.

    'cpu' -> [cpu(0)]; 'gpu' -> [gpu(0)]; 'gpu:0,1' -> [gpu(0), gpu(1)];
    'cpu:0,1' -> two CPU contexts (data-parallel code paths, tested on CPU).
    ``gpus``: the number of GPUs to check against (None: as many as MXNet sees).
    """
    kind, listed = split_ctx(spec)
    indices = listed or [0]
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
