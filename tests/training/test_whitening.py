"""--whiten: the patch statistics, the filters they give, the first convolution of every registered
model, and the flag through a real run (checks and the saved setting)."""
import json

from gluon_googlenet import TrainConfig, get_model
from gluon_googlenet.base.errors import ConfigError
from gluon_googlenet.nn.registry import list_models
from gluon_googlenet.training.run.config import validate
from gluon_googlenet.training.whitening import (
    EPS,
    IMAGES,
    first_conv,
    net_input,
    patch_covariance,
    patches,
    whiten_first_conv,
    whitening_filters,
)

import mxnet as mx
import numpy as np
import pytest
from conftest import make_idx_dir


def _images(n=40, side=12, channels=1, seed=0):
    """Correlated uint8 images: smooth random blobs, so neighbouring pixels covary."""
    rng = np.random.RandomState(seed)
    raw = rng.rand(n, channels, side + 2, side + 2)
    smooth = (raw[:, :, :-2, :-2] + raw[:, :, 1:-1, 1:-1] + raw[:, :, 2:, 2:]) / 3
    return (smooth * 255).astype(np.uint8)


@pytest.mark.parametrize("kernel, stride, pad", [((3, 3), (1, 1), (1, 1)), ((7, 7), (2, 2), (3, 3)),
                                                 ((5, 5), (1, 1), (0, 0)), ((3, 3), (2, 2), (0, 0))])
def test_patches_times_a_filter_is_mxnets_convolution(kernel, stride, pad):
    x = net_input(_images(4, 11, channels=2))
    w = np.random.RandomState(1).randn(1, 2, *kernel)
    rows = patches(x, kernel, stride, pad)
    conv = mx.nd.Convolution(mx.nd.array(x), mx.nd.array(w), kernel=kernel, stride=stride, pad=pad,
                             num_filter=1, no_bias=True).asnumpy()
    np.testing.assert_allclose(rows @ w.reshape(-1), conv.transpose(0, 2, 3, 1).reshape(-1), rtol=1e-5, atol=1e-5)


def test_the_covariance_gathered_in_chunks_is_numpys_over_all_patches():
    x = net_input(_images(37))
    everything = np.cov(patches(x, (3, 3), (2, 2), (1, 1)), rowvar=False)
    np.testing.assert_allclose(patch_covariance(x, (3, 3), (2, 2), (1, 1), chunk=5), everything, rtol=1e-9, atol=1e-12)


def test_the_filters_decorrelate_the_patches_largest_components_first_then_their_negatives():
    x = net_input(_images(60))
    covariance = patch_covariance(x, (3, 3), (1, 1), (1, 1))
    filters = whitening_filters(x, (3, 3), (1, 1), (1, 1), channels=8).astype(np.float64)
    assert filters.shape == (8, 1, 3, 3)
    w = filters.reshape(8, 9)
    np.testing.assert_array_equal(w[4:], -w[:4])
    values = np.linalg.eigvalsh(covariance)[::-1][:4]
    outputs = w[:4] @ covariance @ w[:4].T  # covariance of the first four filters' outputs
    np.testing.assert_allclose(outputs, np.diag(values / (values + EPS)), rtol=1e-4, atol=1e-6)
    assert list(np.diag(outputs)) == sorted(np.diag(outputs), reverse=True)


def test_a_wide_layer_gets_every_component_and_keeps_the_rest_of_its_filters():
    x = net_input(_images(20))
    filters = whitening_filters(x, (3, 3), (1, 1), (1, 1), channels=32)
    assert filters.shape == (18, 1, 3, 3)  # 9 components of a 3x3 patch, and their negatives


@pytest.mark.parametrize("name", list_models())
def test_the_first_convolution_of_every_model_reads_the_input(name):
    net = get_model(name, num_classes=10, in_channels=3)
    conv = first_conv(net)
    assert conv.weight.shape[1] == 3
    assert conv.name.startswith(name + "_") and ("b1" in conv.name or "stem" in conv.name)


