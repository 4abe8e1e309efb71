"""Training runs end to end: learning, resuming, diverging, contexts, precisions, families."""
import json
import os

from gluon_googlenet import TrainConfig, cli, get_model, train
from gluon_googlenet.base.errors import CheckpointError, ConfigError, DivergedError, OutputDirError
from gluon_googlenet.training.run.checkpoint import load_model, read_checkpoint, save_checkpoint

import mxnet as mx
import numpy as np
import pytest
from conftest import SMALL, dict_replace, make_image_folder


@pytest.fixture(scope="module")
def trained(small_run):
    from gluon_googlenet.training.run.checkpoint import load_model
    return lambda: load_model(str(small_run / "best.ckpt"))[0]


def _weights(path):
    return read_checkpoint(path)[1]


@pytest.mark.slow
def test_bf16_training_runs_and_learns(fashion_dir, tmp_path, needs_bf16):
    """AMP patches MXNet for the whole process, so this runs in a process of its own. bf16 sums
    differ with the thread count, and on 2,048 images the net had barely left chance (test acc
    0.248 with 1 OpenMP thread, 0.304 with 2, on a Zen 4): 4,096 images give the criteria margin.
    Measured on a Zen 4, seeds 0-1, 1 and 2 threads: loss ratio 0.61-0.74, test acc 0.416-0.558."""
    import json
    import subprocess
    import sys
    result = subprocess.run(
        [sys.executable, "-m", "gluon_googlenet", "train", "--precision", "bf16", "--epochs", "2",
         "--resize", "32", "--limit-train", "4096", "--limit-test", "500", "--batch-size", "32",
         "--optimizer", "adam", "--lr", "1e-3", "--out", str(tmp_path / "bf16"), "--no-progress",
         "--data-dir", fashion_dir], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (result.stdout + result.stderr).count("epoch 2, loss") == 1  # once: AMP adds a root log handler
    history = json.loads((tmp_path / "bf16" / "history.json").read_text())
    assert history[-1]["train_loss"] < 0.85 * history[0]["train_loss"]
    assert history[-1]["test_acc"] > 0.25  # chance: 0.1


def test_fp16_needs_a_gpu(tmp_path):
    from gluon_googlenet import TrainConfig, train
    with pytest.raises(ConfigError, match="fp16 .* needs GPU contexts"):
        train(TrainConfig(precision="fp16", out=str(tmp_path), resize=32, limit_train=64, limit_test=64))


@pytest.mark.slow
def test_googlenet_bn_trains_on_an_image_folder(tmp_path, capsys):
    root = make_image_folder(tmp_path / "imgs", per_class=24)
    out = tmp_path / "run"
    assert cli.main(["train", "--model", "googlenet_bn", "--image-folder", str(root), "--resize", "32",
                     "--optimizer", "adam", "--lr", "1e-3", "--batch-size", "8", "--epochs", "8",
                     "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "38 train / 10 test images at 32x32" in text
    import json
    history = json.loads((out / "history.json").read_text())
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert max(h["test_acc"] for h in history) >= 0.8
    assert cli.main(["evaluate", str(out / "best.ckpt")]) == 0
    assert "(10 images)" in capsys.readouterr().out
    assert cli.main(["predict", str(root / "left" / "0.png"), "--checkpoint", str(out / "best.ckpt")]) == 0
    assert capsys.readouterr().out.startswith(str(root / "left" / "0.png") + ": ")


@pytest.mark.slow
def test_aux_heads_train_with_weighted_losses(fashion_dir, tmp_path):
    """googlenet with aux heads on 1-channel 96x96 Fashion-MNIST: trains, and exports main only."""
    result = train(TrainConfig(model="googlenet", aux_logits=True, resize=96, data_dir=fashion_dir,
                               epochs=1, limit_train=64, limit_test=32, batch_size=32,
                               out=str(tmp_path / "aux"), progress=False))
    assert np.isfinite(result.history[0]["train_loss"])
    assert result.net.aux_names == ["aux1", "aux2"]
    # the aux losses reached their heads: their classifier weights moved from the Xavier start
    from gluon_googlenet import get_model

    import mxnet as mx
    start = get_model("googlenet", aux_logits=True, num_classes=10, in_channels=1, input_size=96)
    mx.random.seed(0)
    start.initialize(mx.init.Xavier())
    trained = result.net.collect_params()
    checked = 0
    for name, param in start.collect_params().items():
        if "_aux" in name and name.endswith("weight") and "dense" in name:
            assert np.abs(trained[name].data().asnumpy() - param.data().asnumpy()).max() > 0, name
            checked += 1
    assert checked == 4  # two Dense layers in each of the two heads
    import json
    graph = json.loads((tmp_path / "aux" / "googlenet-best-symbol.json").read_text())
    assert not any("aux" in node["name"] for node in graph["nodes"])


@pytest.mark.slow
def test_short_real_training_learns(fashion_dir, tmp_path):
    result = train(TrainConfig(data_dir=fashion_dir, epochs=3, resize=32, limit_train=2048,
                               limit_test=1000, batch_size=32, optimizer="adam", lr=1e-3,
                               out=str(tmp_path / "run"), progress=False))
    history = result.history
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < 0.8 * history[0]["train_loss"]
    assert history[-1]["test_acc"] > 0.3  # chance is 0.1
    run = tmp_path / "run"
    saved = json.loads((run / "history.json").read_text())
    assert saved == history
    for record in history:  # the host's share of each epoch's CPU time, where Linux tells it
        assert (record["cpu_stolen"] is None) if not os.path.exists("/proc/stat") else 0 <= record["cpu_stolen"] <= 1
    best_epoch = max(history, key=lambda h: h["test_acc"])["epoch"]  # the export holds the best weights
    for name in ("curves.png", "last.ckpt", "best.ckpt", "config.json", "googlenet_d2l-best-symbol.json",
                 f"googlenet_d2l-best-{best_epoch:04d}.params", "googlenet_d2l-best-meta.json"):
        assert (run / name).stat().st_size > 0, name
    meta = read_checkpoint(str(run / "best.ckpt"))[0]
    assert meta["history"][-1]["test_acc"] == max(h["test_acc"] for h in history) or \
        meta["epoch"] == max(history, key=lambda h: h["test_acc"])["epoch"]


@pytest.mark.slow
def test_resume_ends_with_the_same_weights(fashion_dir, tmp_path):
    config = TrainConfig(data_dir=fashion_dir, optimizer="adam", lr=1e-3, seed=7, **SMALL)
    straight = train(dict_replace(config, epochs=3, out=str(tmp_path / "a")))
    train(dict_replace(config, epochs=2, out=str(tmp_path / "b")))
    resumed = train(dict_replace(config, epochs=3, out=str(tmp_path / "b"), resume=True))
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    a, b = _weights(str(tmp_path / "a" / "last.ckpt")), _weights(str(tmp_path / "b" / "last.ckpt"))
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_allclose(b[name].asnumpy(), a[name].asnumpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)
    for key in ("train_loss", "test_acc"):
        assert resumed.history[-1][key] == pytest.approx(straight.history[-1][key], rel=1e-4, abs=1e-6)


def test_resume_without_checkpoint_is_an_error(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint .*last.ckpt"):
        train(TrainConfig(out=str(tmp_path), resume=True, **SMALL))


@pytest.mark.slow
def test_checkpoint_of_another_model_is_refused(fashion_dir, tmp_path):
    net = get_model("googlenet_d2l", num_classes=5)
    net.initialize()
    save_checkpoint(str(tmp_path / "last.ckpt"), net, None,
                    {"model": "googlenet_d2l", "history": [], "epoch": 1, "batch": 0,
                     "model_kwargs": {"num_classes": 5, "in_channels": 1, "input_size": 32}})
    with pytest.raises(CheckpointError, match="saved for num_classes=5, this run has num_classes=10"):
        train(TrainConfig(data_dir=fashion_dir, out=str(tmp_path), resume=True, **SMALL))


# A rate whose first step takes float32 weights past 1e36, so the next forward pass overflows to
# inf and nan on every CPU (measured at batch 2 with 1 and 2 threads, native and DNNL_MAX_CPU_ISA=AVX2).
OVERFLOW_LR = 1e38


@pytest.mark.slow
def test_nan_loss_stops_and_keeps_last_good_checkpoint(fashion_dir, tmp_path):
    """Epoch 1 trains normally; the resumed run's learning rate (the checkpoint's) then blows the
    weights up in epoch 2, as an exploding net would. OVERFLOW_LR overflows them at the first step,
    whatever the CPU's rounding: a rate of 100 went to nan only in the epoch's last batch, and
    capped at AVX2 on one thread not at all (the loss rose to 7e13 and came back)."""
    out = tmp_path / "nan"
    config = TrainConfig(data_dir=fashion_dir, epochs=1, out=str(out), **SMALL)
    train(config)
    net, meta = load_model(str(out / "last.ckpt"))
    save_checkpoint(str(out / "last.ckpt"), net, None, dict(meta, config=dict(meta["config"], lr=OVERFLOW_LR)))
    good = {k: v.asnumpy() for k, v in _weights(str(out / "last.ckpt")).items()}
    with pytest.raises(DivergedError, match=r"loss became (nan|inf) .*epoch 2/3.*last good checkpoint "
                                            r".*last.ckpt \(epoch 1\) is kept; try a lower --lr \(now 1e\+38\)"):
        train(dict_replace(config, epochs=3, resume=True))
    meta, params, _, _ = read_checkpoint(str(out / "last.ckpt"))
    assert meta["epoch"] == 1
    assert all(np.array_equal(v.asnumpy(), good[k]) for k, v in params.items())
    assert [h["epoch"] for h in json.loads((out / "history.json").read_text())] == [1]


@pytest.mark.slow
def test_nan_loss_in_the_first_epoch_writes_no_checkpoint(fashion_dir, tmp_path):
    out = tmp_path / "nan1"
    with pytest.raises(DivergedError, match=r"loss became (nan|inf) at batch \d+ of epoch 1/2; "
                                            r"training stopped, no checkpoint was written"):
        train(TrainConfig(data_dir=fashion_dir, epochs=2, out=str(out), **dict(SMALL, lr=OVERFLOW_LR)))
    assert not (out / "last.ckpt").exists() and not (out / "history.json").exists()


@pytest.mark.slow
def test_two_contexts_match_one_context(fashion_dir, tmp_path):
    """One step on a global batch of 64: split 32 + 32 over two contexts, gradients summed on
    the kvstore, equals the one-context step. (Over several steps, max-pool ties that float
    noise breaks differently make the runs drift apart, so one step is compared.)"""
    config = TrainConfig(data_dir=fashion_dir, epochs=1, seed=3, **dict(SMALL, limit_train=64))
    one = train(dict_replace(config, ctx="cpu", out=str(tmp_path / "one")))
    two = train(dict_replace(config, ctx="cpu:0,1", out=str(tmp_path / "two")))
    initial = get_model("googlenet_d2l")
    mx.random.seed(3)
    initial.initialize(mx.init.Xavier())
    start = {k: p.data().asnumpy() for k, p in initial.collect_params().items()}
    a, b = one.net.collect_params(), two.net.collect_params()
    assert a.keys() == start.keys()
    step = np.concatenate([(a[k].data().asnumpy() - start[k]).ravel() for k in a])
    assert np.linalg.norm(step) > 1e-4  # the step did move the weights
    for ctx in (mx.cpu(0), mx.cpu(1)):
        gap = np.concatenate([(b[k].data(ctx).asnumpy() - a[k].data().asnumpy()).ravel() for k in a])
        assert np.linalg.norm(gap) < 1e-4 * np.linalg.norm(step)
    assert two.history[0]["train_loss"] == pytest.approx(one.history[0]["train_loss"], rel=1e-5)
    assert two.history[0]["test_acc"] == one.history[0]["test_acc"]


def test_unwritable_out_fails_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    # no data in data_dir: reading data first would raise DataError instead
    with pytest.raises(OutputDirError, match="cannot write to output folder"):
        train(TrainConfig(out=str(blocker / "run"), data_dir=str(tmp_path / "no-data"), **SMALL))
