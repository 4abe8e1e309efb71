"""The fast recipe's settings: the one-cycle schedule, label smoothing, batch augmentation, flip
test-time augmentation, the moving average of the weights; their checks; and a run using all of
them stopped mid-epoch that resumes to the weights of a run never stopped."""
import os
import signal

from gluon_googlenet import TrainConfig, train
from gluon_googlenet.base.errors import ConfigError, Stopped
from gluon_googlenet.training.data.augment import augment_images
from gluon_googlenet.training.optimizer import lr_at
from gluon_googlenet.training.run.config import PRESETS, validate

import mxnet as mx
import numpy as np
import pytest
from conftest import dict_replace, make_idx_dir


def test_one_cycle_rises_from_a_25th_then_falls_along_a_cosine_to_zero():
    config = TrainConfig(lr=0.2, epochs=4, lr_schedule="onecycle", warmup=1.0)
    assert lr_at(config, 0) == pytest.approx(0.008)
    assert lr_at(config, 0, 0.5) == pytest.approx(0.2 * (0.04 + 0.96 * 0.5))
    assert lr_at(config, 1) == pytest.approx(0.2)
    assert lr_at(config, 2, 0.5) == pytest.approx(0.1)  # half-way down the 3 epochs of cosine
    assert lr_at(config, 3, 1.0) == pytest.approx(0.0, abs=1e-12)
    rates = [lr_at(config, e, b / 10) for e in range(4) for b in range(10)]
    peak = rates.index(max(rates))
    assert peak == 10 and rates[:peak] == sorted(rates[:peak]) and rates[peak:] == sorted(rates[peak:])[::-1]
    plain = dict_replace(config, warmup=0.0)
    assert lr_at(plain, 0) == 0.2 and lr_at(plain, 2) == pytest.approx(0.1)


@pytest.mark.parametrize("change, message", [
    (dict(warmup=0.5), "^--warmup is for --lr-schedule onecycle$"),
    (dict(lr_schedule="onecycle", warmup=3.0), "^--warmup must be >= 0 and below --epochs, got 3.0"),
    (dict(label_smoothing=1.0), "^--label-smoothing must be in"),
    (dict(ema=1.0), r"^--ema must be in \[0, 1\), got 1.0$"),
    (dict(augment="rotate"), "^--augment must be one of none, flip, crop-flip$"),
    (dict(tta="crop"), "^--tta must be one of none, flip$"),
    (dict(kvstore="dist_sync", lr_schedule="onecycle"), "^--kvstore dist_sync keeps --lr-schedule constant")])
def test_recipe_settings_that_cannot_work_are_one_line(change, message):
    with pytest.raises(ConfigError, match=message):
        validate(TrainConfig(epochs=3, **change))


def test_label_smoothing_is_cross_entropy_against_smoothed_targets():
    from gluon_googlenet.training.loop import training_loss
    rng = np.random.RandomState(0)
    logits, labels = rng.normal(size=(5, 10)).astype(np.float32), np.array([0, 3, 9, 3, 1])
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    targets = np.full((5, 10), 0.1 / 10)
    targets[np.arange(5), labels] += 0.9
    got = training_loss(0.1)(mx.nd.array(logits), mx.nd.array(labels)).asnumpy()
    np.testing.assert_allclose(got, -(targets * logp).sum(axis=1), rtol=1e-5)
    plain = training_loss(0.0)(mx.nd.array(logits), mx.nd.array(labels)).asnumpy()
    np.testing.assert_allclose(plain, -logp[np.arange(5), labels], rtol=1e-5)


def _shifts_and_flips(image, pad):
    """Every image crop-flip may make of ``image`` [C, S, S]."""
    side = image.shape[-1]
    padded = np.pad(image, ((0, 0), (pad, pad), (pad, pad)))
    crops = [padded[:, dy:dy + side, dx:dx + side] for dy in range(2 * pad + 1) for dx in range(2 * pad + 1)]
    return crops + [c[..., ::-1] for c in crops]


