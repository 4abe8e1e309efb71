"""Reproduction with error bars: the package's trainer (a) and the book's own loop (b), several seeds.

(a) ``gluon_googlenet.training.trainer.train`` with d2l's defaults; (b) d2l's ``train_ch6`` steps as
``examples/train_d2l_style.py`` writes them around our ``GoogLeNet`` (Xavier ``force_reinit``,
SoftmaxCrossEntropyLoss, Trainer('sgd', lr 0.1), ``trainer.step(batch_size)``, per-sample
Resize(96) + ToTensor through a shuffled DataLoader, no hybridization). Both on the real
Fashion-MNIST, with the same seeds. Each epoch is saved as it ends; ``--resume`` skips what is done.
(b) reseeds MXNet and numpy from (seed, epoch) at each epoch, so a resumed run sees the batches
an uninterrupted one would: the book seeds once.

    python results/reproduce.py [--seeds 0,1,2] [--epochs 10] [--book-epochs 5] [--resume]

Writes OUT/reproduction.md (the table and what it supports), reproduction.json (every seed's
figures) and reproduction.png (mean and min..max band per loop); run folders go to RUNS.
"""
import argparse
import importlib.util
import json
import os
import sys
import time

import gluon_googlenet  # noqa: F401  (before mxnet: sets OMP_NUM_THREADS)
from gluon_googlenet.base.book import BOOK_RUNS
from gluon_googlenet.base.book import REFERENCE_RUN as _REFERENCE
from gluon_googlenet.base.cpu import cpu_info, threads_in_use
from gluon_googlenet.base.fileio import atomic_path, write_json
from gluon_googlenet.training.data.sampling import epoch_seed
from gluon_googlenet.training.run.progress import format_duration

import mxnet as mx
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# the d2l GoogLeNet run's log (Dive into Deep Learning, MXNet edition, 7.4)
REFERENCE_RUN = dict(enumerate(_REFERENCE, 1))
BOOK = {10: BOOK_RUNS["earlier"].test_acc}  # the figure this table was written against (base/book.py)
TARGET, TARGET_EPOCH = 0.875, 5
LOOPS = {"package": "(a) package trainer", "book": "(b) book loop"}


