"""Checkpoints: a checkpoint saved before the package was split into layers still loads,
computes what it computed then, and resumes; damaged and foreign files are refused."""
import os
import shutil

import mxnet as mx
import numpy as np
import pytest
from conftest import FIXTURES, make_idx_dir

from gluon_googlenet import TrainConfig, train
from gluon_googlenet.base.errors import CheckpointError
from gluon_googlenet.training.checkpoint import load_model, read_checkpoint

LEGACY = os.path.join(FIXTURES, "mnist_resnet-f4d23ed.ckpt")


def _legacy_io():
    rows = np.load(os.path.join(FIXTURES, "mnist_resnet-f4d23ed-io.npy"))
    return rows[:, :784].reshape(-1, 1, 28, 28), rows[:, 784:]


def test_a_checkpoint_from_before_the_split_loads_and_computes_the_same():
    net, meta = load_model(LEGACY)
    assert (meta["model"], meta["epoch"], meta["input_size"]) == ("mnist_resnet", 1, 28)
    x, logits = _legacy_io()
    out = net(mx.nd.array(x)).asnumpy()
    assert np.abs(out - logits).max() <= 1e-5 * np.abs(logits).max()


def test_a_checkpoint_from_before_the_split_resumes(tmp_path):
    """Its run (64 random images, seed 0, as tests/fixtures/README.md says) goes on to epoch 2."""
    data = make_idx_dir(tmp_path / "data", n_train=64, n_test=16)
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(LEGACY, out / "last.ckpt")
    result = train(TrainConfig(model="mnist_resnet", data_dir=data, epochs=2, batch_size=16, resize=0,
                               optimizer="nag", out=str(out), resume=True, progress=False, verify_data=False))
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert read_checkpoint(str(out / "last.ckpt"))[0]["epoch"] == 2


def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.ckpt is not a gluon-googlenet checkpoint"):
        read_checkpoint(str(bad))
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(str(tmp_path / "missing.ckpt"))
