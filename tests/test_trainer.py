"""Training on slices of the real Fashion-MNIST: learning, resume, divergence, multi-context."""
import json
import os

import mxnet as mx
import numpy as np
import pytest

from gluon_googlenet import cli
from gluon_googlenet.checkpoint import load_model, read_checkpoint, save_checkpoint
from gluon_googlenet.errors import CheckpointError, ConfigError, DivergedError, OutputDirError
from gluon_googlenet.models import get_model
from gluon_googlenet.trainer import TrainConfig, lr_at, train

# Small and fast: 32x32 inputs, a few hundred images.
SMALL = dict(resize=32, limit_train=256, limit_test=128, batch_size=64, progress=False)


def _weights(path):
    return read_checkpoint(path)[1]


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
    for name in ("curves.png", "last.ckpt", "best.ckpt", "config.json",
                 "googlenet_d2l-symbol.json", "googlenet_d2l-0003.params"):
        assert (run / name).stat().st_size > 0, name
    meta = read_checkpoint(str(run / "best.ckpt"))[0]
    assert meta["history"][-1]["test_acc"] == max(h["test_acc"] for h in history) or \
        meta["epoch"] == max(history, key=lambda h: h["test_acc"])["epoch"]


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


def test_resume_keeps_the_checkpoint_settings(fashion_dir, tmp_path):
    config = TrainConfig(data_dir=fashion_dir, epochs=1, out=str(tmp_path / "r"), **SMALL)
    train(config)
    resumed = train(dict_replace(config, epochs=2, lr=0.5, resume=True))
    assert [h["lr"] for h in resumed.history] == [0.1, 0.1]


