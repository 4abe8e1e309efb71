"""Grad-CAM, checked rather than assumed: against a hand computation where the gradient is the
classifier's weights, against finite differences inside a net, over every registered model
(hybridized or not), and its one-line errors."""
import os

from gluon_googlenet import cli, get_model, get_spec, list_models
from gluon_googlenet.base.errors import ConfigError
from gluon_googlenet.viz.gradcam import grad_cam, layer_count

import mxnet as mx
import numpy as np
import pytest
from conftest import SAVED, cheap_side, make_idx_dir


def _net_and_images(name="mnist_resnet", side=None, seed=0):
    spec = get_spec(name)
    side = side or spec.input_size[1]
    net = get_model(name, input_size=side)
    mx.random.seed(seed)  # the same weights whichever tests ran before in this process
    net.initialize(mx.init.Xavier(magnitude=2.5))
    x = mx.nd.array(np.random.RandomState(seed).uniform(size=(3, spec.input_size[0], side, side)))
    return net, x


def _cam(weights, maps, side):
    """The Grad-CAM formula on numpy arrays: ReLU(sum_k alpha_k A_k), resized, scaled to [0, 1]."""
    cam = np.maximum((weights[:, :, None, None] * maps).sum(axis=1, keepdims=True), 0)
    cam = mx.nd.contrib.BilinearResize2D(mx.nd.array(cam), height=side, width=side).asnumpy()[:, 0]
    peak = cam.reshape(len(cam), -1).max(axis=1).reshape(-1, 1, 1)
    return np.where(peak > 0, cam / np.maximum(peak, 1e-12), 0)


def test_at_the_last_feature_map_the_weights_are_the_classifiers():
    """mnist_resnet's b2 feeds a Dense layer straight: dy_c / dA = W_c, so alpha_k = mean(W_c[k])."""
    net, x = _net_and_images()
    maps, classes = grad_cam(net, x, "b2", class_index=[0, 3, 7])
    features = net.forward_features(x).asnumpy()  # 3 x 20 x 7 x 7
    dense = net.head[-1].weight.data().asnumpy().reshape(10, 20, 7, 7)
    alpha = dense[[0, 3, 7]].mean(axis=(2, 3))
    assert classes == [0, 3, 7]
    np.testing.assert_allclose(maps, _cam(alpha, features, 28), atol=1e-5)


def test_inside_the_net_the_weights_are_finite_differences():
    """alpha_k is the mean gradient over channel k: the derivative along adding t to all of A_k,
    two forward passes of the rest of the net per channel (in float64, so that a step small
    enough to cross no ReLU or max-pool kink still resolves the difference)."""
    net, x = _net_and_images()
    single = grad_cam(net, x, "b1")[0]  # float32: oneDNN's kernels, gradients in training mode
    net.cast("float64")
    x = x.astype("float64")
    count = layer_count(net, "b1")
    maps = net.walk(mx.nd, x, count)[0]
    predicted = net(x).asnumpy().argmax(axis=1)

    def scores(a):
        for _, block in net.layers()[count:]:
            a = block(a)
        return net.head(a).asnumpy()[np.arange(3), predicted].astype(np.float64)

    eps, area = 1e-6, maps.shape[2] * maps.shape[3]
    alpha = np.zeros((3, maps.shape[1]))
    for k in range(maps.shape[1]):
        bump = mx.nd.zeros(maps.shape, dtype="float64")
        bump[:, k] = eps
        alpha[:, k] = (scores(maps + bump) - scores(maps - bump)) / (2 * eps * area)
    got, classes = grad_cam(net, x, "b1")
    assert classes == predicted.tolist()
    np.testing.assert_allclose(got, _cam(alpha, maps.asnumpy(), 28), atol=1e-5)
    np.testing.assert_allclose(single, got, atol=1e-4)


@pytest.mark.parametrize("name", list_models())
def test_every_model_gives_maps_hybridized_or_not(name):
    side = cheap_side(name)
    net, x = _net_and_images(name, side)
    layer = net.stage_names[1]
    maps, classes = grad_cam(net, x, layer)
    assert maps.shape == (3, side, side) and maps.min() >= 0 and maps.max() <= 1 and len(classes) == 3
    net.hybridize(static_alloc=True)
    np.testing.assert_allclose(grad_cam(net, x, layer)[0], maps, atol=1e-4)


def test_bad_layers_and_classes_are_one_line_errors():
    net, x = _net_and_images("googlenet_d2l", 32)
    with pytest.raises(ConfigError, match=r"googlenet_d2l has no layer 'b9'; choose a stage \(b1, b2, b3, b4, b5\) "
                                          r"or a layer \(b1.0, \.\.\., b5.2\)"):
        grad_cam(net, x, "b9")
    with pytest.raises(ConfigError, match=r"class index 10 out of range: the net has classes 0..9"):
        grad_cam(net, x, "b3", class_index=10)
    with pytest.raises(ConfigError, match=r"googlenet_d2l has no spatial feature maps at 'b5'"):
        grad_cam(net, x, "b5")


