"""Every registered model: output shape, parameter count, hybridization, input checks."""
import os

import mxnet as mx
import numpy as np
import pytest

from gluon_googlenet import GoogLeNet, Inception, get_model, list_models, register_model
from gluon_googlenet.errors import ConfigError, InputShapeError
from gluon_googlenet.models import get_spec
from gluon_googlenet.models.registry import BUILTIN
from gluon_googlenet.summary import count_params
from gluon_googlenet.zoo import format_zoo, measure, zoo_rows


def _small_input(name):
    """Default channels at a cheap spatial size the model accepts."""
    spec = get_spec(name)
    net = get_model(name)
    side = net.fixed_size or max(net.min_size, 32)
    return net, (1, spec.input_size[0], side, side)


@pytest.mark.parametrize("name", list_models())
def test_registry_facts_are_the_built_nets(name):
    """The one check of every model's facts (parameters, mult-adds, smallest side): the
    registry's figures, which the zoo table and the README print, are what the nets have."""
    spec = get_spec(name)
    assert (spec.num_params, spec.mult_adds, spec.min_size) == measure(name)
    assert count_params(get_model(name)) == spec.num_params
    # the smallest side builds and runs; one pixel less does not
    channels = spec.input_size[0]
    small = get_model(name, input_size=spec.min_size)
    small.initialize()
    assert small(mx.nd.zeros((1, channels, spec.min_size, spec.min_size))).shape == (1, spec.classes)
    if spec.min_size > 1:
        with pytest.raises(ValueError):
            tiny = get_model(name, input_size=spec.min_size - 1)
            tiny.initialize()
            tiny(mx.nd.zeros((1, channels, spec.min_size - 1, spec.min_size - 1)))


def test_the_readme_zoo_table_is_the_registry():
    readme = open(os.path.join(os.path.dirname(__file__), "..", "README.md"), encoding="utf-8").read()
    table = readme.split("<!-- zoo:start", 1)[1].split("-->", 1)[1].split("<!-- zoo:end -->")[0]
    builtin = sorted(spec.name for spec in BUILTIN)  # not models other tests register
    assert table.strip() == format_zoo(zoo_rows(builtin), markdown=True), \
        "README's zoo table is out of date: paste the output of `gluon-googlenet zoo --markdown`"


@pytest.mark.parametrize("name", list_models())
def test_output_shape_at_default_input(name):
    spec = get_spec(name)
    net = get_model(name)
    net.initialize(mx.init.Xavier())
    out = net(mx.nd.zeros((1,) + spec.input_size))
    assert out.shape == (1, spec.classes)


@pytest.mark.parametrize("name", list_models())
def test_hybridized_equals_imperative(name):
    net, shape = _small_input(name)
    net.initialize(mx.init.Xavier(magnitude=2.5))
    x = mx.nd.random.uniform(shape=(2,) + shape[1:])
    imperative = net(x).asnumpy()
    net.hybridize(static_alloc=True)
    hybrid = net(x).asnumpy()
    assert np.abs(imperative).max() > 0
    np.testing.assert_allclose(hybrid, imperative, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list_models())
def test_hybridized_graph_is_one_symbol_with_data_input(name):
    net = get_model(name)
    sym = net(mx.sym.var("data"))
    params = set(net.collect_params().keys())
    inputs = sym.list_inputs()
    assert inputs[0] == "data" and [i for i in inputs if i not in params] == ["data"]
    assert set(inputs[1:]) <= params
    assert len(sym.list_outputs()) == 1


@pytest.mark.parametrize("name", list_models())
def test_min_size_is_the_smallest_size_mxnet_accepts(name):
    """The min_size a net computes from its table agrees with MXNet's own shape inference."""
    net = get_model(name)
    sym = net(mx.sym.var("data"))
    channels = get_spec(name).input_size[0]

    def infers(size):
        try:
            _, out_shapes, _ = sym.infer_shape(data=(1, channels, size, size))
        except mx.base.MXNetError:
            return False
        return out_shapes is not None and all(d > 0 for d in out_shapes[0])

    assert infers(net.min_size)
    assert net.min_size == 1 or not infers(net.min_size - 1)


