"""The fast recipe against the plain d2l recipe, on the real Fashion-MNIST, side by side.

Each run is ``gluon-googlenet train --preset P --seed S`` in a fresh process (full training set,
full test set). Printed: every run's test accuracy after each epoch against the minutes of
training and testing done so far, each recipe's mean and spread over its seeds, the book's
printed figure, and whether the targets hold (test acc >= 0.904; the minutes a CPU kind is
given: 5 on a 2-core Zen 4 or Xeon, 10 on a 2-core first-generation Zen), and the share of
CPU time the hypervisor gave to other guests while each run trained and tested (Linux's "steal",
as the run's history records it per epoch: on a shared VM the minutes depend on it). The runs go
to --json, and a figure of accuracy against minutes (dashed: 0.904) to --png.

    .venv/bin/python benchmarks/fast_recipe.py                     # fast x seeds 0 1 2, quick x seed 0
    .venv/bin/python benchmarks/fast_recipe.py --epochs 8 --seeds 0 1 2 --baseline-seeds   # longer fast runs
    .venv/bin/python benchmarks/fast_recipe.py --flags "--ema 0.995"  # the preset with other settings
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from gluon_googlenet.base.book import BOOK as BOOK_RUN  # noqa: E402

BOOK = BOOK_RUN.test_acc  # the book's GoogLeNet on Fashion-MNIST, 10 epochs at 96x96 (base/book.py)


def one_run(preset, seed, folder, data_dir=None, epochs=None, flags=""):  # noqa: PLR0913
    """One training process; its history (per epoch: test acc, minutes so far) and wall minutes.
    ``flags``: more train flags (one string); the run's recipe is then named ``preset flags``."""
    out = os.path.join(folder, f"{preset}-{seed}")
    command = [sys.executable, "-m", "gluon_googlenet", "train", "--preset", preset, "--seed", str(seed),
               "--out", out, "--no-progress", "--verbose", "2"]
    command += ["--data-dir", data_dir] if data_dir else []
    command += ["--epochs", str(epochs)] if epochs else []
    command += shlex.split(flags)
    preset = f"{preset} {flags}".strip()
    from gluon_googlenet.viz.report import epoch_seconds, run_stolen
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = (time.perf_counter() - start) / 60
    with open(os.path.join(out, "history.json"), encoding="utf-8") as handle:
        history = json.load(handle)
    minutes, points = 0.0, []
    for record in history:
        minutes += epoch_seconds(record) / 60
        points.append({"epoch": record["epoch"], "test_acc": record["test_acc"], "minutes": minutes,
                       "examples_per_sec": record["examples_per_sec"]})
    return {"preset": preset, "seed": seed, "epochs": points, "wall_minutes": wall, "stolen": run_stolen(history)}


def summary(runs):
    """Mean and spread (min..max) of the final test accuracy and minutes of ``runs``."""
    accs = [r["epochs"][-1]["test_acc"] for r in runs]
    minutes = [r["epochs"][-1]["minutes"] for r in runs]
    spread = statistics.stdev(accs) if len(accs) > 1 else 0.0
    return {"acc_mean": statistics.mean(accs), "acc_std": spread, "acc_min": min(accs), "acc_max": max(accs),
            "minutes_mean": statistics.mean(minutes), "minutes_max": max(minutes)}


def stolen_text(run):
    """A run's share of CPU time the hypervisor gave to other guests, as text ('-' when unknown)."""
    stolen = run.get("stolen")
    return "-" if stolen is None else f"{stolen:.1%}"