def _book_module():
    spec = importlib.util.spec_from_file_location("train_d2l_style",
                                                  os.path.join(ROOT, "examples", "train_d2l_style.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_json(path, missing):
    """The JSON in ``path``, or ``missing`` when there is no such file."""
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    return missing


def record_machine(folder, from_epoch):
    """machine.json in a run folder: where its epochs ran; a resume on other cores or threads is added."""
    path = os.path.join(folder, "machine.json")
    info = cpu_info()
    now = {"cpu": f"{info.describe()}, {info.cores} cores", "threads": threads_in_use()}
    record = _read_json(path, None)
    if record is None:
        os.makedirs(folder, exist_ok=True)
        write_json(path, dict(now, started=time.strftime("%Y-%m-%d")))
        return
    last = (record.get("resumed") or [record])[-1]
    if (last["cpu"], last["threads"]) != (now["cpu"], now["threads"]):
        record.setdefault("resumed", []).append(dict(now, from_epoch=from_epoch + 1,
                                                     date=time.strftime("%Y-%m-%d")))
        write_json(path, record)


def machines_used(folders):
    """The distinct machine records of the run folders, as text; resumes elsewhere named by run and epoch."""
    seen = []
    for folder in folders:
        record = _read_json(os.path.join(folder, "machine.json"), None)
        if record is not None:
            texts = [f"{record['cpu']}, {record['threads']} OpenMP thread(s) per run, started {record['started']}"]
            texts += [f"{os.path.basename(folder)} from epoch {later['from_epoch']} on {later['cpu']}, "
                      f"{later['threads']} OpenMP thread(s), {later['date']}" for later in record.get("resumed", [])]
            seen += [text for text in texts if text not in seen]
    return "; ".join(seen) or "unrecorded"


def run_package(seed, epochs, folder, resume, options):
    """(a): the package's trainer; its own --resume continues from last.ckpt."""
    from gluon_googlenet import TrainConfig, train
    done = _read_json(os.path.join(folder, "history.json"), []) if resume else []
    if len(done) >= epochs:
        return done[:epochs]
    record_machine(folder, len(done))
    # a run stopped inside its first epoch has a checkpoint but no history yet: it resumes too
    midway = resume and os.path.isfile(os.path.join(folder, "last.ckpt"))
    config = TrainConfig(seed=seed, epochs=epochs, out=folder, resume=bool(done) or midway, progress=False,
                         resize=options["resize"], limit_train=options["limit"], limit_test=options["limit"],
                         data_dir=options["data_dir"])
    return train(config).history


def book_net(seed, ctxs):
    """(b)'s net as the book makes it: ``GoogLeNet`` with Xavier ``force_reinit`` after seeding."""
    from gluon_googlenet import GoogLeNet
    net = GoogLeNet(num_classes=10, in_channels=1)
    mx.random.seed(seed)
    net.initialize(force_reinit=True, ctx=ctxs, init=mx.init.Xavier())
    return net


def run_book(seed, epochs, folder, resume, options):
    """(b): the book's loop, one epoch at a time, weights and history saved after each."""
    book = _book_module()
    os.makedirs(folder, exist_ok=True)
    history_file, params_file = os.path.join(folder, "history.json"), os.path.join(folder, "net.params")
    history = _read_json(history_file, []) if resume else []
    if len(history) >= epochs:
        return history[:epochs]
    record_machine(folder, len(history))
    ctxs = [mx.cpu()]
    net = book_net(seed, ctxs)
    if history:
        net.load_parameters(params_file, ctx=ctxs)
    loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = mx.gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    train_iter, test_iter = book.load_data_fashion_mnist(128, options["resize"], options["limit"])
    for epoch in range(len(history), epochs):
        mx.random.seed(epoch_seed(seed, epoch))
        np.random.seed(epoch_seed(seed, epoch))  # DataLoader's shuffle draws from numpy
        start = time.time()
        train_loss, train_acc, _ = book.train_epoch_ch6(net, train_iter, loss, trainer, ctxs)
        train_seconds = time.time() - start
        test_acc = float(book.evaluate_accuracy(net, test_iter, ctxs))
        history.append({"epoch": epoch + 1, "train_loss": float(train_loss), "train_acc": float(train_acc),
                        "test_acc": test_acc, "train_seconds": train_seconds,
                        "eval_seconds": time.time() - start - train_seconds})
        with atomic_path(params_file) as tmp:
            net.save_parameters(tmp)
        write_json(history_file, history)
        print(f"  book seed {seed} epoch {epoch + 1}: test acc {test_acc:.3f}", flush=True)
    return history


def summarise(results, epochs):
    """{loop: [{epoch, n, mean, std, min, max}]} over the seeds that reached each epoch (std None for one seed)."""
    table = {}
    for loop, by_seed in results.items():
        rows = []
        for epoch in range(1, epochs + 1):
            accs = np.array([h[epoch - 1]["test_acc"] for h in by_seed.values() if len(h) >= epoch])
            if len(accs):
                rows.append({"epoch": epoch, "n": int(len(accs)), "mean": float(accs.mean()),
                             "std": float(accs.std(ddof=1)) if len(accs) > 1 else None,
                             "min": float(accs.min()), "max": float(accs.max())})
        table[loop] = rows
    return table


def _span(values):
    return f"{min(values):.3f}" if len(values) == 1 else f"{min(values):.3f}..{max(values):.3f}"


def statement(table, results, wanted=None):
    """What the numbers support, in plain words (the definitions are part of the text).
    ``wanted``: {loop: (seeds, epochs)} asked for; runs short of it are named first."""
    lines = []
    finished = {loop: (sum(len(h) >= epochs for h in results.get(loop, {}).values()), seeds)
                for loop, (seeds, epochs) in (wanted or {}).items() if epochs > 0}
    short = [f"{LOOPS[loop]} {done} of {seeds}" for loop, (done, seeds) in finished.items() if done < seeds]
    if short:
        lines.append("Unfinished: seeds with all their epochs: " + ", ".join(short)
                     + "; the spreads below rest on the seeds done so far.")
    seeds = {loop: len(by_seed) for loop, by_seed in results.items()}
    if any(n < 2 for n in seeds.values()):
        counts = ", ".join(f"{LOOPS[loop]}: {n}" for loop, n in seeds.items())
        lines.append("Not enough seeds yet for a spread (" + counts
                     + "); single runs scatter by several points, so no comparison is claimed. "
                       "`--resume` continues the runs.")
    a, b = ({r["epoch"]: r for r in table.get(loop, [])} for loop in ("package", "book"))
    both = [e for e in sorted(set(a) & set(b)) if a[e]["n"] > 1 and b[e]["n"] > 1]
    if both:
        apart = [e for e in both if abs(a[e]["mean"] - b[e]["mean"]) > max(a[e]["std"], b[e]["std"])]
        if apart:
            lines.append(f"(a) and (b) differ by more than the larger seed standard deviation at epoch(s) "
                         f"{', '.join(map(str, apart))}; they agree within it at the other epochs "
                         f"({len(both) - len(apart)} of {len(both)}).")
        else:
            lines.append(f"(a) and (b) agree within one seed standard deviation (the larger of the two) "
                         f"at every epoch compared (1..{both[-1]}).")
    for loop, name in LOOPS.items():
        reached = [h[TARGET_EPOCH - 1]["test_acc"] for h in results.get(loop, {}).values()
                   if len(h) >= TARGET_EPOCH]
        if reached:
            hits = sum(acc >= TARGET for acc in reached)
            lines.append(f"{name} reaches the reference run's {TARGET} after {TARGET_EPOCH} epochs in "
                         f"{hits} of {len(reached)} seeds (test accuracy {_span(reached)}).")
    paired = sorted(s for s in results.get("package", {}) if s in results.get("book", {})
                    and min(len(results["package"][s]), len(results["book"][s])) >= TARGET_EPOCH)
    if paired:
        lines.append(f"Seed by seed after {TARGET_EPOCH} epochs, (a) vs (b): " + "; ".join(
            f"seed {s}: {results['package'][s][TARGET_EPOCH - 1]['test_acc']:.3f} vs "
            f"{results['book'][s][TARGET_EPOCH - 1]['test_acc']:.3f}" for s in paired) + ".")
    rows10 = {r["epoch"]: r for r in table.get("package", [])}
    if 10 in rows10:
        r = rows10[10]
        lines.append(f"(a) after 10 epochs: {cell(r)}; the book prints {BOOK[10]} for one run.")
    return lines


def cell(row):
    """One table cell: mean +- std (min..max), seeds; a single seed shows its figure alone."""
    if row["n"] < 2:
        return f"{row['mean']:.3f}, 1 seed"
    return f"{row['mean']:.3f} +- {row['std']:.3f} ({row['min']:.3f}..{row['max']:.3f}), {row['n']} seeds"


def write_outputs(out, results, table, lines, machine, seconds):
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "reproduction.json"),
               {"machine": machine, "seconds": seconds, "table": table,
                "runs": {loop: {str(s): h for s, h in by_seed.items()} for loop, by_seed in results.items()}})
    epochs = max((r["epoch"] for rows in table.values() for r in rows), default=0)
    head = "| epoch | " + " | ".join(f"{LOOPS[loop]}: mean +- std (min..max), seeds" for loop in table) + \
        " | reference run | book |"
    md = ["# Reproduction of d2l's GoogLeNet on Fashion-MNIST, several seeds", "",
          f"Machine: {machine}; MXNet {mx.__version__}. "
          "Time (training and testing, all seeds): "
          + ", ".join(f"{LOOPS[loop]} {format_duration(seconds[loop])}" for loop in seconds) + ".",
          "Command: `python results/reproduce.py " + " ".join(sys.argv[1:]) + "`", "",
          head, "|" + "---|" * (len(table) + 3)]
    for epoch in range(1, epochs + 1):
        cells = []
        for loop in table:
            row = next((r for r in table[loop] if r["epoch"] == epoch), None)
            cells.append(cell(row) if row else "")
        ref, book = REFERENCE_RUN.get(epoch), BOOK.get(epoch)
        md.append(f"| {epoch} | " + " | ".join(cells) + f" | {'' if ref is None else f'{ref:.3f}'} | "
                  f"{'' if book is None else f'{book:.3f}'} |")
    md += ["", "What the numbers support:", ""] + [f"- {line}" for line in lines] + [""]
    with atomic_path(os.path.join(out, "reproduction.md")) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("\n".join(md))
    from gluon_googlenet.base.plots import save_png, subplots
    fig, ax = subplots(figsize=(6.5, 4))
    for loop, color in zip(table, ("tab:blue", "tab:orange")):
        rows = table[loop]
        x = [r["epoch"] for r in rows]
        ax.plot(x, [r["mean"] for r in rows], color=color, marker="o", label=f"{LOOPS[loop]} mean")
        ax.fill_between(x, [r["min"] for r in rows], [r["max"] for r in rows], color=color, alpha=0.2,
                        label=f"{LOOPS[loop]} min..max")
    ax.plot(list(REFERENCE_RUN), list(REFERENCE_RUN.values()), "k--", marker="x", label="reference run")
    ax.plot(list(BOOK), list(BOOK.values()), "k*", markersize=10, label="book (10 epochs)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_png(fig, os.path.join(out, "reproduction.png"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default 0,1,2)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of (a) (default 10)")
    parser.add_argument("--book-epochs", type=int, default=5, help="epochs of (b) (default 5)")
    parser.add_argument("--resume", action="store_true", help="keep finished epochs, run the rest")
    parser.add_argument("--out", default=HERE, help="where the table, data and plot go")
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "reproduce"), help="run folders")
    parser.add_argument("--resize", type=int, default=96)
    parser.add_argument("--limit", type=int, help="first N images of each split (a quick check only)")
    parser.add_argument("--data-dir")
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing: write the table from the epochs finished so far")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    options = {"resize": args.resize, "limit": args.limit, "data_dir": args.data_dir}
    results, seconds = {"package": {}, "book": {}}, {"package": 0.0, "book": 0.0}
    for seed in seeds:
        for loop, runner, epochs in (("package", run_package, args.epochs), ("book", run_book, args.book_epochs)):
            if epochs <= 0:
                continue
            folder = os.path.join(args.runs, f"{loop}-seed{seed}")
            if args.report_only:
                history = _read_json(os.path.join(folder, "history.json"), [])[:epochs]
                if not history:
                    continue
            else:
                print(f"{LOOPS[loop]}, seed {seed}: {epochs} epochs in {folder}", flush=True)
                history = runner(seed, epochs, folder, args.resume, options)
            results[loop][seed] = history
            seconds[loop] += sum(h["train_seconds"] + h.get("eval_seconds", 0) for h in history)
    results = {loop: by_seed for loop, by_seed in results.items() if by_seed}
    table = summarise(results, max(args.epochs, args.book_epochs))
    lines = statement(table, results, {"package": (len(seeds), args.epochs), "book": (len(seeds), args.book_epochs)})
    machine = machines_used([os.path.join(args.runs, f"{loop}-seed{seed}") for loop in results for seed in seeds])
    write_outputs(args.out, results, table, lines, machine, {loop: seconds[loop] for loop in results})
    print("\n".join(lines))


if __name__ == "__main__":
    main()
