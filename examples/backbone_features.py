"""GoogLeNet as a backbone in your own Gluon code: a feature pyramid and a small head on two levels.

    python examples/backbone_features.py --ctx cpu            # or gpu, gpu:0,1, cpu:0,1
    python examples/backbone_features.py --weights googlenet-xxxx.params   # GluonCV's trunk

The pyramid (``get_model(..., features_only=True)``) is one HybridBlock whose output is a list of
feature maps; ``feature_info`` gives each one's channels and reduction. The head pools the
16x and 32x levels, concatenates them and classifies. It trains for a few batches on images it
makes (two classes: a bright left or right half), splitting each batch over the contexts.
"""
import argparse

import gluon_googlenet  # noqa: F401  (import before mxnet: sets OMP_NUM_THREADS)
from gluon_googlenet import get_model
from gluon_googlenet.base.context import parse_ctx

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon
from mxnet.gluon import nn


class TwoLevelHead(gluon.HybridBlock):
    """Global average pool of two feature maps, concatenated, then a Dense classifier."""

    def __init__(self, classes, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.pool = nn.GlobalAvgPool2D()
            self.out = nn.Dense(classes)

    def hybrid_forward(self, F, fine, coarse):
        return self.out(F.concat(F.flatten(self.pool(fine)), F.flatten(self.pool(coarse)), dim=1))


def images(count, size, rng):
    """``count`` RGB images in [0, 1] and labels: class 0 brighter on the left, class 1 on the right."""
    x = rng.uniform(0, 0.3, (count, 3, size, size)).astype(np.float32)
    y = rng.randint(0, 2, count)
    for i, label in enumerate(y):
        half = slice(0, size // 2) if label == 0 else slice(size // 2, size)
        x[i, :, :, half] += 0.6
    return mx.nd.array(x), mx.nd.array(y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ctx", default="cpu", help="cpu, gpu, gpu:0,1, cpu:0,1")
    parser.add_argument("--weights", help="published googlenet weights (GluonCV .params, torchvision .pth)")
    parser.add_argument("--size", type=int, default=96, help="input side (default: 96)")
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    ctxs = parse_ctx(args.ctx)
    backbone = get_model("googlenet", pretrained=args.weights, features_only=True, out_indices=(3, 4),
                         input_size=args.size)
    if not args.weights:
        backbone.initialize(mx.init.Xavier(), ctx=ctxs)
    else:
        backbone.collect_params().reset_ctx(ctxs)
    for info in backbone.feature_info:
        print(f"level {info.module}: {info.num_chs} channels, 1/{info.reduction} of the input side")
    head = TwoLevelHead(2)
    head.initialize(mx.init.Xavier(), ctx=ctxs)
    backbone.hybridize(static_alloc=True)
    head.hybridize(static_alloc=True)
    params = backbone.collect_params()
    params.update(head.collect_params())
    trainer = gluon.Trainer(params, "adam", {"learning_rate": 1e-3})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    rng = np.random.RandomState(0)
    for batch in range(1, args.batches + 1):
        x, y = images(args.batch_size, args.size, rng)
        xs = gluon.utils.split_and_load(x, ctxs, even_split=False)
        ys = gluon.utils.split_and_load(y, ctxs, even_split=False)
        with autograd.record():
            losses = [loss_fn(head(*backbone(xi)), yi) for xi, yi in zip(xs, ys)]
        autograd.backward(losses)
        trainer.step(args.batch_size)
        print(f"batch {batch}: loss {sum(loss.sum().asscalar() for loss in losses) / args.batch_size:.4f}")


if __name__ == "__main__":
    main()