def test_resume_without_checkpoint_is_an_error(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint .*last.ckpt"):
        train(TrainConfig(out=str(tmp_path), resume=True, **SMALL))


def test_checkpoint_of_another_model_is_refused(fashion_dir, tmp_path):
    net = get_model("googlenet_d2l", classes=5)
    net.initialize()
    save_checkpoint(str(tmp_path / "last.ckpt"), net, None,
                    {"model": "googlenet_d2l", "history": [], "epoch": 1,
                     "model_kwargs": {"classes": 5, "in_channels": 1, "input_size": 32}})
    with pytest.raises(CheckpointError, match="saved for classes=5, this run has classes=10"):
        train(TrainConfig(data_dir=fashion_dir, out=str(tmp_path), resume=True, **SMALL))


def test_nan_loss_stops_and_keeps_last_good_checkpoint(fashion_dir, tmp_path):
    """Epoch 1 trains normally; the resumed run's learning rate (the checkpoint's, 100) then
    blows the weights up within epoch 2, as an exploding net would."""
    out = tmp_path / "nan"
    config = TrainConfig(data_dir=fashion_dir, epochs=1, out=str(out), **SMALL)
    train(config)
    net, meta = load_model(str(out / "last.ckpt"))
    save_checkpoint(str(out / "last.ckpt"), net, None, dict(meta, config=dict(meta["config"], lr=100.0)))
    good = {k: v.asnumpy() for k, v in _weights(str(out / "last.ckpt")).items()}
    with pytest.raises(DivergedError, match=r"loss became (nan|inf) .*epoch 2/3.*last good checkpoint "
                                            r".*last.ckpt \(epoch 1\) is kept; try a lower --lr \(now 100\)"):
        train(dict_replace(config, epochs=3, resume=True))
    meta, params, _ = read_checkpoint(str(out / "last.ckpt"))
    assert meta["epoch"] == 1
    assert all(np.array_equal(v.asnumpy(), good[k]) for k, v in params.items())
    assert [h["epoch"] for h in json.loads((out / "history.json").read_text())] == [1]


def test_nan_loss_in_the_first_epoch_writes_no_checkpoint(fashion_dir, tmp_path):
    out = tmp_path / "nan1"
    with pytest.raises(DivergedError, match=r"loss became (nan|inf) at batch \d+ of epoch 1/2; "
                                            r"training stopped, no checkpoint was written"):
        train(TrainConfig(data_dir=fashion_dir, epochs=2, out=str(out), **dict(SMALL, lr=100.0)))
    assert not (out / "last.ckpt").exists() and not (out / "history.json").exists()


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


@pytest.mark.parametrize("change, message", [
    (dict(epochs=0), "--epochs"), (dict(lr=float("nan")), "--lr"), (dict(optimizer="rmsprop"), "--optimizer"),
    (dict(lr_schedule="step:x"), "--lr-schedule"), (dict(lr_schedule="warm"), "lr-schedule")])
def test_bad_settings_are_config_errors(tmp_path, change, message):
    with pytest.raises(ConfigError, match=message):
        train(dict_replace(TrainConfig(out=str(tmp_path), **SMALL), **change))


def test_lr_schedules():
    config = TrainConfig(lr=0.1, epochs=4)
    assert [lr_at(config, e) for e in range(4)] == [0.1] * 4
    step = dict_replace(config, lr_schedule="step:1,3")
    assert [round(lr_at(step, e), 6) for e in range(4)] == [0.1, 0.01, 0.01, 0.001]
    cosine = dict_replace(config, lr_schedule="cosine")
    assert lr_at(cosine, 0) == 0.1 and lr_at(cosine, 2) == pytest.approx(0.05)


def test_cli_train_evaluate_predict(fashion_dir, tmp_path, capsys):
    out = str(tmp_path / "cli")
    assert cli.main(["train", "--epochs", "1", "--resize", "32", "--limit-train", "128",
                     "--limit-test", "64", "--batch-size", "64", "--out", out, "--no-progress",
                     "--data-dir", fashion_dir]) == 0
    assert "epoch 1, loss" in capsys.readouterr().out
    ckpt = os.path.join(out, "last.ckpt")
    assert cli.main(["evaluate", ckpt, "--data-dir", fashion_dir, "--limit-test", "200"]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "(200 images)" in text and "ankle boot" in text
    assert os.path.getsize(os.path.join(out, "last-confusion.png")) > 0

    from PIL import Image
    Image.fromarray(np.zeros((40, 30), dtype=np.uint8)).save(tmp_path / "img.png")
    assert cli.main(["predict", ckpt, str(tmp_path / "img.png"), "test:0", "--data-dir", fashion_dir]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(str(tmp_path / "img.png") + ": ") and lines[1].endswith("(true: ankle boot)")

    (tmp_path / "bad.png").write_text("not an image")
    assert cli.main(["predict", ckpt, str(tmp_path / "bad.png")]) == 1
    assert "cannot read image" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path / "bad.png")]) == 1
    assert "not a gluon-googlenet checkpoint" in capsys.readouterr().err


def dict_replace(config, **changes):
    import dataclasses
    return dataclasses.replace(config, **changes)


def test_aux_losses_weigh_point_three():
    from gluon_googlenet.models import TrainOutputs
    from gluon_googlenet.loop import compute_loss
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    label = mx.nd.array([1, 0])
    main, aux1, aux2 = (mx.nd.random.normal(shape=(2, 3)) for _ in range(3))
    expected = loss_fn(main, label) + 0.3 * loss_fn(aux1, label) + 0.3 * loss_fn(aux2, label)
    got = compute_loss(loss_fn, TrainOutputs(main, (aux1, aux2)), label)
    np.testing.assert_allclose(got.asnumpy(), expected.asnumpy(), rtol=1e-6)
    np.testing.assert_allclose(compute_loss(loss_fn, main, label).asnumpy(),
                               loss_fn(main, label).asnumpy())


def test_too_small_resize_for_the_model_fails_before_loading(tmp_path):
    with pytest.raises(ConfigError, match="inception_v4 needs inputs of at least 75x75; images of 28x28"):
        train(TrainConfig(model="inception_v4", resize=0, out=str(tmp_path / "run"),
                          data_dir=str(tmp_path / "no-data")))  # reading data first: DataError


