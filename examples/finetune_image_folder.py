"""Fine-tune ImageNet weights on your own image folder (one sub-folder per class), as reference
article 002 trains Inception v1 on two classes, but from published weights.

    python examples/finetune_image_folder.py --weights googlenet-c7c89366.params  # GluonCV
    python examples/finetune_image_folder.py --weights googlenet-1378be20.pth     # torchvision
    python examples/finetune_image_folder.py --weights gluoncv   # GluonCV's store, ~/.mxnet/models
        [--image-folder DIR] [--model googlenet] [--freeze b1,b2,b3] [--ctx cpu|gpu|gpu:0,1]

Without --image-folder the script draws a small two-class folder of its own. The head is new
(sized for the folder's classes), the frozen stages keep their weights and BN statistics, and
inputs are normalised as the weights' source normalised them.
"""
import argparse
import os
import tempfile

import gluon_googlenet  # noqa: F401  (before mxnet: sets OMP_NUM_THREADS)
import numpy as np
from PIL import Image

from gluon_googlenet.trainer import TrainConfig, train


def draw_folder(root, per_class=24, size=96, seed=0):
    """Two classes: a bright disc, or bright horizontal stripes, on noise."""
    rng = np.random.RandomState(seed)
    yy, xx = np.mgrid[:size, :size]
    for name in ("blobs", "stripes"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(per_class):
            img = rng.randint(0, 80, (size, size, 3))
            if name == "stripes":
                img[(yy // rng.randint(4, 9)) % 2 == 0] += 140
            else:
                cy, cx, r = rng.randint(size // 4, 3 * size // 4, 2).tolist() + [size // 6]
                img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] += 160
            Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(os.path.join(root, name, f"{i}.png"))
    return root


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="a .params/.pth/.safetensors file, or 'gluoncv'")
    parser.add_argument("--model", default="googlenet")
    parser.add_argument("--image-folder", help="DIR/<class>/*.png|jpg... (default: draw one)")
    parser.add_argument("--freeze", default="b1,b2,b3", help="stages kept fixed ('' for none)")
    parser.add_argument("--resize", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--ctx", default="cpu")
    parser.add_argument("--out", default="runs/finetune")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.image_folder or draw_folder(os.path.join(scratch, "images"), size=args.resize)
        result = train(TrainConfig(model=args.model, image_folder=folder, pretrained=args.weights,
                                   freeze=args.freeze or None, resize=args.resize, epochs=args.epochs,
                                   batch_size=args.batch_size, optimizer="adam", lr=1e-3,
                                   ctx=args.ctx, out=args.out, progress=False))
    for row in result.history:
        print(f"epoch {row['epoch']}: train loss {row['train_loss']:.3f}, test acc {row['test_acc']:.3f}")
    print(f"best checkpoint: {os.path.join(result.out, 'best.ckpt')}")


if __name__ == "__main__":
    main()
