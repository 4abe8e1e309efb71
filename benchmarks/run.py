"""Side-by-side speed benchmark of the d2l GoogLeNet (96x96, batch 128): MXNet paths and PyTorch.

Every case runs in a fresh process (thread settings must precede the engine's import); the
table gives images/s and the ratios the targets are stated in. Results also go to JSON.
    python benchmarks/run.py [--checkpoint CKPT] [--torch-python PATH] [--epoch-accuracy N]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


ISA_ENV = {}  # set by --isa: the same cap for MXNet's oneDNN and PyTorch's


def run(cmd, threads, timeout=1800):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONWARNINGS="ignore", **ISA_ENV)
    started = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode or not lines:
        print(f"  failed: {' '.join(cmd[1:3])}: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    result = json.loads(lines[-1])
    result["wall_seconds"] = round(time.time() - started, 1)
    return result


def machine_info(torch_python):
    """This machine as gluon_googlenet.base.cpu sees it, plus the PyTorch peer's version."""
    sys.path.insert(0, ROOT)
    from gluon_googlenet.base.cpu import machine_record
    machine = machine_record()
    if os.path.exists(torch_python):
        proc = subprocess.run([torch_python, "-c", "import torch; print(torch.__version__)"],
                              capture_output=True, text=True, timeout=300)
        machine["torch"] = proc.stdout.strip() or None
    return machine


def print_rows(results):
    """One line per case: images/s and notes (accuracy, the bare step, ...)."""
    rows = []
    for name, r in results.items():
        if r is None:
            rows.append((name, "n/a", ""))
            continue
        if "not_supported" in r:
            rows.append((name, "-", r["not_supported"]))
            continue
        speed = r.get("images_per_sec") or r.get("examples_per_sec") or r.get("trainer")
        note = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in r.items() if k in ("test_acc", "bare", "test_images", "train_loss"))
        rows.append((name, f"{speed:.1f}", note))
    print(f"\n{'case':<48} {'images/s':>10}  notes")
    for name, speed, note in rows:
        print(f"{name:<48} {speed:>10}  {note}")


def target_ratios(results, epoch_accuracy, bf16_note):
    """(label, value, target, met) for each target ratio; value None where a case is missing."""
    def ips(name, key="images_per_sec"):
        r = results.get(name)
        return None if r is None else r.get(key)

    ratios = []

    def ratio(label, num, den, target):
        if num is None or den is None:
            ratios.append((label, None, target, bf16_note if "bf16" in label else None))
            return
        value = num / den
        ratios.append((label, value, target, value >= target))

    base = "mx train hybrid (static_alloc/shape)"
    ratio("OMP threads: hybrid train, all cores vs MXNet default", ips(base),
          ips("mx train hybrid, OMP 1 (MXNet default here)"), 1.0)
    ratio("train step: MXNet hybrid vs torch channels_last", ips(base), ips("torch train channels_last"), 1.2)
    ratio("train step: MXNet bf16 AMP vs torch channels_last", ips("mx train bf16 AMP"),
          ips("torch train channels_last"), 1.2)
    tr = results.get("mx trainer vs bare step, real data")
    ratio("whole trainer vs bare train step", tr and tr["trainer"], tr and tr["bare"], 0.95)
    ratio("bf16 training vs fp32 training (step)", ips("mx train bf16 AMP"), ips(base), 1.3)
    if epoch_accuracy:
        ratio("bf16 vs fp32, one epoch incl. data", ips("mx one epoch bf16", "examples_per_sec"),
              ips("mx one epoch fp32", "examples_per_sec"), 1.3)
    best_infer = max(filter(None, [ips("mx infer fused"), ips("mx infer int8")]), default=None)
    ratio("fused or INT8 inference vs torch channels_last", best_infer, ips("torch infer channels_last"), 1.5)
    ratio("INT8 inference vs fp32 inference", ips("mx infer int8"), ips("mx infer fp32"), 1.0)
    return ratios


def print_ratios(ratios):
    print(f"\n{'ratio':<56} {'value':>7} {'target':>7}  met")
    for label, value, target, met in ratios:
        shown = "n/a" if value is None else f"{value:.2f}"
        verdict = "n/a" if met is None else met if isinstance(met, str) else "yes" if met else "NO"
        print(f"{label:<56} {shown:>7} {target:>7.2f}  {verdict}")


