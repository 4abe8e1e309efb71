"""The training step with the small maps' graph against the whole graph, side by side in one process.

On 1x1 and 2x2 maps the Inception blocks leave out the kernel taps and the pooling that only meet
padding (``StagedNet.trim_small_maps``, on by default). Two nets with the same weights, one with it
and one without, take training steps (SGD with momentum and weight decay, as the fast recipe) on
one fixed random batch in turn, A B B A A B ..., so the machine's drift falls on both; printed:
each graph's median step, the ratio trimmed / whole per pair (median, min, max) and the largest
difference of their first outputs (the same function: float rounding only).

    python benchmarks/small_maps.py [--model googlenet_d2l_bn] [--size 28] [--batch 256] [--pairs 20]
"""
import argparse
import statistics
import time

import gluon_googlenet  # noqa: F401  (threads before MXNet)
from gluon_googlenet import get_model, get_spec
from gluon_googlenet.base.cpu import machine_record

import mxnet as mx
from mxnet import autograd, gluon


def make_step(model, size, batch, trim):
    """A training step of ``model`` on a fixed random batch, with or without the small maps' graph;
    returns (step, the first batch's output)."""
    mx.random.seed(0)
    x = mx.nd.random.uniform(shape=(batch, get_spec(model).input_size[0], size, size))
    y = mx.nd.array([i % 10 for i in range(batch)])
    net = get_model(model, input_size=size, num_classes=10)
    net.initialize(mx.init.Xavier())
    net.trim_small_maps = trim
    net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1, "momentum": 0.9, "wd": 5e-4})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    first = net(x).asnumpy()

    def step():
        with autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch)
    return step, first, net


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="googlenet_d2l_bn")
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    args = p.parse_args()
    record = machine_record(probe=False)
    print(f"{record['cpu_model']} ({record['isa']}), {record['omp_threads']} threads; {args.model}, "
          f"batch {args.batch} at {args.size}x{args.size}")
    built = {trim: make_step(args.model, args.size, args.batch, trim) for trim in (False, True)}
    blocks = built[True][2].trimmed_blocks((1, 1, args.size, args.size))
    print("blocks on small maps: " + (", ".join(f"{b.name} ({s}x{s})" for b, s in blocks) or "none"))
    for step, _, _ in built.values():
        for _ in range(args.warmup):
            step()
    mx.nd.waitall()
    times = {False: [], True: []}
    for i in range(args.pairs):
        for trim in ((False, True) if i % 2 == 0 else (True, False)):
            start = time.perf_counter()
            built[trim][0]()
            mx.nd.waitall()
            times[trim].append(time.perf_counter() - start)
    ratios = [a / b for a, b in zip(times[True], times[False])]
    diff = abs(built[True][1] - built[False][1]).max()
    print(f"whole graph: {1000 * statistics.median(times[False]):.0f} ms a step (median of {args.pairs})")
    print(f"small maps:  {1000 * statistics.median(times[True]):.0f} ms a step")
    print(f"small maps / whole, pair by pair: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")
    print(f"first outputs differ by at most {diff:.2e} (of {abs(built[False][1]).max():.2f})")


if __name__ == "__main__":
    main()