def test_augmentation_makes_only_shifted_or_mirrored_copies_drawn_from_the_seed():
    rng = np.random.RandomState(3)
    images = rng.randint(1, 256, (64, 1, 16, 16)).astype(np.uint8)
    assert augment_images(images, "none") is images
    np.random.seed(11)
    flipped = augment_images(images, "flip")
    mirrored = [bool((f == i[..., ::-1]).all()) for f, i in zip(flipped, images)]
    assert all(m or (f == i).all() for m, f, i in zip(mirrored, flipped, images))
    assert 16 < sum(mirrored) < 48
    np.random.seed(11)
    cropped = augment_images(images, "crop-flip")
    assert cropped.shape == images.shape and cropped.dtype == np.uint8
    assert all(any((c == option).all() for option in _shifts_and_flips(i, 2)) for c, i in zip(cropped, images))
    assert sum((c == i).all() for c, i in zip(cropped, images)) < 8  # most images moved
    np.random.seed(11)
    np.testing.assert_array_equal(augment_images(images, "crop-flip"), cropped)


def test_the_weight_average_folds_in_each_step_with_a_warmed_up_decay_and_lends_its_weights():
    from gluon_googlenet.training.averaging import WeightAverage, warmed_decay

    from mxnet import gluon
    net = gluon.nn.Dense(3, in_units=2)
    net.initialize(mx.init.Constant(1.0))
    average = WeightAverage(net, 0.9)
    weights = [np.full((3, 2), 1.0)]
    for value in (3.0, -1.0, 5.0):
        net.weight.set_data(mx.nd.full((3, 2), value))
        d = warmed_decay(0.9, average.updates)
        average.update()
        weights.append(d * weights[-1] + (1 - d) * value)
    assert [warmed_decay(0.9, t) for t in (0, 1, 90, 1000)] == pytest.approx([0.1, 2 / 11, 0.9, 0.9])
    assert average.updates == 3
    np.testing.assert_allclose(average.arrays["weight"].asnumpy(), weights[-1], rtol=1e-6)
    with average.applied():
        np.testing.assert_allclose(net.weight.data().asnumpy(), weights[-1], rtol=1e-6)
    np.testing.assert_array_equal(net.weight.data().asnumpy(), np.full((3, 2), 5.0))


def test_a_run_with_ema_tests_keeps_and_exports_the_average_and_trains_on(tmp_path):
    """--ema: the epoch's test, best.ckpt, the export and the net returned are the average; the
    checkpoint keeps the net's own weights beside it (live) for --resume."""
    from gluon_googlenet.training.data.run_data import load_dataset
    from gluon_googlenet.training.data.sampling import make_loader
    from gluon_googlenet.training.loop import evaluate
    from gluon_googlenet.training.run.checkpoint import load_model, read_checkpoint
    from gluon_googlenet.weights.export import import_model
    data = make_idx_dir(tmp_path / "idx", n_train=48, n_test=16)
    run = tmp_path / "run"
    config = TrainConfig(model="googlenet_d2l_bn", data_dir=str(data), resize=16, batch_size=8, epochs=2, lr=0.05,
                         optimizer="momentum", ema=0.9, verify_data=False, progress=False, verbose=0, out=str(run))
    result = train(config)
    saved = read_checkpoint(str(run / "last.ckpt"))
    assert saved.live is not None and sorted(saved.live) == sorted(saved.params)
    lagging = [k for k in saved.params if not np.allclose(saved.params[k].asnumpy(), saved.live[k].asnumpy())]
    assert len(lagging) > len(saved.params) // 2  # the average lags the weights it follows
    for name, param in result.net._collect_params_with_prefix().items():
        np.testing.assert_array_equal(param.data().asnumpy(), saved.params[name].asnumpy(), err_msg=name)
    net, meta = load_model(str(run / "last.ckpt"))
    images, labels = load_dataset("fashion-mnist", "test", str(data), resize=16, verify=False)
    scores = evaluate(net, make_loader(images, labels, 8), [mx.cpu()], 10, norm=(meta["mean"], meta["std"]),
                      tta="flip" if config.tta == "flip" else None)
    assert scores["acc"] == result.history[-1]["test_acc"]
    best = max(result.history, key=lambda h: h["test_acc"])["epoch"]
    exported = import_model(str(run / "googlenet_d2l_bn-best"), best)
    x = mx.nd.array(np.random.RandomState(0).rand(2, 1, 16, 16))
    np.testing.assert_allclose(exported(x).asnumpy(), load_model(str(run / "best.ckpt"))[0](x).asnumpy(),
                               rtol=1e-4, atol=1e-5)


