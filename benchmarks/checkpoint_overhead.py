"""What --checkpoint-every costs on the d2l recipe (googlenet_d2l, 96x96, batch 128, SGD lr 0.1).

Runs the trainer on the same slice of real Fashion-MNIST, alternating A (no mid-epoch
checkpoints) and B (a checkpoint every few seconds), and prints each round's training seconds,
the B/A ratio (median and min..max), the cost of one mid-epoch checkpoint, and what that cost
is at the default interval (10 min) as a share of training time.

    .venv/bin/python benchmarks/checkpoint_overhead.py --batches 40 --rounds 3
"""
import argparse
import contextlib
import io
import logging
import os
import statistics
import sys
import tempfile

import gluon_googlenet  # noqa: F401  (sets OMP_NUM_THREADS before MXNet loads)
from gluon_googlenet import TrainConfig, train
from gluon_googlenet.base.cpu import machine_record
from gluon_googlenet.training.run.config import TrainConfig as Defaults


def one_run(data_dir, batches, every, out):
    """Training seconds of one epoch of ``batches`` batches and the mid-epoch checkpoints written."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("gluon_googlenet")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        result = train(TrainConfig(data_dir=data_dir, epochs=1, limit_train=batches * 128, limit_test=128,
                                   checkpoint_every=every, out=out, progress=False))
    finally:
        logger.removeHandler(handler)
    return result.history[0]["train_seconds"], stream.getvalue().count("  checkpoint: ")


def save_seconds(repeats=5):
    """Median seconds of one save_checkpoint of the d2l net with its SGD trainer state (24 MB)."""
    import time

    from gluon_googlenet.training.model_setup import build_net
    from gluon_googlenet.training.optimizer import make_trainer
    from gluon_googlenet.training.run.checkpoint import save_checkpoint
    from gluon_googlenet.training.run.resolve import resolve_run

    import mxnet as mx
    run = resolve_run(TrainConfig())
    net, _ = build_net(run, 10)
    trainer = make_trainer(net, run)
    net(mx.nd.zeros((1, 1, 96, 96)))
    times = []
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(repeats):
            start = time.perf_counter()
            save_checkpoint(os.path.join(scratch, "last.ckpt"), net, trainer, {"epoch": 0, "batch": 1},
                            previous=os.path.join(scratch, "previous.ckpt"))
            times.append(time.perf_counter() - start)
        size = os.path.getsize(os.path.join(scratch, "last.ckpt"))
    return statistics.median(times), min(times), max(times), size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="Fashion-MNIST IDX folder (default: the usual places)")
    parser.add_argument("--batches", type=int, default=40, help="training batches per run (default: 40)")
    parser.add_argument("--rounds", type=int, default=3, help="A B rounds (default: 3)")
    parser.add_argument("--every", type=float, default=0.05, help="B's interval in minutes (default: 0.05)")
    args = parser.parse_args()
    machine = machine_record()
    print(f"machine: {machine['cpu_model']} ({machine['isa']}), {machine['omp_threads']} threads, "
          f"MXNet {machine['mxnet']}")
    with tempfile.TemporaryDirectory() as scratch, contextlib.redirect_stdout(sys.stderr):
        for _ in range(2):  # data cache, graph, allocations
            one_run(args.data_dir, 3, 0, os.path.join(scratch, "warm"))
        rows = []
        for i in range(args.rounds):
            a = one_run(args.data_dir, args.batches, 0, os.path.join(scratch, f"a{i}"))
            b = one_run(args.data_dir, args.batches, args.every, os.path.join(scratch, f"b{i}"))
            rows.append((a, b))
    print(f"\n{'round':>5} {'A: no timer (s)':>16} {'B: every %g min (s)' % args.every:>22} {'checkpoints':>12} "
          f"{'B/A':>6}")
    for i, ((a, _), (b, n)) in enumerate(rows, 1):
        print(f"{i:>5} {a:>16.2f} {b:>22.2f} {n:>12} {b / a:>6.3f}")
    ratios = [b / a for (a, _), (b, _) in rows]
    costs = [(b - a) / n for (a, _), (b, n) in rows if n]
    default = Defaults.checkpoint_every * 60
    per_batch = statistics.median(a for (a, _), _ in rows) / args.batches
    print(f"\nB/A: median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})")
    if costs:
        print(f"one mid-epoch checkpoint from the rounds: {statistics.median(costs):.2f} s (median of (B - A) / "
              f"checkpoints; within the rounds' noise); a training batch: {per_batch:.2f} s")
    cost, low, high, size = save_seconds()
    print(f"one save of the d2l checkpoint ({size / 1e6:.1f} MB), timed alone: {cost:.3f} s "
          f"(min {low:.3f}, max {high:.3f})")
    print(f"at the default interval ({default / 60:g} min): {cost / default * 100:.3f} % of training time "
          f"(target: at most 2 %)")


if __name__ == "__main__":
    main()
