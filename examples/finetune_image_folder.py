"""Fine-tune ImageNet weights on your own image folder (one sub-folder per class), as
googlenet_bn's source trains Inception v1 on two classes, but from published weights.

    python examples/finetune_image_folder.py --weights googlenet-c7c89366.params  # GluonCV
    python examples/finetune_image_folder.py --weights googlenet-1378be20.pth     # torchvision
    python examples/finetune_image_folder.py --weights gluoncv   # GluonCV's store, ~/.mxnet/models
        [--image-folder DIR] [--model googlenet] [--freeze b1,b2,b3] [--ctx cpu|gpu|gpu:0,1]

Without --image-folder the script draws the two-class folder of train_image_folder.py. The head is new
(sized for the folder's classes), the frozen stages keep their weights and BN statistics, and
inputs are normalised as the weights' source normalised them.
"""
import argparse
import os
import tempfile

import gluon_googlenet  # noqa: F401  (before mxnet: sets OMP_NUM_THREADS)
from gluon_googlenet import TrainConfig, train

from train_image_folder import make_folder  # the two-class picture folder of the sibling example


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
        folder = args.image_folder or make_folder(os.path.join(scratch, "images"), per_class=24,
                                                  size=args.resize)
        result = train(TrainConfig(model=args.model, image_folder=folder, pretrained=args.weights,
                                   freeze=args.freeze or None, resize=args.resize, epochs=args.epochs,
                                   batch_size=args.batch_size, optimizer="adam", lr=1e-3,
                                   ctx=args.ctx, out=args.out, progress=False))
    for row in result.history:
        print(f"epoch {row['epoch']}: train loss {row['train_loss']:.3f}, test acc {row['test_acc']:.3f}")
    print(f"best checkpoint: {os.path.join(result.out, 'best.ckpt')}")


if __name__ == "__main__":
    main()