def print_table(runs, summaries):
    """Per run and epoch (with the CPU time stolen by the hypervisor during the run), then per recipe."""
    w = max(8, *(len(run["preset"]) for run in runs))
    print(f"\n{'recipe':<{w}} {'seed':>4} {'epoch':>5} {'test acc':>9} {'minutes':>8} {'images/s':>9} {'stolen':>7}")
    for run in runs:
        for point in run["epochs"]:
            print(f"{run['preset']:<{w}} {run['seed']:>4} {point['epoch']:>5} {point['test_acc']:>9.4f} "
                  f"{point['minutes']:>8.2f} {point['examples_per_sec']:>9.0f} {stolen_text(run):>7}")
    print(f"\n{'recipe':<{w}} {'runs':>4} {'test acc mean':>13} {'std':>6} {'min..max':>13} {'minutes':>8}")
    for preset, s in summaries.items():
        count = sum(r["preset"] == preset for r in runs)
        print(f"{preset:<{w}} {count:>4} {s['acc_mean']:>13.4f} {s['acc_std']:>6.4f} "
              f"{s['acc_min']:.4f}..{s['acc_max']:.4f} {s['minutes_mean']:>8.2f}")
    print(f"{'book':<{w}} {'':>4} {BOOK:>13.4f} {'':>6} {'':>13} {'~5 on a V100':>8}")


def draw(runs, path):
    """Test accuracy against minutes, one line per run, dashed at the book's 0.904."""
    from gluon_googlenet.base.plots import save_png, subplots
    fig, ax = subplots(figsize=(7, 4.5))
    colours = {}
    for run in runs:
        colour = colours.setdefault(run["preset"], f"C{len(colours)}")
        ax.plot([0] + [p["minutes"] for p in run["epochs"]], [0.1] + [p["test_acc"] for p in run["epochs"]],
                "o-", color=colour, alpha=0.8, label=f"{run['preset']}, seed {run['seed']}")
    ax.axhline(BOOK, color="k", linestyle="--", label=f"the book's test acc ({BOOK})")
    ax.set_xlabel("minutes of training and testing")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0.6, 0.95)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    save_png(fig, path)


def main(argv=None):
    """Run the recipes, print the tables and the verdicts, write --json and --png."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the fast recipe")
    p.add_argument("--epochs", type=int, help="epochs of the fast recipe (default: the preset's)")
    p.add_argument("--flags", default="", help="more train flags for the fast runs, e.g. '--ema 0.995'")
    p.add_argument("--baseline", default="quick", help="the d2l recipe's preset (quick: 32x32, 4 epochs)")
    p.add_argument("--baseline-seeds", type=int, nargs="*", default=[0], help="none: no baseline runs")
    p.add_argument("--data-dir", help="Fashion-MNIST IDX folder (default: the usual places)")
    p.add_argument("--json", default="benchmarks/fast_recipe.json")
    p.add_argument("--png", default="benchmarks/fast_recipe.png")
    args = p.parse_args(argv)
    import gluon_googlenet  # noqa: F401  (threads before MXNet)
    from gluon_googlenet.base.cpu import machine_record
    machine = machine_record(probe=False)
    print(f"machine: {machine['cpu_model']} ({machine['isa']}), {machine['cores']} cores; "
          f"DNNL_MAX_CPU_ISA={os.environ.get('DNNL_MAX_CPU_ISA', 'unset')}")
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            runs.append(one_run("fast", seed, folder, args.data_dir, args.epochs, args.flags))
            print(f"{runs[-1]['preset']} seed {seed}: test acc {runs[-1]['epochs'][-1]['test_acc']:.4f} after "
                  f"{runs[-1]['epochs'][-1]['minutes']:.2f} min ({stolen_text(runs[-1])} of the CPU time stolen "
                  "by the hypervisor)", flush=True)
        for seed in args.baseline_seeds:
            runs.append(one_run(args.baseline, seed, folder, args.data_dir))
    summaries = {preset: summary([r for r in runs if r["preset"] == preset])
                 for preset in dict.fromkeys(r["preset"] for r in runs)}
    print_table(runs, summaries)
    name = runs[0]["preset"]
    fast = summaries[name]
    print(f"\n{name}: mean test acc {fast['acc_mean']:.4f} {'>=' if fast['acc_mean'] >= BOOK else '<'} {BOOK}; "
          f"slowest run {fast['minutes_max']:.2f} min (targets: 5 on a 2-core Zen 4 or Xeon, 10 on a 2-core Zen 1)")
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump({"machine": machine, "isa_cap": os.environ.get("DNNL_MAX_CPU_ISA"), "runs": runs,
                   "summaries": summaries, "book": BOOK}, handle, indent=1)
    draw(runs, args.png)
    print(f"written: {args.json}, {args.png}")


if __name__ == "__main__":
    main()
