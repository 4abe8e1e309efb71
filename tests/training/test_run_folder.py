"""A run folder keeps what it holds: a second run into it stops before touching it, with the two
ways on; --overwrite moves the earlier run's files aside, nothing deleted. Real folders and runs."""
import json
import os

from gluon_googlenet import TrainConfig, train
from gluon_googlenet.base.errors import ConfigError, OutputDirError

import pytest
from conftest import SMALL, make_idx_dir, run_cli

pytestmark = pytest.mark.slow  # real runs, two through the command line in new processes

FLAGS = ("--resize", "0", "--epochs", "1", "--limit-train", "32", "--limit-test", "16", "--batch-size", "16",
         "--model", "mnist_resnet", "--no-progress", "--no-verify")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A finished one-epoch run in a folder, and what its files held."""
    root = tmp_path_factory.mktemp("runfolder")
    data = make_idx_dir(root / "data", n_train=32, n_test=16)
    out = root / "R"
    result = run_cli("train", *FLAGS, "--data-dir", data, "--out", str(out))
    assert result.returncode == 0, result.stderr
    held = {name: (out / name).read_bytes() for name in ("best.ckpt", "last.ckpt", "history.json")}
    return data, out, held


def test_a_second_run_into_a_run_folder_stops_before_touching_it(first_run):
    data, out, held = first_run
    before = sorted(os.listdir(out))
    result = run_cli("train", *FLAGS, "--lr", "0.01", "--data-dir", data, "--out", str(out))
    assert result.returncode == 1
    line, = result.stderr.strip().splitlines()
    best = max(epoch["test_acc"] for epoch in json.loads(held["history.json"]))
    assert f"{out} holds another run (mnist_resnet, 1 epoch(s), best test acc {best:.3f})" in line
    assert "--resume" in line and "--overwrite" in line
    assert sorted(os.listdir(out)) == before
    assert all((out / name).read_bytes() == data_held for name, data_held in held.items())


def test_overwrite_moves_the_earlier_run_aside_and_deletes_nothing(first_run, tmp_path):
    data, out, held = first_run
    result = run_cli("train", *FLAGS, "--lr", "0.01", "--data-dir", data, "--out", str(out), "--overwrite")
    assert result.returncode == 0, result.stderr
    aside, = [name for name in os.listdir(out) if name.startswith("replaced-")]
    assert all((out / aside / name).read_bytes() == data_held for name, data_held in held.items())
    assert json.loads((out / "config.json").read_text())["lr"] == 0.01  # the new run's
    assert (out / "best.ckpt").is_file() and f"its files are now in {out / aside}" in result.stdout + result.stderr


def test_the_default_folder_is_per_model_and_resume_with_overwrite_is_refused(tmp_path):
    assert TrainConfig(model="mnist_inception").out == os.path.join("runs", "mnist_inception")
    assert TrainConfig().out == os.path.join("runs", "googlenet_d2l")
    data = make_idx_dir(tmp_path / "data", n_train=16, n_test=8)
    with pytest.raises(ConfigError, match="give one of them"):
        train(TrainConfig(data_dir=data, out=str(tmp_path / "o"), resume=True, overwrite=True, **SMALL))
    with pytest.raises(OutputDirError, match="holds another run"):
        os.makedirs(tmp_path / "o2")
        (tmp_path / "o2" / "last.ckpt").write_bytes(b"x")
        train(TrainConfig(model="mnist_resnet", data_dir=data, resize=0, epochs=1, verify_data=False,
                          out=str(tmp_path / "o2"), progress=False, verbose=0))
    assert (tmp_path / "o2" / "last.ckpt").read_bytes() == b"x"
