"""MXNet against the peers a user weighs, like for like, each pair interleaved over rounds.

Training: PyTorch eager fp32 channels_last, PyTorch bf16 autocast (beside MXNet bf16 AMP) and
torch.compile (reported, no target). Inference: ONNX Runtime on the package's own ONNX export,
fp32 and static INT8 (QDQ) calibrated on the same images as MXNet's INT8, with the accuracy of
each on the d2l net's 10,000 test images. Every case runs in a fresh process with the same
thread count; each pair runs A B A B ... for --rounds rounds, and a target counts as met only
when every round's ratio reaches it ("not settled" when the range crosses it). The machine's
SGEMM rate, measured in the same run, gives each MXNet row its FLOP limit: images/s x GFLOP per
image (mult-adds from the registry x 2; training x 3) / SGEMM GFLOP/s.
    python benchmarks/peers.py [--models googlenet_d2l,inception_v3] [--rounds 5] [--isa AVX2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

# Per model: batch, (steps, windows) per timing for training and inference, peer model name,
# calibration images (default --calib-count: the d2l net's are Fashion-MNIST's first training
# images; inception_v3 has random weights and seeded noise, for speed only).
SETTINGS = {
    "googlenet_d2l": {"batch": 128, "train": (4, 2), "infer": (5, 2), "torch": "d2l"},
    "inception_v3": {"batch": 32, "train": (2, 1), "infer": (3, 1), "torch": "inception_v3", "calib": 64},
}
# (row, MXNet case, peer, target on MXNet/peer, FLOP kind)
PAIRS = [
    ("fp32 training", "train-hybrid", "torch channels_last", 1.2, "train"),
    ("bf16 training", "train-bf16", "torch bf16 autocast", 1.2, "train"),
    ("fp32 inference", "infer-fused", "onnxruntime fp32", 1.0, "infer"),
    ("INT8 inference", "infer-int8", "onnxruntime INT8 (QDQ)", 1.2, "infer"),
    # MXNet bf16 inference runs on AMX where the CPU has it (measure_mxnet.py): the 1.3 is for AMX CPUs
    ("bf16 inference", "infer-bf16", "torch bf16 autocast infer", 1.3, "infer"),
    ("bf16 inference", "infer-bf16", "onnxruntime fp32", 1.0, "infer"),
]
AMX_ONLY_TARGET = "bf16 inference"
LINE_TARGET = ("fp32 training", 0.9)  # MXNet's fraction of the SGEMM line
MAX_ACCURACY_LOSS = 0.5  # points, INT8 against fp32


def verdict(values, target):
    """'met' when every round reaches ``target``, 'missed' when none does, else 'not settled'."""
    if min(values) >= target:
        return "met"
    if max(values) < target:
        return "missed"
    return "not settled"


def summary(values):
    """(median, min, max) of a list of per-round figures."""
    return statistics.median(values), min(values), max(values)


class Runner:
    """Runs one case in a fresh process with the thread count and ISA cap of the run."""

    def __init__(self, threads, isa, torch_python):
        self.threads, self.torch_python = threads, torch_python
        self.env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONWARNINGS="ignore")
        if isa:
            # OpenBLAS (MXNet's dot, numpy) picks its kernels by CPU type: Haswell is its AVX2 one.
            self.env.update(DNNL_MAX_CPU_ISA=isa, ONEDNN_MAX_CPU_ISA=isa, OPENBLAS_CORETYPE="Haswell",
                            ATEN_CPU_CAPABILITY="avx2")

    def __call__(self, cmd, timeout=1800):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=timeout, cwd=ROOT)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            raise RuntimeError(f"{' '.join(cmd[1:4])} failed: {proc.stderr.strip()[-600:]}")
        return json.loads(lines[-1])

    def mxnet(self, case, model, *extra):
        return self([sys.executable, os.path.join(HERE, "measure_mxnet.py"), case, "--model", model, *extra])

    def peer(self, script, *args):
        return self([self.torch_python, os.path.join(HERE, script), *args])


def case_commands(model, files, run):
    """{case name: zero-argument callable giving images/s} for MXNet's cases and the peers'."""
    s = SETTINGS[model]
    batch = str(s["batch"])

    def timing(kind):
        return ["--steps", str(s[kind][0]), "--repeats", str(s[kind][1])]

    def torch(*flags):
        return lambda: run.peer("torch_googlenet.py", "--mode", "train", "--model", s["torch"], "--channels-last",
                                "--threads", str(run.threads), "--batch", batch, *timing("train"), *flags)

    def ort(onnx):
        return lambda: run.peer("measure_ort.py", "infer", "--onnx", onnx, "--batch", batch,
                                "--threads", str(run.threads), *timing("infer"))

    def mx(case, *extra):
        kind = "train" if case.startswith("train") else "infer"
        return lambda: run.mxnet(case, model, "--batch", batch, *timing(kind), *extra)
    weights = ["--weights", files["params"]]
    return {
        "train-hybrid": mx("train-hybrid"), "train-bf16": mx("train-bf16"),
        "infer-fused": mx("infer-fused", *weights),
        "infer-int8": mx("infer-int8", *weights, "--calib", files["calib"]),
        "infer-bf16": mx("infer-bf16", *weights),
        "torch bf16 autocast infer": lambda: run.peer(
            "torch_googlenet.py", "--mode", "infer", "--model", s["torch"], "--channels-last", "--bf16",
            "--threads", str(run.threads), "--batch", batch, *timing("infer")),
        "torch channels_last": torch(), "torch bf16 autocast": torch("--bf16"),
        "torch.compile": torch("--compile"),
        "onnxruntime fp32": ort(files["onnx"]), "onnxruntime INT8 (QDQ)": ort(files["int8"]),
    }


def interleave(a, b, rounds, label):
    """A B A B ...: per round A's and B's images/s."""
    pairs = []
    for i in range(rounds):
        pairs.append((a()["images_per_sec"], b()["images_per_sec"]))
        print(f"  {label}, round {i + 1}/{rounds}: {pairs[-1][0]:.1f} vs {pairs[-1][1]:.1f} images/s",
              file=sys.stderr)
    return pairs


def accuracy(model, files, run):
    """Test accuracy of MXNet fp32 / INT8 and ONNX Runtime fp32 / INT8 on the prepared test set."""
    if "test" not in files:
        return {}
    s = SETTINGS[model]
    test = ["--test", files["test"], "--steps", "1", "--repeats", "1"]
    return {
        "MXNet fp32": run.mxnet("infer-fused", model, "--batch", str(s["batch"]), "--weights", files["params"],
                                *test)["test_acc"],
        "MXNet INT8": run.mxnet("infer-int8", model, "--batch", str(s["batch"]), "--weights", files["params"],
                                "--calib", files["calib"], *test)["test_acc"],
        "onnxruntime fp32": run.peer("measure_ort.py", "infer", "--onnx", files["onnx"], *test)["test_acc"],
        "onnxruntime INT8": run.peer("measure_ort.py", "infer", "--onnx", files["int8"], *test)["test_acc"],
    }


def gflop_per_image(model):
    """Forward and training GFLOP per image at the model's default input (registry mult-adds x 2)."""
    from gluon_googlenet import get_spec
    forward = 2 * get_spec(model).mult_adds / 1e9
    return {"infer": forward, "train": 3 * forward}


