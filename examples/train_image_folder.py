"""Train Inception v1 with BN (googlenet_bn) on an image folder this script makes.

The folder holds two classes of 48x48 pictures, one folder per class, as in the article
(their data: two classes at 224x224). The run uses the article's recipe scaled down: an
80/20 split per class, ImageNet mean/std normalisation, Adam, best model kept.

    python examples/train_image_folder.py [--out runs/image_folder] [--epochs 10]
"""
import argparse
import os
import tempfile

import gluon_googlenet  # noqa: F401  (before mxnet: sets OMP_NUM_THREADS)
from gluon_googlenet import TrainConfig, train
from gluon_googlenet.training.inference import evaluate_checkpoint

import numpy as np
from PIL import Image


def make_folder(root, per_class=40, size=48, seed=0):
    """Class 'stripes' has horizontal stripes, class 'blobs' a bright disc; both noisy."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[:size, :size]
    for name in ("stripes", "blobs"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(per_class):
            img = rng.randint(0, 80, (size, size, 3))
            if name == "stripes":
                img[(yy // rng.randint(3, 7)) % 2 == 0] += 140
            else:
                cy, cx, r = rng.randint(12, size - 12, 2).tolist() + [rng.randint(6, 12)]
                img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] += 160
            Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(os.path.join(root, name, f"{i}.png"))
    return root


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/image_folder")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = make_folder(os.path.join(scratch, "images"))
        result = train(TrainConfig(model="googlenet_bn", image_folder=folder, resize=48,
                                   optimizer="adam", lr=1e-3, batch_size=16, epochs=args.epochs,
                                   out=args.out, progress=False))
        for row in result.history:
            print(f"epoch {row['epoch']}: train loss {row['train_loss']:.3f}, "
                  f"test acc {row['test_acc']:.3f}")
        report = evaluate_checkpoint(os.path.join(args.out, "best.ckpt"))
    print(f"best checkpoint: test accuracy {report['acc']:.3f} on {report['count']} images; "
          f"per class: {report['per_class']}")


if __name__ == "__main__":
    main()
