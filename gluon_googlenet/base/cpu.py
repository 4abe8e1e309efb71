"""What this CPU can run: ISA flags from the OS, oneDNN's ISA cap, and a probe of MXNet.

The OS says what the silicon has (``/proc/cpuinfo``); ``DNNL_MAX_CPU_ISA`` caps what
MXNet's oneDNN (v2.4.4) may use (``AVX2`` makes an AVX-512 machine behave like an AVX2
one); a one-off bfloat16 convolution asks MXNet itself, which is the final word.
Nothing here imports MXNet until a probe or a version is asked for.
"""
import contextlib
import functools
import os
import platform
from dataclasses import dataclass, field

from .errors import CpuFeatureError
from .threads import usable_cores

# Feature names we report -> the /proc/cpuinfo flags that stand for them (any one suffices).
FEATURES = {
    "AVX2": ("avx2",),
    "AVX-512": ("avx512f",),
    "AVX512_BF16": ("avx512_bf16",),
    "AVX512_VNNI": ("avx512_vnni",),
    "AVX-VNNI": ("avx_vnni",),
    "AMX": ("amx_tile", "amx_bf16", "amx_int8"),
}

# oneDNN's DNNL_MAX_CPU_ISA values, lowest first, and the features each one allows.
ISA_CAPS = {
    "SSE41": (),
    "AVX": (),
    "AVX2": ("AVX2",),
    "AVX2_VNNI": ("AVX2", "AVX-VNNI"),
    "AVX512_CORE": ("AVX2", "AVX-512"),
    "AVX512_CORE_VNNI": ("AVX2", "AVX-512", "AVX512_VNNI", "AVX-VNNI"),
    "AVX512_CORE_BF16": ("AVX2", "AVX-512", "AVX512_VNNI", "AVX-VNNI", "AVX512_BF16"),
    "AVX512_CORE_AMX": ("AVX2", "AVX-512", "AVX512_VNNI", "AVX-VNNI", "AVX512_BF16", "AMX"),
}
# The variable MXNet's oneDNN 2.4.4 reads (measured: it ignores ONEDNN_MAX_CPU_ISA, which only
# newer oneDNN builds such as PyTorch's read).
CAP_VARIABLE = "DNNL_MAX_CPU_ISA"


@dataclass(frozen=True)
class CpuInfo:
    """This CPU as the OS reports it, and oneDNN's ISA cap (None: no cap)."""
    model: str
    cores: int
    os_features: frozenset = field(default_factory=frozenset)
    isa_cap: str = None

    @property
    def features(self):
        """Features MXNet's oneDNN may use: the OS's, less what the cap forbids."""
        if self.isa_cap is None or self.isa_cap not in ISA_CAPS:
            return self.os_features
        return self.os_features & frozenset(ISA_CAPS[self.isa_cap])

    def describe(self):
        """One phrase, e.g. 'AMD EPYC, AVX-512 with AVX512_BF16, AVX512_VNNI, capped at AVX2'."""
        feats = self.features
        if "AVX-512" in feats:
            extra = [f for f in ("AVX512_BF16", "AVX512_VNNI", "AMX") if f in feats]
            isa = "AVX-512" + (" with " + ", ".join(extra) if extra else "")
        elif "AVX2" in feats:
            isa = "AVX2" + (" with AVX-VNNI" if "AVX-VNNI" in feats else "")
        else:
            isa = "no AVX2"
        cap = f", capped at {self.isa_cap} by DNNL_MAX_CPU_ISA" if self.isa_cap else ""
        return f"{self.model}, {isa}{cap}"


def _os_cpu():
    """(model name, set of FEATURES names) from /proc/cpuinfo; without it, the platform's
    processor name (or 'unknown CPU') and no features."""
    model, flags = None, set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model is None:
                    model = value.strip() or None
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    model = model or platform.processor() or "unknown CPU"
    return model, {name for name, marks in FEATURES.items() if flags.intersection(marks)}