def failure(err):
    """A failed case's last error line, for its row."""
    return "failed: " + str(err).splitlines()[-1][:120]


def bench_model(model, args, run, bf16):
    """Rows of one model: per pair the per-round figures, ratios and verdict."""
    files = run.mxnet("prepare", model, "--work", args.work, "--checkpoint", args.checkpoint,
                      "--calib-count", str(SETTINGS[model].get("calib", args.calib_count)))
    files["int8"] = os.path.join(args.work, f"{model}-int8.onnx")
    run.peer("measure_ort.py", "quantize", "--onnx", files["onnx"], "--calib", files["calib"], "--out",
             files["int8"], "--batch", str(SETTINGS[model]["batch"]))
    cases = case_commands(model, files, run)
    rows = []
    for label, mx_case, peer, target, kind in PAIRS:
        if args.rows and label not in args.rows.split(","):
            continue
        row = {"model": model, "row": label, "mxnet": mx_case, "peer": peer, "target": target, "kind": kind}
        if "bf16" in label and not bf16:
            row["skipped"] = "no AVX512_BF16 for MXNet's oneDNN here"
            rows.append(row)
            continue
        try:
            pairs = interleave(cases[mx_case], cases[peer], args.rounds, f"{model} {label}")
        except RuntimeError as err:  # one failed case costs its row, not the run
            print(f"  {model} {label}: {err}", file=sys.stderr)
            row["skipped"] = failure(err)
            rows.append(row)
            continue
        ratios = [a / b for a, b in pairs]
        row.update(mx_rates=[a for a, _ in pairs], peer_rates=[b for _, b in pairs], ratios=ratios,
                   verdict=verdict(ratios, target))
        if label == AMX_ONLY_TARGET and not _has_amx():
            row["verdict"] = "no AMX here"
        rows.append(row)
    if args.compile_rounds:
        rows.append(compile_row(model, cases["torch.compile"], args.compile_rounds))
    return rows, accuracy(model, files, run) if args.accuracy else {}


