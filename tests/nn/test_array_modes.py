"""Every registered model, and the paths around it, in both of MXNet's array modes: legacy ``mx.nd``
and numpy (``npx.set_np()``, as every d2l notebook starts), hybridized and not, equal to 1e-6 with
the same weights; an export made in numpy mode loads back with plain MXNet and gives the same."""
import contextlib
import os

from gluon_googlenet import get_model, get_spec, list_models
from gluon_googlenet.weights.export import export_model, import_model

import mxnet as mx
import numpy as onp
import pytest
from conftest import D2L_SHAPES
from mxnet import autograd, np, npx

MODES = ("legacy", "numpy")


@contextlib.contextmanager
def mode(name):
    """Inside: MXNet's array mode ``name``; legacy again after, whatever happens."""
    if name == "numpy":
        npx.set_np()
    try:
        yield np if name == "numpy" else mx.nd
    finally:
        npx.reset_np()


def smallest_input(name, batch=1):
    """A fixed random batch at the model's smallest input (its only one for fixed-size nets)."""
    spec = get_spec(name)
    side = spec.input_size[1] if name.startswith("mnist") else spec.min_size
    return onp.random.RandomState(0).uniform(-1, 1, (batch, spec.input_size[0], side, side)).astype("float32")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Per model, built once in legacy mode: (its weights file, the input, its output)."""
    folder, cache = tmp_path_factory.mktemp("modes"), {}

    def get(name):
        if name not in cache:
            mx.random.seed(0)
            net = get_model(name)
            net.initialize(mx.init.Xavier())
            x = smallest_input(name)
            out = net(mx.nd.array(x)).asnumpy()
            path = str(folder / f"{name}.params")
            net.save_parameters(path)
            cache[name] = path, x, out
        return cache[name]
    return get


def built_in(mode_name, name, params, **kwargs):
    """Model ``name`` built in ``mode_name`` (Gluon layers pick their operators when built), with ``params``."""
    with mode(mode_name):
        net = get_model(name, **kwargs)
        net.load_parameters(params)
    return net


# The reference is the legacy imperative run; the three other ways must give its numbers.
WAYS = [("legacy", True), ("numpy", False), ("numpy", True)]


@pytest.mark.slow
@pytest.mark.parametrize(("mode_name", "hybridize"), WAYS, ids=["legacy-hybridized", "numpy", "numpy-hybridized"])
@pytest.mark.parametrize("name", list_models())
def test_every_model_gives_the_same_outputs_in_both_array_modes(name, mode_name, hybridize, reference, tmp_path):
    """Numpy mode, hybridized: also exported, then loaded back by plain MXNet (legacy mode) and by
    import_model in numpy mode, each giving the same numbers."""
    params, x, expected = reference(name)
    net = built_in(mode_name, name, params)
    with mode(mode_name) as arrays:
        if hybridize:
            net.hybridize()
        out = net(arrays.array(x))
        assert isinstance(out, np.ndarray) == (mode_name == "numpy")
        onp.testing.assert_allclose(out.asnumpy(), expected, rtol=1e-5, atol=1e-6)
        if mode_name == "legacy" or not hybridize:
            return
        prefix = str(tmp_path / name)
        export_model(net, prefix, (1, *x.shape[1:]))
        again = import_model(prefix)(np.array(x))
    onp.testing.assert_allclose(again.asnumpy(), expected, rtol=1e-5, atol=1e-6)
    plain = mx.gluon.SymbolBlock.imports(f"{prefix}-symbol.json", ["data"], f"{prefix}-0000.params")
    onp.testing.assert_allclose(plain(mx.nd.array(x)).asnumpy(), expected, rtol=1e-5, atol=1e-6)


def test_the_block_the_book_builds_runs_in_numpy_mode():
    from gluon_googlenet import Inception
    with mode("numpy"):
        block = Inception(64, (96, 128), (16, 32), 32)
        block.initialize()
        assert block(np.zeros((1, 192, 12, 12))).shape == (1, 256, 12, 12)


def test_the_nets_iterate_over_their_stages_and_head_as_the_books_sequential():
    with mode("numpy"):
        net = get_model("googlenet_d2l")
        net.initialize(mx.init.Xavier())
        x, shapes = np.random.normal(size=(1, 1, 96, 96)), []
        for layer in net:  # d2l's Classifier.layer_summary
            x = layer(x)
            shapes.append(x.shape)
    assert shapes == [shape for _, shape in D2L_SHAPES]
    assert len(net) == 6 and net[0] is net.b1 and net[-1] is net.head and net[1:3] == [net.b2, net.b3]


@pytest.mark.parametrize("mode_name", MODES)
def test_features_aux_heads_backbone_and_normalized_in_both_modes(mode_name, tmp_path):
    """googlenet has every path: a feature pyramid, aux heads, forward_features/head, a Normalized
    wrapper; each gives the legacy mode's numbers."""
    from gluon_googlenet.nn.backbone import FeatureNet
    from gluon_googlenet.weights.preprocess import Normalized
    mx.random.seed(1)
    net = get_model("googlenet", aux_logits=True, input_size=96, dropout=0.0, dropout_aux=0.0)
    net.initialize(mx.init.Xavier())
    x = onp.random.RandomState(1).uniform(size=(2, 3, 96, 96)).astype("float32")
    params = str(tmp_path / "g.params")
    net.save_parameters(params)

    def run(mode_name):
        net = built_in(mode_name, "googlenet", params, aux_logits=True, input_size=96, dropout=0.0, dropout_aux=0.0)
        features = FeatureNet(net, out_indices=(1, 3))
        with mode(mode_name) as arrays:
            data = arrays.array(x)
            with autograd.record():
                main, aux = net(data)
            pre = net.forward_head(net.forward_features(data), pre_logits=True)
            wrapped = Normalized(net, (0.5, 0.4, 0.3), (0.2, 0.25, 0.3))
            wrapped.hybridize()
            return [main, *aux, pre, *features(data), wrapped(data)]

    legacy, other = run("legacy"), run(mode_name)
    assert len(other) == 7
    for a, b in zip(legacy, other):
        assert b.shape == a.shape
        onp.testing.assert_allclose(b.asnumpy(), a.asnumpy(), rtol=1e-5, atol=1e-6)


def test_grad_cam_in_numpy_mode_gives_the_legacy_maps(tmp_path):
    from gluon_googlenet.viz.gradcam import grad_cam
    mx.random.seed(2)
    net = get_model("googlenet_d2l")
    net.initialize(mx.init.Xavier())
    params = str(tmp_path / "d.params")
    net.save_parameters(params)
    x = onp.random.RandomState(2).uniform(size=(2, 1, 32, 32)).astype("float32")
    maps, classes = grad_cam(net, mx.nd.array(x))
    numpy_net = built_in("numpy", "googlenet_d2l", params)
    with mode("numpy"):
        numpy_maps, numpy_classes = grad_cam(numpy_net, np.array(x))
    assert numpy_classes == classes
    onp.testing.assert_allclose(numpy_maps, maps, rtol=1e-5, atol=1e-6)
    assert os.path.isfile(params)
