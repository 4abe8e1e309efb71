"""The book's own code (d2l==1.0.3, MXNet edition, section 8.4) running this package's nets.

Run by tests/test_d2l_book.py with the d2l venv's Python (scripts/setup_d2l.sh):
``python d2l_book.py FASHION_DIR``. Prints the stage table of ``layer_summary`` on
``get_model("googlenet_d2l")``, then trains the book's GoogleNet class, with our ``Inception`` in
place of the book's, for one short epoch with ``d2l.Trainer`` on ``d2l.FashionMNIST``, and prints
an epoch line. The data: the Debian package's files copied where MXNet's data set looks.
"""
import hashlib
import os
import shutil
import sys
import tempfile

home = tempfile.mkdtemp(prefix="d2l-mxnet-home-")
os.environ["MXNET_HOME"] = home  # read when MXNet loads (gluon.data's default root): before any import of it
folder = os.path.join(home, "datasets", "fashion-mnist")
os.makedirs(folder)
COPIED = {}
for name in os.listdir(sys.argv[1]):
    shutil.copy(os.path.join(sys.argv[1], name), os.path.join(folder, name))
    with open(os.path.join(folder, name), "rb") as handle:
        COPIED[name] = hashlib.sha1(handle.read()).hexdigest()

import gluon_googlenet  # noqa: E402,F401  (before mxnet: threads)
from gluon_googlenet import Inception, get_model  # noqa: E402

from d2l import mxnet as d2l  # noqa: E402
from mxnet import init, np, npx  # noqa: E402
from mxnet.gluon import nn  # noqa: E402
from mxnet.gluon.data.vision import datasets  # noqa: E402

npx.set_np()  # as every MXNet notebook of the book starts

# Debian re-compresses the four .gz files, so their SHA-1s are not those in MXNet's table and
# FashionMNIST would download them again: a copied file counts as present when its SHA-1 is the one
# of the copy made above (the uncompressed bytes are Zalando's; gluon_googlenet's MD5 checks of them
# are untouched).
_download = datasets.download


def download(url, path=None, overwrite=False, sha1_hash=None, **kwargs):
    """MXNet's download, which takes the copies above as they are."""
    name = os.path.basename(url)
    local = os.path.join(path, name)
    if name in COPIED and os.path.isfile(local):
        with open(local, "rb") as handle:
            if hashlib.sha1(handle.read()).hexdigest() == COPIED[name]:
                return local
    return _download(url, path, overwrite, sha1_hash, **kwargs)


datasets.download = download

# 1. The book's layer_summary on our net: it walks `for layer in self.net`.
print("== layer_summary")
model = d2l.Classifier()
model.net = get_model("googlenet_d2l")
model.net.initialize(init.Xavier())
assert len(model.net) == 6
model.layer_summary((1, 1, 96, 96))


# 2. The book's GoogleNet (d2l 8.4), its Inception replaced by ours.
class GoogleNet(d2l.Classifier):
    def b1(self):
        net = nn.Sequential()
        net.add(nn.Conv2D(64, kernel_size=7, strides=2, padding=3, activation="relu"),
                nn.MaxPool2D(pool_size=3, strides=2, padding=1))
        return net

    def b2(self):
        net = nn.Sequential()
        net.add(nn.Conv2D(64, kernel_size=1, activation="relu"),
                nn.Conv2D(192, kernel_size=3, padding=1, activation="relu"),
                nn.MaxPool2D(pool_size=3, strides=2, padding=1))
        return net

    def b3(self):
        net = nn.Sequential()
        net.add(Inception(64, (96, 128), (16, 32), 32),
                Inception(128, (128, 192), (32, 96), 64),
                nn.MaxPool2D(pool_size=3, strides=2, padding=1))
        return net

    def b4(self):
        net = nn.Sequential()
        net.add(Inception(192, (96, 208), (16, 48), 64),
                Inception(160, (112, 224), (24, 64), 64),
                Inception(128, (128, 256), (24, 64), 64),
                Inception(112, (144, 288), (32, 64), 64),
                Inception(256, (160, 320), (32, 128), 128),
                nn.MaxPool2D(pool_size=3, strides=2, padding=1))
        return net

    def b5(self):
        net = nn.Sequential()
        net.add(Inception(256, (160, 320), (32, 128), 128),
                Inception(384, (192, 384), (48, 128), 128),
                nn.GlobalAvgPool2D())
        return net

    def __init__(self, lr=0.1, num_classes=10):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential()
        self.net.add(self.b1(), self.b2(), self.b3(), self.b4(), self.b5(), nn.Dense(num_classes))
        self.net.initialize(init.Xavier())


print("== GoogleNet().layer_summary")
GoogleNet().layer_summary((1, 1, 96, 96))

print("== d2l.Trainer")
SIDE, TRAIN, VAL = 32, 1024, 512  # one short epoch: a slice at 32x32 (the book: all, at 96)
model = GoogleNet(lr=0.01)
model.board.display = False  # no figure in a terminal
data = d2l.FashionMNIST(batch_size=64, resize=(SIDE, SIDE))
data.train, data.val = data.train.take(TRAIN), data.val.take(VAL)
model(np.zeros((1, 1, SIDE, SIDE)))  # the deferred shapes, so the classifier can be read
before = model.net[5].weight.data().copy()
trainer = d2l.Trainer(max_epochs=1)
trainer.fit(model, data)
losses, correct = [], 0.0
for X, y in data.val_dataloader():
    out = model(X)
    losses.append(float(model.loss(out, y)))
    correct += float(model.accuracy(out, y, averaged=False).sum())
changed = float(np.abs(model.net[5].weight.data() - before).max())
print(f"epoch 1: {TRAIN} images at {SIDE}x{SIDE}, {trainer.train_batch_idx} batches, "
      f"val loss {sum(losses) / len(losses):.3f}, val acc {correct / VAL:.3f}, classifier moved {changed:.2e}")
