"""Checkpoints: a checkpoint saved before the package was split into layers still loads,
computes what it computed then, and resumes; damaged and foreign files are refused."""
import os
import shutil

from gluon_googlenet import TrainConfig, train
from gluon_googlenet.base.errors import CheckpointError
from gluon_googlenet.training.run.checkpoint import load_model, read_checkpoint

import mxnet as mx
import numpy as np
import pytest
from conftest import SAVED, make_idx_dir

SAVED_CKPT = SAVED + ".ckpt"


def _saved_io():
    rows = np.load(SAVED + "-io.npy")
    return rows[:, :784].reshape(-1, 1, 28, 28), rows[:, 784:]


def test_a_saved_checkpoint_loads_and_computes_the_same():
    """tests/fixtures' checkpoint (scripts/make_fixtures.py): today's net and loader give its logits."""
    net, meta = load_model(SAVED_CKPT)
    assert (meta["model"], meta["epoch"], meta["input_size"]) == ("mnist_resnet", 1, 28)
    x, logits = _saved_io()
    out = net(mx.nd.array(x)).asnumpy()
    assert np.abs(out - logits).max() <= 1e-5 * np.abs(logits).max()


def test_a_saved_checkpoint_resumes(tmp_path):
    """Its run (64 random images, seed 0, as tests/fixtures/README.md says) goes on to epoch 2."""
    data = make_idx_dir(tmp_path / "data", n_train=64, n_test=16)
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(SAVED_CKPT, out / "last.ckpt")
    result = train(TrainConfig(model="mnist_resnet", data_dir=data, epochs=2, batch_size=16, resize=0,
                               optimizer="momentum", wd=1e-4, out=str(out), resume=True, progress=False,
                               verify_data=False))
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert read_checkpoint(str(out / "last.ckpt"))[0]["epoch"] == 2


def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path):
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.ckpt is not a gluon-googlenet checkpoint"):
        read_checkpoint(str(bad))
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(str(tmp_path / "missing.ckpt"))


def _tiny_run(tmp_path, epochs, resume=False):
    """mnist_resnet on 64 random 28x28 images: a checkpoint of about 120 kB a second."""
    data = make_idx_dir(tmp_path / "data", n_train=64, n_test=16)
    return train(TrainConfig(model="mnist_resnet", data_dir=data, epochs=epochs, batch_size=16, resize=0,
                             out=str(tmp_path / "run"), resume=resume, progress=False, verify_data=False))


def _flip(path, position, bit=3):
    raw = bytearray(open(path, "rb").read())
    raw[position] ^= 1 << bit
    with open(path, "wb") as handle:
        handle.write(raw)


def test_a_changed_bit_anywhere_is_named_not_loaded(tmp_path):
    """Every sampled position: weights, names, shapes, header, metadata, optimizer state, trailer."""
    _tiny_run(tmp_path, 1)
    good = tmp_path / "run" / "last.ckpt"
    size = good.stat().st_size
    positions = sorted(set(range(0, 64)) | set(range(0, size, max(1, size // 200))) | set(range(size - 64, size)))
    damaged = tmp_path / "damaged.ckpt"
    for position in positions:
        shutil.copy(good, damaged)
        _flip(str(damaged), position)
        with pytest.raises(CheckpointError, match=str(damaged)):
            read_checkpoint(str(damaged))
    assert read_checkpoint(str(good))[0]["epoch"] == 1


def test_every_verb_refuses_a_damaged_checkpoint_in_one_line(tmp_path, capsys):
    from gluon_googlenet import cli
    _tiny_run(tmp_path, 1)
    ckpt = str(tmp_path / "run" / "last.ckpt")
    _flip(ckpt, os.path.getsize(ckpt) // 2)
    data = str(tmp_path / "data")
    for argv in (["evaluate", ckpt, "--data-dir", data, "--no-verify"],
                 ["predict", "test:0", "--checkpoint", ckpt, "--data-dir", data],
                 ["export", "--checkpoint", ckpt, "--out", str(tmp_path / "m")]):
        assert cli.main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"{ckpt} is damaged" in err[0], err


def test_resume_falls_back_to_the_newest_intact_checkpoint(tmp_path, caplog):
    _tiny_run(tmp_path, 2)
    run = tmp_path / "run"
    last, previous, best = run / "last.ckpt", run / "previous.ckpt", run / "best.ckpt"
    assert read_checkpoint(str(previous))[0]["epoch"] == 1
    # best.ckpt is a second name of an epoch's last.ckpt, never a second copy
    assert best.stat().st_ino in (last.stat().st_ino, previous.stat().st_ino)
    _flip(str(last), 1000)
    with caplog.at_level("INFO", logger="gluon_googlenet"):
        result = _tiny_run(tmp_path, 3, resume=True)
    assert f"resuming from {previous}: 1 epoch(s) done" in caplog.text and "is damaged" in caplog.text
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert (run / "last.ckpt.damaged").exists() and read_checkpoint(str(last))[0]["epoch"] == 3
    for path in (last, previous, best):
        _flip(str(path), 500)
    with pytest.raises(CheckpointError, match="no intact checkpoint in .*is damaged"):
        _tiny_run(tmp_path, 4, resume=True)
