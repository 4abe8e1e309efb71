"""The resolved run: one input side, channels and normalisation, settings kept on resume, errors
before any data is read."""
import dataclasses
import os

from gluon_googlenet import TrainConfig, train
from gluon_googlenet.base.errors import ConfigError
from gluon_googlenet.training.run.resolve import resolve_run

import mxnet as mx
import pytest
from conftest import SMALL, dict_replace


@pytest.mark.slow
def test_resume_keeps_the_checkpoint_settings(fashion_dir, tmp_path):
    config = TrainConfig(data_dir=fashion_dir, epochs=1, out=str(tmp_path / "r"), **SMALL)
    train(config)
    with pytest.raises(ConfigError, match=r"has lr=0.1, --lr asks for 0.5; a resumed run keeps its settings"):
        train(dict_replace(config, epochs=2, lr=0.5, resume=True))
    resumed = train(TrainConfig(data_dir=fashion_dir, epochs=2, out=config.out, resume=True, progress=False))
    assert [h["lr"] for h in resumed.history] == [0.1, 0.1]
    assert resumed.net.num_classes == 10 and len(resumed.history) == 2  # SMALL's size and limits came back


def test_too_small_resize_for_the_model_fails_before_loading(tmp_path):
    with pytest.raises(ConfigError, match="inception_v4 needs inputs of at least 75x75; images of 28x28"):
        train(TrainConfig(model="inception_v4", resize=0, out=str(tmp_path / "run"),
                          data_dir=str(tmp_path / "no-data")))  # reading data first: DataError


@pytest.mark.parametrize("resize, side", [(None, 96), (0, 28), (28, 28), (48, 48)])
def test_the_input_side_is_settled_once_as_one_number(tmp_path, resize, side):
    run = resolve_run(TrainConfig(resize=resize, out=str(tmp_path)))
    assert run.size == side and run.channels == 1 and run.norm == (None, None)
    assert run.dataset.name == "fashion-mnist" and run.paths.last == str(tmp_path / "last.ckpt")
    assert not os.listdir(tmp_path)  # nothing is read or written


def test_image_folders_and_published_weights_set_channels_and_normalisation(tmp_path):
    run = resolve_run(TrainConfig(model="googlenet", image_folder=str(tmp_path), resize=64))
    assert (run.size, run.channels, run.dataset) == (64, 3, None)
    assert run.norm == ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    timm = resolve_run(TrainConfig(model="inception_v3", image_folder=str(tmp_path),
                                   pretrained="inception_v3.tv_in1k.safetensors"))
    assert timm.size == 299 and timm.norm == ((0.5,) * 3, (0.5,) * 3)
    assert timm.data.image_folder == str(tmp_path) and timm.data.verify is True


def test_a_saved_config_keeps_its_run_defining_settings(tmp_path):
    """Settings left at their defaults take the run's; ones that may change mid-run change; a
    run-defining one set otherwise is one line naming both values."""
    saved = dataclasses.asdict(TrainConfig(lr=0.05, resize=32, seed=3, model="mnist_resnet"))
    run = resolve_run(TrainConfig(epochs=12, ctx="cpu:0,1", out=str(tmp_path)), saved)
    assert (run.config.lr, run.size, run.config.seed, run.config.epochs) == (0.05, 32, 3, 12)
    assert run.config.model == "mnist_resnet" and len(run.ctxs) == 2
    with pytest.raises(ConfigError, match=r"has seed=3, --seed asks for 1"):
        resolve_run(TrainConfig(seed=1, out=str(tmp_path)), saved)


def test_two_cpu_contexts_are_resolved_before_any_work(tmp_path):
    run = resolve_run(TrainConfig(ctx="cpu:0,1", out=str(tmp_path)))
    assert run.ctxs == (mx.cpu(0), mx.cpu(1)) and (run.rank, run.workers, run.distributed) == (0, 1, False)
    with pytest.raises(ConfigError, match="--lr must be a positive number"):
        resolve_run(TrainConfig(lr=-1.0, out=str(tmp_path)))
