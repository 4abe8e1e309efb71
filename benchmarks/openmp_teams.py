"""What one big array copy in Python's thread costs every later training step (base/threads.py).

Each round runs two fresh processes, A with MXNet's default MXNET_CPU_PARALLEL_SIZE (200,000:
copies above it use OpenMP in the thread that asks) and B with the package's setting (no copy
starts an OpenMP team), in the order A B A B. In each, one 1000x1000 float32 array goes
through ``mx.nd.array`` and ``asnumpy`` in Python's thread (what resizing a data set or writing
a checkpoint does), then googlenet_d2l trains steps of batch 128 at 32x32; the process prints
the OpenMP threads it has and its images/s. The table gives each round, the medians and B/A.

    .venv/bin/python benchmarks/openmp_teams.py --steps 30 --rounds 2
"""
import argparse
import os
import statistics
import subprocess
import sys

STEP = r"""
import os, sys, time
import gluon_googlenet
import mxnet as mx, numpy as np
from mxnet import autograd, gluon
from gluon_googlenet import get_model
steps = int(sys.argv[1])
big = mx.nd.array(np.ones((1000, 1000), np.float32)); big.asnumpy(); mx.nd.waitall()
net = get_model("googlenet_d2l", num_classes=10, in_channels=1, input_size=32)
net.initialize(mx.init.Xavier()); net.hybridize(static_alloc=True, static_shape=True)
trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.1})
loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
x, y = mx.nd.random.uniform(shape=(128, 1, 32, 32)), mx.nd.array(np.arange(128) % 10)
def step():
    with autograd.record():
        loss = loss_fn(net(x), y)
    loss.backward(); trainer.step(128)
for _ in range(5):
    step()
mx.nd.waitall(); start = time.perf_counter()
for _ in range(steps):
    step()
mx.nd.waitall()
print(len(os.listdir("/proc/self/task")), 128 * steps / (time.perf_counter() - start))
"""


def one_run(parallel_size, steps):
    """(threads, images/s) of a fresh process with MXNET_CPU_PARALLEL_SIZE=``parallel_size``."""
    env = dict(os.environ, MXNET_CPU_PARALLEL_SIZE=parallel_size)
    out = subprocess.run([sys.executable, "-c", STEP, str(steps)], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), float(out[1])


def main(argv=None):
    """Print the rounds, the medians and the ratio B/A."""
    from gluon_googlenet.base.cpu import cpu_info
    from gluon_googlenet.base.threads import SERIAL_COPY_SIZE
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args(argv)
    print(f"CPU: {cpu_info().describe()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    runs = {"A": [], "B": []}
    for round_ in range(1, args.rounds + 1):
        for label, size in (("A", "200000"), ("B", SERIAL_COPY_SIZE)):
            threads, speed = one_run(size, args.steps)
            runs[label].append(speed)
            print(f"round {round_} {label} (MXNET_CPU_PARALLEL_SIZE={size}): {threads} threads, {speed:.0f} images/s")
    a, b = statistics.median(runs["A"]), statistics.median(runs["B"])
    print(f"median A {a:.0f} images/s, B {b:.0f} images/s, B/A {b / a:.2f} "
          f"(rounds {min(runs['B']) / max(runs['A']):.2f}..{max(runs['B']) / min(runs['A']):.2f})")


if __name__ == "__main__":
    main()
