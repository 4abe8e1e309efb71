"""Time one MXNet case of the benchmark; prints one JSON line. Run by benchmarks/run.py, which
sets OMP_NUM_THREADS per case (it must be set before MXNet loads).

Cases: train-imperative, train-hybrid, train-bf16, trainer (whole trainer vs bare step on a
real-data slice), infer-fp32, infer-fused, infer-bf16, infer-int8, epoch-accuracy.
"""
import argparse
import json
import os
import statistics
import sys
import time

PRECISION = "bf16" if "--precision=bf16" in sys.argv or sys.argv[-2:] == ["--precision", "bf16"] else "fp32"
if "train-bf16" in sys.argv or PRECISION == "bf16":
    from mxnet.contrib import amp  # AMP must patch MXNet before any net is built
    amp.init(target_dtype="bfloat16")

from gluon_googlenet import TrainConfig, get_model, train  # noqa: E402
from gluon_googlenet.training.checkpoint import load_model  # noqa: E402
from gluon_googlenet.training.data import load_dataset, make_loader  # noqa: E402
from gluon_googlenet.training.loop import evaluate, train_epoch  # noqa: E402
from gluon_googlenet.training.run import resolve_run  # noqa: E402
from gluon_googlenet.training.trainer import make_trainer  # noqa: E402
from gluon_googlenet.weights import fast  # noqa: E402

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
from mxnet import autograd, gluon  # noqa: E402

BATCH = 128


def rate(fn, steps, repeats=3):
    """Median images/s of ``repeats`` windows of ``steps`` calls, after two warm-up calls."""
    fn()
    fn()
    mx.nd.waitall()
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        mx.nd.waitall()
        rates.append(BATCH * steps / (time.perf_counter() - start))
    return statistics.median(rates)


def train_step_rate(hybrid, steps):
    net = get_model("googlenet_d2l")
    mx.random.seed(0)
    net.initialize(mx.init.Xavier())
    if hybrid:
        net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    if "train-bf16" in sys.argv:
        amp.init_trainer(trainer)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    x = mx.nd.random.uniform(shape=(BATCH, 1, 96, 96))
    y = mx.nd.array(np.arange(BATCH) % 10)

    def step():
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(BATCH)
    return rate(step, steps)


def trainer_vs_bare(steps, data_dir):
    """The trainer's own epoch loop (DataLoader, uint8 -> float, split_and_load, metrics) against
    the bare hybridized step on one in-memory batch, on real images; the trainer's epochs are
    4 x steps batches long, so per-epoch start-up weighs as little as in a real epoch."""
    images, labels = load_dataset("fashion-mnist", "train", data_dir, 96, BATCH * steps * 4)
    bare = train_step_rate(True, steps)
    net = get_model("googlenet_d2l")
    mx.random.seed(0)
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    run = resolve_run(TrainConfig())
    trainer = make_trainer(net, run)
    loader = make_loader(images, labels, BATCH, seed=0)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    train_epoch(net, trainer, make_loader(images[:2 * BATCH], labels[:2 * BATCH], BATCH), loss_fn, run)  # warm-up
    rates = []
    for epoch in range(2):
        loader.epoch_sampler.epoch = epoch
        result = train_epoch(net, trainer, loader, loss_fn, run)
        rates.append(result.seen / result.seconds)
    return {"trainer": statistics.median(rates), "bare": bare}


def inference(kind, steps, checkpoint, data_dir, eval_limit):
    if checkpoint and os.path.exists(checkpoint):
        net = load_model(checkpoint)[0]
    else:
        net = get_model("googlenet_d2l")
        net.initialize(mx.init.Xavier())
    shape = (BATCH, 1, 96, 96)
    if kind == "fp32":
        net.hybridize(static_alloc=True, static_shape=True)
        block = net
    elif kind == "fused":
        block = fast.fused(net, shape)
    elif kind == "bf16":
        block = fast.bfloat16(net, shape)
    else:
        calib, _ = load_dataset("fashion-mnist", "train", data_dir, 96, 512)
        block = fast.int8(net, calib, batch_size=BATCH)
    x = mx.nd.random.uniform(shape=shape)
    result = {"images_per_sec": rate(lambda: block(x), steps)}
    if checkpoint and os.path.exists(checkpoint):
        images, labels = load_dataset("fashion-mnist", "test", data_dir, 96, eval_limit)
        wrapped = (lambda b: block(b).astype("float32")) if kind == "bf16" else block
        result["test_acc"] = evaluate(_Callable(wrapped), make_loader(images, labels, BATCH),
                                      [mx.cpu()], 10)["acc"]
        result["test_images"] = len(labels)
    return result


class _Callable:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


def epoch_accuracy(precision, limit, data_dir, out):
    """Train one epoch on ``limit`` images at 96x96 (d2l recipe), report time and test accuracy."""
    result = train(TrainConfig(epochs=1, limit_train=limit, limit_test=2000, data_dir=data_dir,
                               precision=precision, out=out, progress=False))
    h = result.history[0]
    return {"examples_per_sec": h["examples_per_sec"], "test_acc": h["test_acc"], "train_loss": h["train_loss"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--checkpoint")
    parser.add_argument("--data-dir")
    parser.add_argument("--eval-limit", type=int, default=10000)
    parser.add_argument("--limit", type=int, default=12800)
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--out", default="/tmp/gluon_googlenet_bench_run")
    args = parser.parse_args()
    case = args.case
    if case in ("train-imperative", "train-hybrid", "train-bf16"):
        out = {"images_per_sec": train_step_rate(case != "train-imperative", args.steps)}
    elif case == "trainer":
        out = trainer_vs_bare(args.steps, args.data_dir)
    elif case.startswith("infer-"):
        out = inference(case[6:], args.steps, args.checkpoint, args.data_dir, args.eval_limit)
    elif case == "epoch-accuracy":
        out = epoch_accuracy(args.precision, args.limit, args.data_dir, args.out)
    else:
        parser.error(f"unknown case {case}")
    out.update(case=case, omp_threads=os.environ.get("OMP_NUM_THREADS"), mxnet=mx.__version__)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