def test_whitening_sets_the_d2l_nets_first_convolution_from_the_first_images_and_leaves_the_rest():
    net = get_model("googlenet_d2l_bn", num_classes=10, in_channels=1)
    net.initialize(mx.init.Xavier())
    images, mean, std = _images(IMAGES + 15, 28), [0.3], [0.2]
    before = {name: p.data().asnumpy().copy() for name, p in net.collect_params().items()}
    assert whiten_first_conv(net, images, mean, std) == 64
    conv = first_conv(net)
    x = net_input(images[:IMAGES], mean, std)  # the first IMAGES images, normalised as the loop feeds them
    np.testing.assert_array_equal(conv.weight.data().asnumpy(), whitening_filters(x, (7, 7), (2, 2), (3, 3), 64))
    changed = [name for name, p in net.collect_params().items() if not np.array_equal(p.data().asnumpy(), before[name])]
    assert changed == [conv.weight.name]


def test_a_first_layer_of_one_filter_and_published_weights_are_refused_in_one_line():
    net = get_model("mnist_resnet", num_classes=10, in_channels=1)
    net.initialize()
    with pytest.raises(ConfigError, match="has 1 filter; whitening needs at least 2"):
        whiten_first_conv(net, _images(4, 28))
    with pytest.raises(ConfigError, match="^--whiten starts the first layer from the data, --pretrained from"):
        validate(TrainConfig(whiten=True, pretrained="gluoncv"))


def test_whiten_on_the_command_line_trains_and_is_kept_by_the_run(tmp_path, capsys):
    from gluon_googlenet import cli
    data = make_idx_dir(tmp_path / "idx", n_train=24, n_test=8)
    out = tmp_path / "run"
    common = ["--data-dir", str(data), "--no-verify", "--resize", "16", "--batch-size", "8", "--no-progress",
              "--verbose", "2", "--out", str(out)]
    assert cli.main(["train", "--preset", "fast", "--whiten", "--epochs", "1", *common]) == 0
    assert json.loads((out / "config.json").read_text())["whiten"] is True
    assert cli.main(["train", "--preset", "fast", "--epochs", "2", "--resume", *common]) == 0
    assert json.loads((out / "config.json").read_text())["whiten"] is True  # a resumed run keeps it
    assert [r["epoch"] for r in json.loads((out / "history.json").read_text())] == [1, 2]
    capsys.readouterr()


def test_no_whiten_overrides_a_preset_and_no_flag_leaves_it_to_the_preset():
    from gluon_googlenet.cli.train_options import parse_train_args
    assert parse_train_args(["--whiten"]).whiten is True
    assert parse_train_args(["--no-whiten"]).whiten is False
    assert parse_train_args([]).whiten is None


def test_published_weights_asked_for_replace_the_fast_presets_whitened_start(tmp_path, capsys):
    from gluon_googlenet import cli
    data = make_idx_dir(tmp_path / "idx", n_train=24, n_test=8)
    common = ["train", "--preset", "fast", "--pretrained", "gluoncv", "--data-dir", str(data), "--no-verify",
              "--no-progress", "--out", str(tmp_path / "run")]
    assert cli.main(common) == 1  # gets past the whitening check to the weights themselves
    assert capsys.readouterr().err.strip() == \
        "gluon-googlenet train: error: googlenet_d2l_bn has no gluoncv counterpart to load weights from"
    assert cli.main([*common, "--whiten"]) == 1  # both asked for: one of them, please
    assert "--whiten starts the first layer from the data, --pretrained from" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_the_filters_do_not_depend_on_the_signs_lapack_gives_eigenvectors(monkeypatch):
    """numpy 1.23's and numpy 2's LAPACK give some eigenvectors opposite signs (measured: the runs
    then differ); each is made to have its largest entry positive, so both give the same filters."""
    from gluon_googlenet.training import whitening
    x = np.random.RandomState(0).rand(64, 1, 12, 12)
    want = whitening.whitening_filters(x, (3, 3), (1, 1), (1, 1), 8)
    eigh = np.linalg.eigh
    flips = np.array([1, -1] * 5 + [-1])[:9]

    def flipped(matrix):
        values, vectors = eigh(matrix)
        return values, vectors * flips
    monkeypatch.setattr(whitening.np.linalg, "eigh", flipped)
    np.testing.assert_array_equal(whitening.whitening_filters(x, (3, 3), (1, 1), (1, 1), 8), want)
