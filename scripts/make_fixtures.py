"""Write tests/fixtures/mnist_resnet-LABEL.*: files a user saves, kept so the tests show they load.

    .venv/bin/python scripts/make_fixtures.py LABEL

- ``mnist_resnet-LABEL.ckpt``: ``last.ckpt`` of a one-epoch ``mnist_resnet`` run (28x28, batch 16,
  momentum SGD, seed 0) on 64 random IDX images (tests/conftest.py's ``make_idx_dir``, seed 0);
- ``mnist_resnet-LABEL-symbol.json``, ``-0000.params``, ``-meta.json``: that net exported;
- ``mnist_resnet-LABEL-io.npy``: two random 1x28x28 inputs (``RandomState(0).rand``) and the
  net's logits for them, one row each: 784 inputs, then 10 logits.

Write new files on purpose only when the formats change, and say so in tests/fixtures/README.md.
"""
import argparse
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import gluon_googlenet  # noqa: E402,F401  (threads before MXNet)
from gluon_googlenet.training.run.checkpoint import load_model  # noqa: E402
from gluon_googlenet.training.run.config import TrainConfig  # noqa: E402
from gluon_googlenet.training.trainer import train  # noqa: E402
from gluon_googlenet.weights.export import export_model  # noqa: E402

import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
from conftest import FIXTURES, make_idx_dir  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("label", help="what the files are frozen at (a release: v1)")
    prefix = os.path.join(FIXTURES, f"mnist_resnet-{parser.parse_args().label}")
    with tempfile.TemporaryDirectory() as scratch:
        data = make_idx_dir(os.path.join(scratch, "data"), n_train=64, n_test=16)
        out = os.path.join(scratch, "run")
        train(TrainConfig(model="mnist_resnet", data_dir=data, epochs=1, batch_size=16, resize=0,
                          optimizer="momentum", wd=1e-4, out=out, progress=False, verify_data=False))
        shutil.copy(os.path.join(out, "last.ckpt"), prefix + ".ckpt")
    net, _ = load_model(prefix + ".ckpt")
    export_model(net, prefix, (1, 1, 28, 28))
    x = np.random.RandomState(0).rand(2, 1, 28, 28).astype(np.float32)
    logits = net(mx.nd.array(x)).asnumpy()
    np.save(prefix + "-io.npy", np.concatenate([x.reshape(2, -1), logits], axis=1))
    print(prefix + ".*")


if __name__ == "__main__":
    main()
