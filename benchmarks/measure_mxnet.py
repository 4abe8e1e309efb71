"""Time one MXNet case of the benchmark; prints one JSON line. Run by benchmarks/run.py, which
sets OMP_NUM_THREADS per case (it must be set before MXNet loads).

Cases: train-imperative, train-hybrid, train-bf16, trainer (whole trainer vs bare step on a
real-data slice), infer-fp32, infer-fused, infer-bf16, infer-int8, epoch-accuracy; for the peer
benchmark (benchmarks/peers.py) also sgemm (the matmul rate) and prepare (the shared weights,
ONNX file, calibration and test images). --model and --batch pick the net and batch (default:
the d2l net at its 96x96, batch 128); --weights loads saved parameters (a checkpoint or .params).
"""
import argparse
import json
import os
import statistics
import sys
import time

PRECISION = "bf16" if "--precision=bf16" in sys.argv or sys.argv[-2:] == ["--precision", "bf16"] else "fp32"
AMX = False
if "infer-bf16" in sys.argv:  # a process of bf16 inference only: AMX where the CPU has it, before MXNet loads
    from gluon_googlenet.base.amx import amx_for_bf16_inference
    AMX = amx_for_bf16_inference()
if "train-bf16" in sys.argv or PRECISION == "bf16":
    from mxnet.contrib import amp  # AMP must patch MXNet before any net is built
    amp.init(target_dtype="bfloat16")

from gluon_googlenet import TrainConfig, get_model, train  # noqa: E402
from gluon_googlenet.training.data.run_data import load_dataset  # noqa: E402
from gluon_googlenet.training.data.sampling import EpochSampler, make_loader  # noqa: E402
from gluon_googlenet.training.loop import evaluate, train_epoch  # noqa: E402
from gluon_googlenet.training.optimizer import make_trainer  # noqa: E402
from gluon_googlenet.training.run.checkpoint import load_model  # noqa: E402
from gluon_googlenet.training.run.resolve import resolve_run  # noqa: E402
from gluon_googlenet.weights import fast  # noqa: E402

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
from mxnet import autograd, gluon  # noqa: E402

# Set from the command line by main(): --batch, --model, --repeats.
BATCH, MODEL, REPEATS = 128, "googlenet_d2l", 3


def input_shape(batch=None):
    from gluon_googlenet import get_spec
    return ((batch or BATCH),) + tuple(get_spec(MODEL).input_size)


def build(weights=None):
    """MODEL with ``weights`` (a checkpoint or a .params file), else Xavier-initialised (seed 0)."""
    if weights and weights.endswith(".ckpt"):
        return load_model(weights)[0]
    net = get_model(MODEL)
    if weights:
        net.load_parameters(weights, ctx=mx.cpu())
    else:
        mx.random.seed(0)
        net.initialize(mx.init.Xavier())
    return net


def rate(fn, steps):
    """Median images/s of REPEATS windows of ``steps`` calls, after two warm-up calls."""
    fn()
    fn()
    mx.nd.waitall()
    rates = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(steps):
            fn()
        mx.nd.waitall()
        rates.append(BATCH * steps / (time.perf_counter() - start))
    return statistics.median(rates)


def train_step_rate(hybrid, steps):
    net = build()
    if hybrid:
        net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    x = mx.nd.random.uniform(shape=input_shape())
    y = mx.nd.array(np.arange(BATCH) % net.num_classes)

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
    sampler = EpochSampler(len(images), seed=0)
    loader = make_loader(images, labels, BATCH, sampler=sampler)
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    train_epoch(net, trainer, make_loader(images[:2 * BATCH], labels[:2 * BATCH], BATCH), loss_fn, run)  # warm-up
    rates = []
    for epoch in range(2):
        sampler.epoch = epoch
        result = train_epoch(net, trainer, loader, loss_fn, run)
        rates.append(result.seen / result.seconds)
    return {"trainer": statistics.median(rates), "bare": bare}


def inference(kind, steps, checkpoint, data_dir, eval_limit, calib=None, test=None):
    """``calib`` / ``test``: .npy / .npz files from the prepare case (uint8 images, labels)
    instead of the data set's first 512 training and ``eval_limit`` test images."""
    net = build(checkpoint if checkpoint and os.path.exists(checkpoint) else None)
    shape = input_shape()
    if kind == "fp32":
        net.hybridize(static_alloc=True, static_shape=True)
        block = net
    elif kind == "fused":
        block = fast.fused(net, shape)
    elif kind == "bf16":
        block = fast.bfloat16(net, shape)
    else:
        images = np.load(calib) if calib else load_dataset("fashion-mnist", "train", data_dir, 96, 512)[0]
        block = fast.int8(net, images, batch_size=BATCH)
    x = mx.nd.random.uniform(shape=shape)
    result = {"images_per_sec": rate(lambda: block(x), steps), "amx": AMX}
    if test or (checkpoint and checkpoint.endswith(".ckpt") and os.path.exists(checkpoint)):
        if test:
            saved = np.load(test)
            images, labels = saved["images"], saved["labels"]
        else:
            images, labels = load_dataset("fashion-mnist", "test", data_dir, 96, eval_limit)
        wrapped = (lambda b: block(b).astype("float32")) if kind == "bf16" else block
        result["test_acc"] = evaluate(_Callable(wrapped), make_loader(images, labels, BATCH),
                                      [mx.cpu()], net.num_classes)["acc"]
        result["test_images"] = len(labels)
    return result


