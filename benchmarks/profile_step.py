"""Where one training step of the d2l GoogLeNet spends its time, per MXNet operator.

Runs the hybridized train step (96x96, batch 128 by default; ``--model googlenet_d2l_bn --size 28``
is the fast recipe's net) under ``mx.profiler`` with the engine's operator bulking off (otherwise
bulked segments hide the operator names), and prints each operator's share of the step's operator
time, largest first; ``--json`` writes the table.
Set DNNL_MAX_CPU_ISA=AVX2 to see an AVX2 machine's split on an AVX-512 one. ``--infer fused``
or ``--infer int8`` profiles inference instead (the fused fp32 graph, or INT8 calibrated on
``--calib`` uint8 images; ``--weights`` a .params file, as benchmarks/peers.py prepares them).
    python benchmarks/profile_step.py [--model googlenet_d2l] [--batch 128] [--size 96] [--steps 3] [--top 15]
    python benchmarks/profile_step.py --infer int8 --weights W.params --calib CAL.npy
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("MXNET_EXEC_BULK_EXEC_TRAIN", "0")
os.environ.setdefault("MXNET_EXEC_BULK_EXEC_INFERENCE", "0")

import gluon_googlenet  # noqa: E402,F401  (threads before MXNet)

if "--bf16" in sys.argv:  # AMP must patch MXNet before the net is built
    from mxnet.contrib import amp
    amp.init(target_dtype="bfloat16")
from gluon_googlenet import get_model, get_spec  # noqa: E402
from gluon_googlenet.base.cpu import machine_record  # noqa: E402

import mxnet as mx  # noqa: E402
from mxnet import autograd, gluon  # noqa: E402


def random_batch(model, batch, size):
    """A fixed random input batch for ``model`` (its channel count) at ``size`` x ``size``."""
    return mx.nd.random.uniform(shape=(batch, get_spec(model).input_size[0], size, size))


def train_step(batch, size, model="googlenet_d2l"):
    """One hybridized train step of ``model`` on a fixed random batch, as a function."""
    net = get_model(model, input_size=size)
    mx.random.seed(0)
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    x = random_batch(model, batch, size)
    y = mx.nd.array([i % 10 for i in range(batch)])

    def step():
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch)
    return step


def infer_step(kind, batch, size, weights, calib, model="googlenet_d2l"):
    """One forward pass of the fused fp32 or the INT8 ``model`` on a fixed random batch."""
    from gluon_googlenet.weights import fast

    import numpy as np
    net = get_model(model, input_size=size)
    net.load_parameters(weights, ctx=mx.cpu())
    x = random_batch(model, batch, size)
    block = fast.fused(net, x.shape) if kind == "fused" else fast.int8(net, np.load(calib), batch_size=batch)
    return lambda: block(x)


def profile(step, steps):
    """{operator: (calls, total ms)} over ``steps`` calls of ``step``, and their wall seconds."""
    for _ in range(2):
        step()
    mx.nd.waitall()
    mx.profiler.set_config(profile_all=True, aggregate_stats=True,
                           filename=os.devnull if os.name != "nt" else "profile.json")
    mx.profiler.set_state("run")
    start = time.perf_counter()
    for _ in range(steps):
        step()
    mx.nd.waitall()
    wall = time.perf_counter() - start
    mx.profiler.set_state("stop")
    stats = json.loads(mx.profiler.dumps(reset=True, format="json"))["Time"]
    ops = {name: (row["Count"], row["Total"]) for name, row in stats.get("operator", {}).items()}
    return ops, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="googlenet_d2l", help="the registered net to profile")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--json", help="write the machine, the wall time and the table here")
    parser.add_argument("--infer", choices=("fused", "int8"), help="profile inference instead of training")
    parser.add_argument("--bf16", action="store_true", help="training under bf16 AMP")
    parser.add_argument("--weights", help="--infer: the net's .params")
    parser.add_argument("--calib", help="--infer int8: uint8 calibration images (.npy)")
    args = parser.parse_args()
    step = (infer_step(args.infer, args.batch, args.size, args.weights, args.calib, args.model) if args.infer
            else train_step(args.batch, args.size, args.model))
    ops, wall = profile(step, args.steps)
    total = sum(ms for _, ms in ops.values())
    machine = machine_record(probe=False)
    what = f"{args.infer} inference" if args.infer else "bf16 AMP training" if args.bf16 else "fp32 training"
    what += f" of {args.model}"
    print(f"{machine['isa']}, {machine['omp_threads']} threads; {what}, {args.steps} steps of batch "
          f"{args.batch} at {args.size}x{args.size}: {wall / args.steps * 1000:.0f} ms/step wall, "
          f"{total / args.steps:.0f} ms/step of operator time")
    print(f"{'operator':<36} {'calls/step':>10} {'ms/step':>9} {'share':>7}")
    rows = sorted(ops.items(), key=lambda kv: -kv[1][1])
    for name, (count, ms) in rows[:args.top]:
        print(f"{name:<36} {count / args.steps:>10.0f} {ms / args.steps:>9.1f} {ms / total:>7.1%}")
    rest = sum(ms for _, (_, ms) in rows[args.top:])
    print(f"{'(all others)':<36} {'':>10} {rest / args.steps:>9.1f} {rest / total:>7.1%}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"machine": machine, "model": args.model, "batch": args.batch, "size": args.size,
                       "steps": args.steps,
                       "wall_ms_per_step": wall / args.steps * 1000,
                       "operators": {n: {"calls_per_step": c / args.steps, "ms_per_step": ms / args.steps,
                                         "share": ms / total} for n, (c, ms) in rows}}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