@functools.lru_cache(maxsize=1)
def cpu_info():
    """This machine's CpuInfo (read once per process)."""
    model, feats = _os_cpu()
    cap = os.environ.get(CAP_VARIABLE, "").strip().upper() or None
    return CpuInfo(model, usable_cores(), frozenset(feats), None if cap in (None, "ALL") else cap)


@contextlib.contextmanager
def _quiet_stderr():
    """Silence file descriptor 2 (MXNet's C++ log lines) for the duration."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@functools.lru_cache(maxsize=1)
def mxnet_runs_bf16():
    """True when MXNet here runs a bfloat16 convolution (oneDNN has kernels for this CPU)."""
    import mxnet as mx
    import numpy as np
    bf16 = np.dtype([("bfloat16", np.uint16)])
    try:
        with _quiet_stderr():
            x = mx.nd.amp_cast(mx.nd.ones((1, 4, 6, 6)), dtype=bf16)
            w = mx.nd.amp_cast(mx.nd.ones((4, 4, 3, 3)), dtype=bf16)
            y = mx.nd.Convolution(x, w, kernel=(3, 3), num_filter=4, no_bias=True)
            value = float(y.astype("float32").asnumpy().ravel()[0])
    except mx.base.MXNetError:
        return False
    return value == 36.0


def bf16_problem(info, mxnet_ok):
    """Why bfloat16 cannot run on ``info`` given MXNet's probe answer; None when it can."""
    if mxnet_ok:
        return None
    why = ""
    if "AVX512_BF16" in info.features:
        why = "; MXNet's oneDNN could not run a bfloat16 convolution on it"
    return f"a CPU with AVX512_BF16 (this one: {info.describe()}{why})"


def require_bf16(what="--precision bf16", info=None, mxnet_ok=None):
    """CpuFeatureError (one line, naming ``what`` and this CPU) unless bfloat16 runs here."""
    info = info or cpu_info()
    problem = bf16_problem(info, mxnet_runs_bf16() if mxnet_ok is None else mxnet_ok)
    if problem:
        raise CpuFeatureError(f"{what} needs {problem}; use fp32")


def threads_in_use():
    """OpenMP threads MXNet runs with: OMP_NUM_THREADS, or 1 (MXNet's default here) when unset."""
    value = os.environ.get("OMP_NUM_THREADS")
    return int(value) if value and value.isdigit() else 1


CPU_TIME_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def cpu_times(path="/proc/stat"):
    """This machine's CPU time so far as a dict of jiffies (user, nice, system, idle, iowait, irq,
    softirq, steal), summed over its CPUs, from Linux's ``path``; None where there is no such file."""
    try:
        with open(path, encoding="ascii") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    return dict(zip(CPU_TIME_FIELDS, (int(value) for value in fields[1:len(CPU_TIME_FIELDS) + 1])))


def stolen_share(before, after):
    """The share of CPU time a hypervisor gave to other guests between two cpu_times() readings
    (Linux's "steal": time this VM's CPUs were ready but not running); None when unknown."""
    if not before or not after:
        return None
    spent = {name: after.get(name, 0) - before.get(name, 0) for name in CPU_TIME_FIELDS}
    total = sum(spent.values())
    return spent["steal"] / total if total > 0 else None


def stolen_note(share):
    """', the host took N% of the CPU time' when ``share`` (stolen_share) is 1 % or more, else ''."""
    return f", the host took {share:.0%} of the CPU time" if share is not None and share >= 0.01 else ""


def machine_record(probe=True):
    """A dict naming this machine for benchmark results and ``gluon-googlenet info``."""
    info = cpu_info()
    record = {"cpu_model": info.model, "cores": info.cores, "omp_threads": threads_in_use(),
              "os_isa_features": sorted(info.os_features), "isa_cap": info.isa_cap,
              "isa_features": sorted(info.features), "isa": info.describe(),
              "machine": platform.machine(), "python": platform.python_version()}
    if probe:
        import mxnet as mx
        record.update({
            "mxnet": mx.__version__,
            "mxnet_features": sorted(f.name for f in mx.runtime.Features().values() if f.enabled),
            "gpus": mx.context.num_gpus(),
            "bf16": mxnet_runs_bf16(),
        })
    return record