def test_the_cam_command_draws_the_predicted_and_the_true_class(tmp_path, capsys):
    from PIL import Image
    data = make_idx_dir(tmp_path / "data", n_train=64, n_test=16)
    ckpt = SAVED + ".ckpt"
    out = str(tmp_path / "cam.png")
    assert cli.main(["cam", ckpt, "--image", "test:3", "--layer", "b1", "--data-dir", data, "--no-verify",
                     "-o", out]) == 0
    assert capsys.readouterr().out.strip() == out and Image.open(out).size[0] > 200
    assert cli.main(["cam", ckpt, "--image", "test:3", "--layer", "b7", "--data-dir", data, "--no-verify",
                     "-o", out]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "mnist_resnet has no layer 'b7'" in err[0]


def _spearman(a, b):
    ranks_a, ranks_b = a.ravel().argsort().argsort(), b.ravel().argsort().argsort()
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


@pytest.fixture(scope="module")
def d2l_maps(fashion_dir):
    """The d2l checkpoint in results/, the first 100 test images and their Grad-CAM maps at b4."""
    from gluon_googlenet.training.data.run_data import to_input
    from gluon_googlenet.training.inference import read_image
    from gluon_googlenet.training.run.checkpoint import load_model

    from conftest import ROOT
    net, meta = load_model(os.path.join(ROOT, "results", "d2l_fashion_mnist", "best.ckpt"))
    images, labels = zip(*(read_image(f"test:{i}", meta, fashion_dir) for i in range(100)))
    images, labels = np.stack(images), np.array(labels)
    x = to_input(mx.nd.array(images, dtype="uint8"))
    maps, classes = grad_cam(net, x, "b4")
    return net, x, images, labels, maps, classes


@pytest.mark.slow
def test_maps_of_confidently_right_images_sit_on_the_item(d2l_maps):
    """Fashion-MNIST items are bright on black: for most confidently right images the mean heat
    on the item exceeds that on the background (measured: 70 of 76 at b4)."""
    net, x, images, labels, maps, classes = d2l_maps
    probs = mx.nd.softmax(net(x)).asnumpy()
    right = [i for i in range(100) if classes[i] == labels[i] and probs[i, classes[i]] > 0.9]
    item = images[:, 0] > 25
    on_item = [maps[i][item[i]].mean() > maps[i][~item[i]].mean() for i in right]
    assert len(right) > 50 and np.mean(on_item) > 0.8


@pytest.mark.slow
def test_cascading_randomisation_decorrelates_the_maps(d2l_maps):
    """Adebayo et al. 2018: randomising the weights from the top down (head, b5, b4, b3) must
    change the maps (measured mean rank correlation with the trained maps 0.20, 0.22, 0.08, 0.05)."""
    net, x, _, _, trained, classes = d2l_maps
    rng = np.random.RandomState(0)
    correlations = []
    for stage in ("head", "b5", "b4", "b3"):
        for param in getattr(net, stage).collect_params().values():
            param.set_data(mx.nd.array(rng.normal(0, 0.05, param.shape)))
        maps = grad_cam(net, x, "b4", class_index=classes)[0]
        correlations.append(np.mean([_spearman(trained[i], maps[i]) for i in range(len(maps))]))
    assert correlations[0] < 0.5 and correlations[-1] < 0.2 and correlations[-1] < correlations[0]


@pytest.mark.parametrize("name, side", [(name, None) for name in list_models()]
                         + [("googlenet_d2l", 32), ("googlenet_d2l", 96)])
def test_the_default_layer_is_the_deepest_with_maps_of_2x2_or_more(name, side):
    """At each model's smallest input (and the d2l net at the main job's 32 and the book's 96) the
    default layer's maps are at least 2x2 and the next layer's are not; grad_cam runs there (where
    no map is, one line says so)."""
    from gluon_googlenet.viz.gradcam import default_layer
    side = side or get_spec(name).min_size
    net = get_model(name, input_size=side)
    net.initialize(mx.init.Xavier())
    x = mx.nd.random.uniform(shape=(1, get_spec(name).input_size[0], side, side))
    if max(s for _, s in net.layer_sides(side)) < 2:  # a 1x1 input (googlenet_d2l, inception_bn)
        with pytest.raises(ConfigError, match=f"{name} has no feature maps of 2x2 or more at 1x1 inputs"):
            grad_cam(net, x)
        return
    layer = default_layer(net, side)
    count = layer_count(net, layer)
    outs = net.walk(mx.nd, x, count + 1, taps={count, count + 1})[1]
    assert min(outs[0].shape[2:]) >= 2
    assert len(outs) == 1 or outs[1].ndim < 4 or min(outs[1].shape[2:]) < 2
    assert {(32, "b4.4"), (96, "b5.1")} >= {(side, layer)} if name == "googlenet_d2l" and side in (32, 96) else True
    maps, _ = grad_cam(net, x)
    assert maps.shape == (1, side, side) and np.isfinite(maps).all()