def test_a_second_run_into_a_locked_folder_stops_and_touches_nothing(fashion_dir, tmp_path):
    from gluon_googlenet.errors import RunFolderBusyError
    from gluon_googlenet.fileio import lock_run_folder
    out = tmp_path / "run"
    out.mkdir()
    (out / "history.json").write_text("[]\n")  # the first run's file
    with lock_run_folder(str(out)):
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        with pytest.raises(RunFolderBusyError, match=rf"output folder {out} is in use by another run "
                                                     rf"\(pid {os.getpid()} on .*\)"):
            train(TrainConfig(data_dir=fashion_dir, epochs=1, out=str(out), **SMALL))
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    train(TrainConfig(data_dir=fashion_dir, epochs=1, out=str(out), **SMALL))  # free again
    assert (out / "last.ckpt").exists()


def test_two_cli_runs_into_one_folder_and_a_killed_holder(fashion_dir, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time\nfrom gluon_googlenet.fileio import lock_run_folder\n"
                               f"with lock_run_folder({str(out)!r}):\n"
                               "    print('locked', flush=True); time.sleep(120)\n"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        second = subprocess.run([sys.executable, "-m", "gluon_googlenet", "train", "--out", str(out),
                                 "--data-dir", fashion_dir, "--resize", "32", "--limit-train", "64",
                                 "--limit-test", "64", "--epochs", "1"],
                                capture_output=True, text=True, timeout=300)
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and f"is in use by another run (pid {holder.pid} on " in lines[0], lines
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    time.sleep(0.1)
    train(TrainConfig(data_dir=fashion_dir, epochs=1, out=str(out), **SMALL))  # the OS freed the lock
    assert (out / "last.ckpt").exists()


def test_piped_progress_is_a_few_plain_lines_and_one_estimate(fashion_dir, tmp_path, capsys):
    assert cli.main(["train", "--data-dir", fashion_dir, "--resize", "32", "--limit-train", "1024",
                     "--limit-test", "128", "--batch-size", "64", "--epochs", "2",
                     "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.out + captured.err  # pytest's stderr is no terminal: no bar
    lines = captured.out.splitlines()
    quarter = [line for line in lines if "batches, loss" in line]
    assert [line.split(":")[0].strip() for line in quarter] == ["epoch 1/2"] * 3 + ["epoch 2/2"] * 3
    assert [line.split(",")[0].split(": ")[1] for line in quarter[:3]] == ["4/16 batches", "8/16 batches",
                                                                          "12/16 batches"]
    estimates = [i for i, line in enumerate(lines) if line.startswith("estimated time to finish: about ")]
    first_epoch = next(i for i, line in enumerate(lines) if line.startswith("epoch 1, loss"))
    assert len(estimates) == 1 and estimates[0] < first_epoch
    assert "(2 epoch(s) of 16 batches at " in lines[estimates[0]]


def test_progress_mode_and_durations():
    from gluon_googlenet.progress import format_duration, progress_mode

    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty
    assert progress_mode(True, Stream(True)) == "bar"
    assert progress_mode(True, Stream(False)) == "lines"
    assert progress_mode(False, Stream(True)) == "off"
    assert [format_duration(s) for s in (4.6, 425, 3720)] == ["5 s", "7 min 05 s", "1 h 02 min"]


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_atomic_files_get_the_usual_mode_and_the_umask_is_left_alone(tmp_path, mask):
    import subprocess
    import sys
    code = ("import os, sys; os.umask(int(sys.argv[1], 8)); import gluon_googlenet.fileio as f; "
            "f.write_json(sys.argv[2], [1]); print(oct(os.umask(0)))")
    path = tmp_path / "x.json"
    out = subprocess.run([sys.executable, "-c", code, oct(mask)[2:], str(path)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [oct(mask)]  # importing and writing did not change the process umask
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask and json.loads(path.read_text()) == [1]
