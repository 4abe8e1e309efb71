"""AMX (Intel Xeon 4th generation and later): detection, the kernel's permission, the process-wide
switch for MXNet's oneDNN with its guards, and the precision advice per CPU.

MXNet 1.9.1's oneDNN (2.4.4) runs AMX kernels only under ``DNNL_MAX_CPU_ISA=AVX512_CORE_AMX``, read
once per process before its first primitive, and only after the process asked Linux (5.16+) for
AMX tile data (``arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)``; without it the first AMX
instruction is a SIGILL). bf16 inference gains from AMX at the same test accuracy, while bf16 training
and INT8 crash inside oneDNN under that setting (measured on a Xeon with AMX: docs/speed.md, "CPUs").
So AMX is
for a process that does bf16 inference and nothing else: ``enable_amx`` switches it on before
MXNet loads, and training and INT8 refuse to run in such a process.
"""
import ctypes
import functools
import os
import platform
import sys
from collections import namedtuple

from .cpu import CAP_VARIABLE, cpu_info
from .errors import CpuFeatureError

AMX_CAP = "AVX512_CORE_AMX"
_SYS_ARCH_PRCTL, _ARCH_REQ_XCOMP_PERM, _XFEATURE_XTILEDATA = 158, 0x1023, 18  # x86-64 Linux


@functools.lru_cache(maxsize=1)
def request_amx_permission():
    """Ask Linux for AMX tile data for this process; True when granted (False elsewhere)."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(_SYS_ARCH_PRCTL, _ARCH_REQ_XCOMP_PERM, _XFEATURE_XTILEDATA) == 0
    except (OSError, AttributeError):
        return False


def amx_ready(info=None, permission=request_amx_permission):
    """True on a CPU with AMX whose kernel grants this process AMX tile data."""
    return "AMX" in (info or cpu_info()).os_features and permission()


def amx_on():
    """True when this process's oneDNN is capped at AMX (AMX kernels allowed)."""
    return os.environ.get(CAP_VARIABLE, "").strip().upper() == AMX_CAP


def enable_amx(info=None, permission=request_amx_permission):
    """Let MXNet's oneDNN use AMX in this process, for bf16 inference only (fast.bfloat16).

    Call it first, before MXNet loads: oneDNN reads its ISA cap once, so CpuFeatureError (one
    line) once ``mxnet`` is imported, and on a CPU without AMX or without the kernel's permission.
    The process must then train nothing and quantise nothing to INT8 (refuse_amx guards both).
    """
    info = info or cpu_info()
    if "mxnet" in sys.modules:
        raise CpuFeatureError("enable_amx() must run before MXNet loads (its oneDNN reads DNNL_MAX_CPU_ISA once "
                              "per process): call it first, in a process that does bf16 inference only")
    if not amx_ready(info, permission):
        raise CpuFeatureError(f"AMX needs a CPU with AMX and Linux 5.16+ granting AMX tile data (this one: "
                              f"{info.describe()}); bf16 inference runs without it, on AVX512_BF16")
    os.environ[CAP_VARIABLE] = AMX_CAP


def amx_for_bf16_inference(info=None, permission=request_amx_permission):
    """In a process that will do bf16 inference and nothing else (``predict`` / ``evaluate
    --precision bf16``, the benchmark's bf16 inference case), before MXNet loads: where the user
    has asked for AMX (DNNL_MAX_CPU_ISA=AVX512_CORE_AMX set before the command) and this CPU and
    kernel allow it, ask Linux for AMX tile data; return whether AMX is on. Unasked it stays off
    and bf16 runs on AVX512_BF16: MXNet 1.9.1's oneDNN crashes under AMX on some shapes (googlenet
    at 96x96, a segmentation fault, on a 2-core Xeon with AMX; at 64 and 224 it ran)."""
    info = info or cpu_info()
    if not amx_on() or "mxnet" in sys.modules:
        return False
    return amx_ready(info, permission)


def bf16_engine(info=None):
    """Where this process's bf16 runs, in words: AMX, or AVX512_BF16 and why not AMX."""
    info = info or cpu_info()
    if amx_on():
        return f"AMX ({info.describe()})"
    why = (f"AMX is off: MXNet 1.9.1's oneDNN crashes under it on some shapes; {CAP_VARIABLE}={AMX_CAP} "
           "before the command asks for it" if "AMX" in info.os_features else "no AMX on this CPU")
    return f"AVX512_BF16 ({why}; {info.describe()})"


def refuse_amx(what):
    """CpuFeatureError (one line) when AMX is on in this process: ``what`` (training, INT8) crashes
    inside MXNet 1.9.1's oneDNN under it."""
    if amx_on():
        raise CpuFeatureError(f"{what} cannot run with {CAP_VARIABLE}={AMX_CAP}: MXNet 1.9.1's oneDNN crashes "
                              "in bf16 training and INT8 under it; run it in a process without that setting")


Advice = namedtuple("Advice", "bf16 int8 training inference note")
Advice.__doc__ = ("Precisions that run natively on a CPU (bf16: AMX / AVX512_BF16 / none; INT8: AMX / VNNI / "
                  "none), the fastest for training and for inference here, and why.")


def precision_advice(info=None):
    """The documented rule (the figures behind it: benchmarks/RESULTS.md): bf16 training beats fp32
    with AVX512_BF16 and no AMX, but loses on AMX CPUs, whose AMX oneDNN 2.4.4 leaves off for
    training; INT8 inference is the fastest wherever it was measured, with VNNI or without."""
    feats = (info or cpu_info()).features
    bf16 = "AMX" if "AMX" in feats else "AVX512_BF16" if "AVX512_BF16" in feats else "none"
    int8 = "AMX" if "AMX" in feats else "VNNI" if {"AVX512_VNNI", "AVX-VNNI"} & feats else "none"
    training = "bf16" if bf16 == "AVX512_BF16" else "fp32"
    note = ("bf16 training is slower than fp32 on this CPU (AMX is off for training in MXNet 1.9.1's oneDNN; "
            "benchmarks/RESULTS.md has the figures): use --precision fp32") if bf16 == "AMX" else None
    return Advice(bf16, int8, training, "int8 (fast.int8; bf16 with AMX where calibration is not wanted)"
                  if bf16 == "AMX" else "int8 (fast.int8)", note)
