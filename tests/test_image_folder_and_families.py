"""Image-folder data and training; the small MNIST nets and aux-head training on real data."""
import numpy as np
import pytest
from PIL import Image

from gluon_googlenet import cli
from gluon_googlenet.data import load_image_folder, split_indices
from gluon_googlenet.errors import DataError
from gluon_googlenet.trainer import TrainConfig, train


def make_image_folder(root, per_class=16, size=40, seed=0):
    """Two classes a net can tell apart: a bright left half vs a bright right half, plus noise."""
    rng = np.random.RandomState(seed)
    for label, name in enumerate(("left", "right")):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            img = rng.randint(0, 60, (size, size, 3)).astype(np.uint8)
            half = slice(0, size // 2) if label == 0 else slice(size // 2, size)
            img[:, half] += 150
            Image.fromarray(img).save(folder / f"{i}.png")
    return root


def test_image_folder_reads_classes_and_splits_per_class(tmp_path):
    root = make_image_folder(tmp_path / "imgs", per_class=10)
    images, labels, names, skipped = load_image_folder(str(root), 24)
    assert images.shape == (20, 3, 24, 24) and names == ("left", "right") and skipped == ()
    train_idx, test_idx = split_indices(labels, 0.2, seed=1)
    assert len(test_idx) == 4 and sorted(labels[test_idx].tolist()) == [0, 0, 1, 1]
    assert set(train_idx).isdisjoint(test_idx) and len(train_idx) + len(test_idx) == 20


def test_unreadable_images_are_named_then_skipped_on_request(tmp_path):
    root = make_image_folder(tmp_path / "imgs", per_class=4)
    (root / "left" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match=r"cannot read image .*broken.jpg .*--bad-images skip"):
        load_image_folder(str(root), 16)
    images, labels, _, skipped = load_image_folder(str(root), 16, skip_bad=True)
    assert len(labels) == 8 and skipped == (str(root / "left" / "broken.jpg"),)


def test_files_that_are_not_images_are_ignored(tmp_path):
    root = make_image_folder(tmp_path / "imgs", per_class=3)
    (root / "left" / "README.txt").write_text("pictures of the left class")
    (root / "right" / "labels.csv").write_text("0,1\n")
    (root / "right" / "UPPER.PNG").write_bytes((root / "right" / "0.png").read_bytes())
    images, labels, _, skipped = load_image_folder(str(root), 16)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 1] and skipped == ()
    notes = root / "notes"
    notes.mkdir()
    (notes / "todo.md").write_text("no pictures here")
    with pytest.raises(DataError, match=r"class folder .*notes has no image files .*todo.md"):
        load_image_folder(str(root), 16)


def test_empty_class_folder_and_missing_folder_are_errors(tmp_path):
    root = make_image_folder(tmp_path / "imgs", per_class=2)
    (root / "empty").mkdir()
    with pytest.raises(DataError, match="class folder .*empty is empty"):
        load_image_folder(str(root), 16)
    with pytest.raises(DataError, match="does not exist"):
        load_image_folder(str(tmp_path / "nope"), 16)


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
    assert cli.main(["predict", str(out / "best.ckpt"), str(root / "left" / "0.png")]) == 0
    assert capsys.readouterr().out.startswith(str(root / "left" / "0.png") + ": ")


@pytest.mark.parametrize("model", ["mnist_inception", "mnist_resnet"])
def test_mnist_nets_learn_fashion_mnist_at_28(fashion_dir, tmp_path, model):
    result = train(TrainConfig(model=model, data_dir=fashion_dir, epochs=2, limit_train=2048,
                               limit_test=500, batch_size=64, optimizer="adam", lr=1e-3,
                               out=str(tmp_path / model), progress=False))
    assert result.net.fixed_size == 28
    assert result.history[-1]["test_acc"] > 0.6


def test_aux_heads_train_with_weighted_losses(fashion_dir, tmp_path):
    """googlenet with aux heads on 1-channel 96x96 Fashion-MNIST: trains, and exports main only."""
    result = train(TrainConfig(model="googlenet", aux_logits=True, resize=96, data_dir=fashion_dir,
                               epochs=1, limit_train=64, limit_test=32, batch_size=32,
                               out=str(tmp_path / "aux"), progress=False))
    assert np.isfinite(result.history[0]["train_loss"])
    assert result.net.aux_names == ["aux1", "aux2"]
    # the aux losses reached their heads: their classifier weights moved from the Xavier start
    import mxnet as mx
    from gluon_googlenet import get_model
    start = get_model("googlenet", aux_logits=True, classes=10, in_channels=1, input_size=96)
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
    graph = json.loads((tmp_path / "aux" / "googlenet-symbol.json").read_text())
    assert not any("aux" in node["name"] for node in graph["nodes"])