def _has_amx():
    from gluon_googlenet.base.cpu import cpu_info
    return "AMX" in cpu_info().os_features


def add_limits(rows, flops, line):
    """Each measured row's rates as fractions of the FLOP limit (``line`` GFLOP/s over the
    model's GFLOP per image), and the verdict on LINE_TARGET's row."""
    for r in rows:
        per_image = flops[r["model"]][r["kind"]] / line
        for rates, fractions in (("mx_rates", "line_fractions"), ("peer_rates", "peer_line_fractions")):
            if rates in r:
                r[fractions] = [v * per_image for v in r[rates]]
        if r["row"] == LINE_TARGET[0] and "mx_rates" in r:
            r["line_verdict"] = verdict(r["line_fractions"], LINE_TARGET[1])


def compile_row(model, case, rounds):
    """torch.compile's training rate, reported without a target (or why it failed)."""
    row = {"model": model, "row": "fp32 training", "peer": "torch.compile (reported)", "kind": "train"}
    rates = []
    try:
        for i in range(rounds):
            rates.append(case()["images_per_sec"])
            print(f"  {model} torch.compile, round {i + 1}: {rates[-1]:.1f} images/s", file=sys.stderr)
    except RuntimeError as err:
        row["skipped"] = failure(err)
        return row
    row["peer_rates"] = rates
    return row


def fmt_range(values, digits=2):
    median, low, high = summary(values)
    return f"{median:.{digits}f} ({low:.{digits}f}..{high:.{digits}f})"


def print_table(rows, sgemm, flops_by_model):
    print(f"\n{'model':<14} {'case':<15} {'peer':<26} {'MXNet img/s':>12} {'peer img/s':>11} "
          f"{'MXNet/peer: median (min..max)':>30} {'target':>6}  {'verdict':<12} {'MXNet of SGEMM line':>20}")
    for r in rows:
        peer = f"{statistics.median(r['peer_rates']):.1f}" if "peer_rates" in r else "-"
        if "skipped" in r:
            target = f"{r['target']:.2f}" if "target" in r else ""
            print(f"{r['model']:<14} {r['row']:<15} {r['peer']:<26} {'-':>12} {'-':>11} {'-':>30} "
                  f"{target:>6}  skipped: {r['skipped']}")
        elif "ratios" not in r:
            print(f"{r['model']:<14} {r['row']:<15} {r['peer']:<26} {'-':>12} {peer:>11} {'-':>30} {'':>6}  "
                  f"{'reported':<12} {'(peer ' + fmt_range(r['peer_line_fractions']) + ')':>20}")
        else:
            line = fmt_range(r["line_fractions"])
            if "line_verdict" in r:
                line += f" >= {LINE_TARGET[1]}: {r['line_verdict']}"
            print(f"{r['model']:<14} {r['row']:<15} {r['peer']:<26} {statistics.median(r['mx_rates']):>12.1f} "
                  f"{peer:>11} {fmt_range(r['ratios']):>30} {r['target']:>6.2f}  {r['verdict']:<12} {line:>20}")
    print(f"\nSGEMM line (2048^3, float32, best of 5, start and end of the run): MXNet dot "
          f"{sgemm['mxnet_dot']:.1f}, MXNet FullyConnected (oneDNN) {sgemm['mxnet_fully_connected']:.1f}, "
          f"numpy {sgemm['numpy']:.1f} GFLOP/s; the line is the highest, {sgemm['line']:.1f} GFLOP/s")
    for model, flops in flops_by_model.items():
        print(f"{model}: {flops['infer']:.3f} GFLOP per image forward, {flops['train']:.3f} trained "
              f"(registry mult-adds x 2, x 3 for training): the line is {sgemm['line'] / flops['infer']:.0f} "
              f"images/s forward, {sgemm['line'] / flops['train']:.0f} trained")