@pytest.mark.parametrize("name", list_models())
def test_wrong_channels_raise_value_error(name):
    net, shape = _small_input(name)
    net.initialize()
    wrong = (1, shape[1] + 2) + shape[2:]
    with pytest.raises(ValueError, match=f"built for {shape[1]} input channel"):
        net(mx.nd.zeros(wrong))


@pytest.mark.parametrize("name", list_models())
def test_wrong_rank_raises_value_error(name):
    net, shape = _small_input(name)
    net.initialize()
    with pytest.raises(InputShapeError, match="4-D input"):
        net(mx.nd.zeros(shape[1:]))


@pytest.mark.parametrize("name", list_models())
def test_input_below_the_minimum_is_refused(name):
    net, shape = _small_input(name)
    net.initialize()
    if net.fixed_size:
        with pytest.raises(ValueError, match=f"takes {net.fixed_size}x{net.fixed_size} inputs only"):
            net(mx.nd.zeros(shape[:2] + (net.fixed_size + 4,) * 2))
    elif net.min_size > 1:
        with pytest.raises(ValueError, match=f"at least {net.min_size}x{net.min_size}"):
            net(mx.nd.zeros(shape[:2] + (net.min_size - 1,) * 2))
    else:
        assert net(mx.nd.zeros(shape[:2] + (1, 1))).shape == (1, get_spec(name).classes)


def test_inception_v4_on_mnist_sized_input_names_its_minimum():
    """Reference article 001: users feed 28x28 MNIST to Inception v4 and get stuck."""
    net = get_model("inception_v4", in_channels=1, classes=10)
    net.initialize()
    with pytest.raises(ValueError, match="inception_v4 needs inputs of at least 75x75 pixels, got 28x28"):
        net(mx.nd.zeros((1, 1, 28, 28)))


def _gluoncv_count(name, shape):
    gluoncv = pytest.importorskip("gluoncv")
    net = gluoncv.model_zoo.get_model(name)
    net.initialize()
    net(mx.nd.zeros(shape))
    return count_params(net)


def test_googlenet_3x3_variant_matches_gluoncv():
    ours = count_params(get_model("googlenet", five_by_five=False))
    assert ours == _gluoncv_count("googlenet", (1, 3, 224, 224)) == 6_624_904
    # the paper's 5x5 kernels: 16 * 9 per (reduce x out) pair more in every third branch
    extra = 16 * sum(r * c for r, c in [(16, 32), (32, 96), (16, 48), (24, 64), (24, 64), (32, 64),
                                        (32, 128), (32, 128), (48, 128)])
    assert count_params(get_model("googlenet")) == ours + extra == get_spec("googlenet").num_params == 7_005_832


def test_inception_v3_matches_gluoncv():
    assert count_params(get_model("inception_v3")) == _gluoncv_count("inceptionv3", (1, 3, 299, 299))


def test_googlenet_bn_matches_article_002_summary():
    assert count_params(get_model("googlenet_bn", classes=4)) == 7_041_172


def test_googlenet_aux_heads_in_training_only():
    from mxnet import autograd
    from gluon_googlenet.models import TrainOutputs
    net = get_model("googlenet", aux_logits=True, classes=7)
    net.initialize(mx.init.Xavier())
    # each aux head: conv 1x1 128 + BN, FC 2048->1024, FC 1024->7
    aux = lambda c: c * 128 + 2 * 128 + 2048 * 1024 + 1024 + 1024 * 7 + 7
    assert count_params(net) == count_params(get_model("googlenet", classes=7)) + aux(512) + aux(528)
    assert net.min_size > 1
    x = mx.nd.random.uniform(shape=(2, 3, 224, 224))
    for hybrid in (False, True):
        if hybrid:
            net.hybridize()
        with autograd.record():
            out = net(x)
        assert isinstance(out, TrainOutputs)
        assert out.main.shape == (2, 7) and [a.shape for a in out.aux] == [(2, 7), (2, 7)]
        assert net(x).shape == (2, 7)
    sym = net(mx.sym.var("data"))
    assert len(sym.list_outputs()) == 1 and not any("aux" in a for a in sym.list_arguments())