def print_accuracy(results, epoch_accuracy):
    """INT8's accuracy change, and fp32 vs bf16 after one epoch, where they were measured."""
    accs = {k: results[k]["test_acc"] for k in results if results[k] and "test_acc" in results[k]}
    if "mx infer fp32" in accs and "mx infer int8" in accs:
        drop = (accs["mx infer fp32"] - accs["mx infer int8"]) * 100
        print(f"\nINT8 accuracy change on {results['mx infer int8']['test_images']} test images: "
              f"{accs['mx infer fp32']:.4f} -> {accs['mx infer int8']:.4f} ({-drop:+.2f} points; "
              f"target: at most 0.5 points lost: {'yes' if drop <= 0.5 else 'NO'})")
    if epoch_accuracy and "mx one epoch fp32" in accs and "mx one epoch bf16" in accs:
        print(f"one epoch on {epoch_accuracy} images: test acc fp32 {accs['mx one epoch fp32']:.4f}, "
              f"bf16 {accs['mx one epoch bf16']:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=os.path.join(ROOT, "results", "d2l_fashion_mnist", "best.ckpt"),
                        help="trained d2l checkpoint for the accuracy of the inference paths")
    parser.add_argument("--torch-python", default=os.path.join(ROOT, ".venv-torch", "bin", "python"))
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--epoch-accuracy", type=int, default=0, metavar="N",
                        help="also train one epoch on N images in fp32 and bf16 and compare accuracy")
    parser.add_argument("--json", default=os.path.join(ROOT, "benchmarks", "results.json"))
    parser.add_argument("--isa", choices=("AVX2", "AVX512_CORE"),
                        help="cap oneDNN's ISA (MXNet: DNNL_MAX_CPU_ISA; PyTorch: ONEDNN_MAX_CPU_ISA "
                             "and ATEN_CPU_CAPABILITY) to measure a lesser CPU on this one")
    args = parser.parse_args()
    if args.isa:
        ISA_ENV.update(DNNL_MAX_CPU_ISA=args.isa, ONEDNN_MAX_CPU_ISA=args.isa,
                       ATEN_CPU_CAPABILITY="avx2" if args.isa == "AVX2" else "avx512")
        os.environ["DNNL_MAX_CPU_ISA"] = args.isa  # for this process's own capability probe
    machine = machine_info(args.torch_python)
    print(f"machine: {machine['isa']}; {machine['cores']} cores, {args.threads} threads; "
          f"MXNet {machine['mxnet']}, PyTorch {machine.get('torch') or 'absent'}", file=sys.stderr)
    bf16_note = None if machine["bf16"] else "not supported on this CPU (no AVX512_BF16)"
    mx_cmd = [sys.executable, os.path.join(HERE, "measure_mxnet.py")]
    t = args.threads
    results = {}

    def mx(name, case, threads=t, *extra):
        if bf16_note and ("bf16" in case or "bf16" in extra):
            results[name] = {"not_supported": bf16_note}
            return
        print(f"running {name} ...", file=sys.stderr)
        results[name] = run(mx_cmd + [case, "--steps", str(args.steps), *extra], threads)

    def torch(name, mode, channels_last, steps):
        if not os.path.exists(args.torch_python):
            results[name] = None
            return
        print(f"running {name} ...", file=sys.stderr)
        cmd = [args.torch_python, os.path.join(HERE, "torch_googlenet.py"), "--mode", mode,
               "--threads", str(t), "--steps", str(steps)] + (["--channels-last"] if channels_last else [])
        results[name] = run(cmd, t)

    mx("mx train hybrid, OMP 1 (MXNet default here)", "train-hybrid", 1)
    mx("mx train imperative", "train-imperative")
    mx("mx train hybrid (static_alloc/shape)", "train-hybrid")
    mx("mx train bf16 AMP", "train-bf16")
    torch("torch train NCHW", "train", False, 2)
    torch("torch train channels_last", "train", True, args.steps)
    mx("mx trainer vs bare step, real data", "trainer", t, "--data-dir", "")
    ckpt = ["--checkpoint", args.checkpoint] if os.path.exists(args.checkpoint) else []
    for kind in ("fp32", "fused", "bf16", "int8"):
        mx(f"mx infer {kind}", f"infer-{kind}", t, *ckpt)
    torch("torch infer channels_last", "infer", True, args.steps * 2)
    if args.epoch_accuracy:
        for precision in ("fp32", "bf16"):
            mx(f"mx one epoch {precision}", "epoch-accuracy", t, "--limit", str(args.epoch_accuracy),
               "--precision", precision, "--out", f"/tmp/gluon_googlenet_bench_{precision}")

    print_rows(results)
    ratios = target_ratios(results, args.epoch_accuracy, bf16_note)
    print_ratios(ratios)
    print_accuracy(results, args.epoch_accuracy)
    with open(args.json, "w", encoding="utf-8") as handle:
        ratio_rows = [dict(zip(("ratio", "value", "target", "met"), r)) for r in ratios]
        json.dump({"date": time.strftime("%Y-%m-%d"), "machine": machine, "isa_cap": args.isa,
                   "threads": args.threads, "results": results, "ratios": ratio_rows}, handle, indent=2)
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
