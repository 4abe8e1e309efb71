"""A feature pyramid's forward (features_only, every level) against the full net's forward.

Both hybridized (static_alloc/shape) on the same input; timed in alternation, A B A B ..., and
printed per model with the median ratio pyramid / net and its min..max over rounds (target: the
pyramid within 5 % of the net, i.e. a ratio <= 1.05).

    .venv/bin/python benchmarks/backbone_speed.py --rounds 7
"""
import argparse
import statistics
import time

import gluon_googlenet  # noqa: F401  (sets OMP_NUM_THREADS before MXNet loads)
from gluon_googlenet import get_model
from gluon_googlenet.base.cpu import machine_record
from gluon_googlenet.nn.backbone import FeatureNet

import mxnet as mx

CASES = [("googlenet_d2l", 96, 32), ("googlenet", 224, 8), ("inception_v3", 299, 4)]


def seconds(block, x, calls):
    """Seconds for ``calls`` forward passes, outputs waited for."""
    start = time.perf_counter()
    for _ in range(calls):
        out = block(x)
    for array in out if isinstance(out, list) else [out]:
        array.wait_to_read()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=5, help="forward passes per timing")
    args = parser.parse_args()
    machine = machine_record()
    print(f"machine: {machine['cpu_model']} ({machine['isa']}), {machine['omp_threads']} threads, "
          f"MXNet {machine['mxnet']}")
    print(f"\n{'model':<16} {'input':>12} {'net (img/s)':>12} {'pyramid (img/s)':>16} "
          f"{'pyramid/net time: median (min..max)':>38}")
    for name, side, batch in CASES:
        channels = get_model(name).in_channels
        net = get_model(name)
        net.initialize(mx.init.Xavier())
        pyramid = FeatureNet(net)  # the same layers and weights
        x = mx.nd.random.uniform(shape=(batch, channels, side, side))
        for block in (net, pyramid):
            block.hybridize(static_alloc=True, static_shape=True)
            seconds(block, x, 2)  # graph, memory
        pairs = [(seconds(net, x, args.calls), seconds(pyramid, x, args.calls)) for _ in range(args.rounds)]
        ratios = [b / a for a, b in pairs]
        rate = batch * args.calls
        print(f"{name:<16} {f'{batch}x{channels}x{side}':>12} {rate / statistics.median(a for a, _ in pairs):>12.1f} "
              f"{rate / statistics.median(b for _, b in pairs):>16.1f} "
              f"{statistics.median(ratios):>18.3f} ({min(ratios):.3f}..{max(ratios):.3f})")


if __name__ == "__main__":
    main()
