"""The book's GoogLeNet training loop (d2l 7.4, ``train_ch6``), written plainly around this
package's blocks as you would in your own project: Xavier init, SGD lr 0.1, batch 128,
Fashion-MNIST resized to 96x96 per sample, softmax cross-entropy, no hybridization.

    python examples/train_d2l_style.py [--epochs 10] [--ctx cpu|gpu|gpu:0,1] [--limit N]
"""
import argparse
import time

import gluon_googlenet  # noqa: F401  (before mxnet: sets OMP_NUM_THREADS)
from gluon_googlenet import GoogLeNet
from gluon_googlenet.base.context import parse_ctx
from gluon_googlenet.training.data.run_data import load_dataset

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon, init
from mxnet.gluon.data.vision import transforms


def load_data_fashion_mnist(batch_size, resize=96, limit=None):
    """d2l's loader: per-sample Resize + ToTensor, shuffled training batches."""
    trans = transforms.Compose([transforms.Resize(resize), transforms.ToTensor()])
    def dataset(split):  # our verified IDX reader in place of gluon's downloader
        images, labels = load_dataset("fashion-mnist", split, resize=None, limit=limit)
        return gluon.data.ArrayDataset(mx.nd.array(images[:, 0, :, :, None], dtype="uint8"), labels)
    return (gluon.data.DataLoader(dataset("train").transform_first(trans), batch_size, shuffle=True),
            gluon.data.DataLoader(dataset("test").transform_first(trans), batch_size, shuffle=False))


def evaluate_accuracy(net, data_iter, ctxs):
    correct, count = 0.0, 0
    for X, y in data_iter:
        for Xs, ys in zip(gluon.utils.split_and_load(X, ctxs, even_split=False),
                          gluon.utils.split_and_load(y, ctxs, even_split=False)):
            correct += (net(Xs).argmax(axis=1) == ys.astype("float32")).sum().asscalar()
            count += ys.size
    return correct / count


def train_epoch_ch6(net, train_iter, loss, trainer, ctxs):
    """One epoch of the book's loop; returns (mean loss, train accuracy, examples/sec)."""
    loss_sum, correct, count, start = 0.0, 0.0, 0, time.time()
    for X, y in train_iter:
        Xs = gluon.utils.split_and_load(X, ctxs, even_split=False)
        ys = gluon.utils.split_and_load(y, ctxs, even_split=False)
        with autograd.record():
            outs = [net(x) for x in Xs]
            ls = [loss(o, yy) for o, yy in zip(outs, ys)]
        autograd.backward(ls)
        trainer.step(X.shape[0])
        loss_sum += sum(loss.sum().asscalar() for loss in ls)
        correct += sum((o.argmax(axis=1) == yy.astype("float32")).sum().asscalar() for o, yy in zip(outs, ys))
        count += X.shape[0]
    return loss_sum / count, correct / count, count / (time.time() - start)


def train(net, train_iter, test_iter, num_epochs, lr, ctxs):
    net.initialize(force_reinit=True, ctx=ctxs, init=init.Xavier())
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": lr})
    for epoch in range(num_epochs):
        train_loss, train_acc, speed = train_epoch_ch6(net, train_iter, loss, trainer, ctxs)
        test_acc = evaluate_accuracy(net, test_iter, ctxs)
        print(f"epoch {epoch + 1}, loss {train_loss:.3f}, train acc {train_acc:.3f}, "
              f"test acc {test_acc:.3f}, {speed:.1f} examples/sec on {ctxs}")
    return test_acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--resize", type=int, default=96)
    parser.add_argument("--ctx", default="cpu", help="cpu, gpu, gpu:0,1 (data split over them)")
    parser.add_argument("--limit", type=int, help="first N images of each split (a quick look)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the initialisation (MXNet) and the batch order (numpy: Gluon's shuffle)")
    args = parser.parse_args()
    mx.random.seed(args.seed)
    np.random.seed(args.seed)  # gluon.data.DataLoader(shuffle=True) draws its order from numpy
    train_iter, test_iter = load_data_fashion_mnist(args.batch_size, args.resize, args.limit)
    train(GoogLeNet(num_classes=10, in_channels=1), train_iter, test_iter, args.epochs, args.lr, parse_ctx(args.ctx))