def test_too_small_input_names_the_minimum():
    """A stage table with valid (unpadded) layers has a real minimum; the error names it."""
    from gluon_googlenet.layers import Conv, GlobalAvgPool, MaxPool
    stages = (("b1", (Conv(8, 7, 2, 0), MaxPool(3, 2, 0))), ("b2", (Conv(16, 3, 1, 0), GlobalAvgPool())))
    net = GoogLeNet(classes=3, in_channels=1, stages=stages, model_name="tiny")
    # backwards from out >= 1: 3x3 conv needs 3, 3x3/2 pool (3-1)*2+3 = 7, 7x7/2 conv (7-1)*2+7 = 19
    assert net.min_size == 19
    net.initialize()
    assert net(mx.nd.zeros((1, 1, 19, 19))).shape == (1, 3)
    with pytest.raises(ValueError, match="at least 19x19"):
        net(mx.nd.zeros((1, 1, 18, 18)))


def test_d2l_net_takes_three_channels_when_built_so():
    net = get_model("googlenet_d2l", in_channels=3, classes=7)
    net.initialize()
    assert net(mx.nd.zeros((1, 3, 64, 64))).shape == (1, 7)
    assert count_params(net) == 5_977_530 - 10 * 1025 + 7 * 1025 + 2 * 64 * 49


def test_stages_are_named_and_ordered():
    net = get_model("googlenet_d2l")
    assert [name for name, _ in net.stages()] == ["b1", "b2", "b3", "b4", "b5", "head"]
    assert net.b3 is dict(net.stages())["b3"]


def test_inception_block_concatenates_branches():
    block = Inception(64, (96, 128), (16, 32), 32, in_channels=192)
    block.initialize()
    x = mx.nd.random.uniform(shape=(2, 192, 12, 12))
    out = block(x)
    assert out.shape == (2, 256, 12, 12) and block.out_channels == 256
    parts = [branch(x) for _, branch in block.branches]
    np.testing.assert_allclose(out.asnumpy(), mx.nd.concat(*parts, dim=1).asnumpy())
    assert min(float(p.min().asscalar()) for p in parts) >= 0  # ReLU after every conv
    block.hybridize()
    np.testing.assert_allclose(block(x).asnumpy(), out.asnumpy(), rtol=1e-5, atol=1e-6)


def test_get_model_unknown_name_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="googlenet_d2l"):
        get_model("googlenet_v9")


def test_registry_refuses_duplicates():
    with pytest.raises(ValueError, match="registered already"):
        register_model("googlenet_d2l", (1, 96, 96), 10, "dup")(lambda **kw: None)


@pytest.mark.parametrize("name", list_models())
def test_every_parameter_gets_a_gradient(name):
    """One backward pass reaches every trainable parameter (a detached branch would not)."""
    net, shape = _small_input(name)
    mx.random.seed(0)
    net.initialize(mx.init.Xavier())
    x = mx.nd.random.uniform(shape=(4,) + shape[1:])
    y = mx.nd.array([0, 1, 2, 3])
    with mx.autograd.record():
        loss = mx.gluon.loss.SoftmaxCrossEntropyLoss()(net(x), y)
    loss.backward()
    trainable = {n: p for n, p in net.collect_params().items() if p.grad_req != "null"}
    assert trainable
    no_grad = [n for n, p in trainable.items() if not np.abs(p.grad().asnumpy()).max() > 0]
    assert not no_grad, f"no gradient for {no_grad[:5]} ({len(no_grad)} of {len(trainable)})"