class _Callable:
    def __init__(self, fn):
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)


def sgemm(size=2048, repeats=5):
    """GFLOP/s of float32 C = A B (size^3 mult-adds) through MXNet's dot (its BLAS), its
    FullyConnected (oneDNN's inner product) and numpy's matmul: best of ``repeats``."""
    a, b = np.random.rand(size, size).astype("float32"), np.random.rand(size, size).astype("float32")
    ma, mb = mx.nd.array(a), mx.nd.array(b)
    cases = {"mxnet_dot": lambda: mx.nd.dot(ma, mb).wait_to_read(),
             "mxnet_fully_connected": lambda: mx.nd.FullyConnected(ma, mb, no_bias=True,
                                                                   num_hidden=size).wait_to_read(),
             "numpy": lambda: a @ b}
    out = {}
    for name, fn in cases.items():
        fn()
        best = min(_timed(fn) for _ in range(repeats))
        out[name] = 2 * size ** 3 / best / 1e9
    return out


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def prepare(work, checkpoint, data_dir, calib_count, test_count):
    """Into ``work``: MODEL's weights (the d2l checkpoint, else seeded Xavier) as .params, its
    ONNX export, uint8 calibration images (the data set's first training images, else seeded
    noise) and, for the d2l net, the test images and labels. Returns the file names."""
    from gluon_googlenet.weights.export import export_onnx
    d2l = MODEL == "googlenet_d2l" and checkpoint and os.path.exists(checkpoint)
    net = build(checkpoint if d2l else None)
    shape = input_shape(1)
    net(mx.nd.zeros(shape))
    files = {"params": os.path.join(work, f"{MODEL}.params"), "onnx": os.path.join(work, f"{MODEL}.onnx"),
             "calib": os.path.join(work, f"{MODEL}-calib.npy")}
    net.save_parameters(files["params"])
    export_onnx(net, files["onnx"], shape)
    if d2l:
        np.save(files["calib"], load_dataset("fashion-mnist", "train", data_dir, shape[2], calib_count)[0])
        images, labels = load_dataset("fashion-mnist", "test", data_dir, shape[2], test_count)
        files["test"] = os.path.join(work, f"{MODEL}-test.npz")
        np.savez(files["test"], images=images, labels=labels)
    else:
        noise = np.random.RandomState(0).randint(0, 256, size=(calib_count,) + shape[1:], dtype=np.uint8)
        np.save(files["calib"], noise)
    return files


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
    parser.add_argument("--model", default="googlenet_d2l")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--weights", help="a checkpoint or .params file (inference and prepare)")
    parser.add_argument("--calib", help="uint8 calibration images (.npy) for infer-int8")
    parser.add_argument("--test", help="uint8 test images and labels (.npz): accuracy of the infer cases")
    parser.add_argument("--work", help="prepare: the folder for the shared files")
    parser.add_argument("--calib-count", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3, help="timed windows of --steps calls (median)")
    args = parser.parse_args()
    global BATCH, MODEL, REPEATS
    BATCH, MODEL, REPEATS = args.batch, args.model, args.repeats
    case = args.case
    if case in ("train-imperative", "train-hybrid", "train-bf16"):
        out = {"images_per_sec": train_step_rate(case != "train-imperative", args.steps)}
    elif case == "trainer":
        out = trainer_vs_bare(args.steps, args.data_dir)
    elif case.startswith("infer-"):
        out = inference(case[6:], args.steps, args.weights or args.checkpoint, args.data_dir, args.eval_limit,
                        args.calib, args.test)
    elif case == "sgemm":
        out = sgemm()
    elif case == "prepare":
        out = prepare(args.work, args.weights or args.checkpoint, args.data_dir, args.calib_count, args.eval_limit)
    elif case == "epoch-accuracy":
        out = epoch_accuracy(args.precision, args.limit, args.data_dir, args.out)
    else:
        parser.error(f"unknown case {case}")
    out.update(case=case, model=MODEL, batch=BATCH, omp_threads=os.environ.get("OMP_NUM_THREADS"),
               mxnet=mx.__version__)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