FAST_SETTINGS = dict(lr_schedule="onecycle", warmup=0.5, optimizer="momentum", lr=0.05, wd=5e-4,
                     label_smoothing=0.1, augment="crop-flip", tta="flip", ema=0.9)


def test_the_fast_preset_is_a_row_of_settings_on_the_d2l_net_with_batch_norm():
    fast = TrainConfig(**PRESETS["fast"])
    validate(fast)
    assert (fast.model, fast.lr_schedule, fast.optimizer) == ("googlenet_d2l_bn", "onecycle", "momentum")
    assert fast.whiten and not TrainConfig().whiten  # the whitened first layer is the preset's, not the book's
    assert PRESETS["d2l"] == {} and TrainConfig().model == "googlenet_d2l"  # the book's recipe is the default


@pytest.mark.slow
def test_a_run_with_every_recipe_setting_resumes_mid_epoch_to_the_weights_of_one_never_stopped(tmp_path,
                                                                                             monkeypatch):
    """A real SIGTERM after batch 3 of epoch 2 (per-batch learning rates, augmentation draws and
    label smoothing in play), then --resume: the same weights and history as an unbroken run."""
    from gluon_googlenet.training.position import RunPosition
    from gluon_googlenet.training.run.checkpoint import read_checkpoint
    data = make_idx_dir(tmp_path / "idx", n_train=40, n_test=12)
    config = TrainConfig(model="googlenet_d2l_bn", data_dir=str(data), resize=16, batch_size=8, epochs=2,
                         seed=4, verify_data=False, progress=False, verbose=0, **FAST_SETTINGS)
    straight = train(dict_replace(config, out=str(tmp_path / "straight")))
    rates = [h["lr"] for h in straight.history]
    assert rates[0] == pytest.approx(lr_at(config, 0, 4 / 5)) and rates[1] == pytest.approx(lr_at(config, 1, 4 / 5))
    after_batch = RunPosition.after_batch

    def after_batch_then_sigterm(self, step):
        after_batch(self, step)
        if self.epoch == 1 and step == 3:
            os.kill(os.getpid(), signal.SIGTERM)
    monkeypatch.setattr(RunPosition, "after_batch", after_batch_then_sigterm)
    stopped = dict_replace(config, out=str(tmp_path / "stopped"))
    with pytest.raises(Stopped, match="after batch 3 of epoch 2"):
        train(stopped)
    monkeypatch.setattr(RunPosition, "after_batch", after_batch)
    resumed = train(dict_replace(stopped, resume=True))
    want = read_checkpoint(str(tmp_path / "straight" / "last.ckpt"))
    got = read_checkpoint(str(tmp_path / "stopped" / "last.ckpt"))
    for kind in ("params", "live"):  # the average (--ema) and the net's own weights
        for key, value in getattr(want, kind).items():
            np.testing.assert_allclose(getattr(got, kind)[key].asnumpy(), value.asnumpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=f"{kind} {key}")
    assert resumed.history[-1]["test_acc"] == straight.history[-1]["test_acc"]


def test_the_fast_preset_on_the_command_line_takes_a_momentum_and_the_books_refuses_one(tmp_path, capsys):
    """--momentum goes with the preset's optimizer (momentum), not with the default's (plain sgd)."""
    import json

    from gluon_googlenet import cli
    data = make_idx_dir(tmp_path / "idx", n_train=16, n_test=8)
    common = ["--data-dir", str(data), "--no-verify", "--resize", "16", "--epochs", "1", "--batch-size", "8",
              "--no-progress"]
    assert cli.main(["train", "--preset", "fast", "--momentum", "0.8", *common, "--out", str(tmp_path / "f")]) == 0
    saved = json.loads((tmp_path / "f" / "config.json").read_text())
    assert (saved["optimizer"], saved["momentum"], saved["model"], saved["augment"]) == (
        "momentum", 0.8, "googlenet_d2l_bn", PRESETS["fast"]["augment"])
    with pytest.raises(SystemExit) as stop:
        cli.main(["train", "--momentum", "0.8", *common, "--out", str(tmp_path / "d")])
    assert stop.value.code == 2
    assert "--momentum is for --optimizer momentum or nag; sgd takes none" in capsys.readouterr().err