def print_accuracy(accs):
    for model, acc in accs.items():
        if not acc:
            continue
        print(f"\n{model} test accuracy: " + ", ".join(f"{k} {v:.4f}" for k, v in acc.items()))
        for engine in ("MXNet", "onnxruntime"):
            lost = (acc[f"{engine} fp32"] - acc[f"{engine} INT8"]) * 100
            print(f"  {engine} INT8 loses {lost:+.2f} points against its fp32 (target: at most "
                  f"{MAX_ACCURACY_LOSS}): {'met' if lost <= MAX_ACCURACY_LOSS else 'missed'}")


def measure_sgemm(run):
    result = run.mxnet("sgemm", "googlenet_d2l")
    return {k: result[k] for k in ("mxnet_dot", "mxnet_fully_connected", "numpy")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="googlenet_d2l,inception_v3")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--compile-rounds", type=int, default=2, help="torch.compile timings (0: none)")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--isa", choices=("AVX2",), help="cap MXNet's and PyTorch's oneDNN (and ATen) at AVX2")
    parser.add_argument("--checkpoint", default=os.path.join(ROOT, "results", "d2l_fashion_mnist", "best.ckpt"))
    parser.add_argument("--calib-count", type=int, default=512)
    parser.add_argument("--no-accuracy", dest="accuracy", action="store_false")
    parser.add_argument("--rows", help="only these rows, e.g. 'bf16 training,fp32 training' (default: all)")
    parser.add_argument("--torch-python", default=os.path.join(ROOT, ".venv-torch", "bin", "python"))
    parser.add_argument("--work", default="/tmp/gluon_googlenet_peers")
    parser.add_argument("--json", help="default: benchmarks/peers.json (peers-avx2.json under --isa AVX2)")
    args = parser.parse_args()
    args.json = args.json or os.path.join(HERE, "peers-avx2.json" if args.isa else "peers.json")
    if not os.path.exists(args.torch_python):
        sys.exit(f"peers: no PyTorch venv at {args.torch_python} (bash benchmarks/setup_torch.sh)")
    os.makedirs(args.work, exist_ok=True)
    if args.isa:
        os.environ["DNNL_MAX_CPU_ISA"] = args.isa  # this process's own capability probe
    from gluon_googlenet.base.cpu import machine_record
    machine = machine_record()
    run = Runner(args.threads, args.isa, args.torch_python)
    versions = run([args.torch_python, "-c", "import json, torch, onnxruntime; print(json.dumps("
                    "{'torch': torch.__version__, 'onnxruntime': onnxruntime.__version__}))"])
    machine.update(versions)
    print(f"machine: {machine['isa']}; {machine['cores']} cores, {args.threads} threads; MXNet {machine['mxnet']}, "
          f"PyTorch {versions['torch']}, ONNX Runtime {versions['onnxruntime']} (no ISA cap of its own)"
          + (f"; cap {args.isa}" if args.isa else ""), file=sys.stderr)
    started = time.time()
    first = measure_sgemm(run)
    rows, accs, flops = [], {}, {}
    for model in args.models.split(","):
        model_rows, accs[model] = bench_model(model, args, run, machine["bf16"])
        rows += model_rows
        flops[model] = gflop_per_image(model)
        with open(args.json + ".partial", "w", encoding="utf-8") as handle:  # what a crash would lose
            json.dump({"machine": machine, "isa_cap": args.isa, "sgemm_start": first, "rows": rows,
                       "accuracy": accs}, handle, indent=2)
    last = measure_sgemm(run)
    sgemm = {k: max(first[k], last[k]) for k in first}
    sgemm["line"] = max(sgemm.values())
    add_limits(rows, flops, sgemm["line"])
    print_table(rows, sgemm, flops)
    print_accuracy(accs)
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump({"date": time.strftime("%Y-%m-%d"), "machine": machine, "isa_cap": args.isa,
                   "threads": args.threads, "rounds": args.rounds, "sgemm": sgemm, "gflop_per_image": flops,
                   "rows": rows, "accuracy": accs, "minutes": round((time.time() - started) / 60, 1)}, handle,
                  indent=2)
    print(f"\nwritten: {args.json} ({(time.time() - started) / 60:.0f} min)")


if __name__ == "__main__":
    main()
