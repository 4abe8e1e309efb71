"""Every registered model: output shape, parameter count, hybridization, input checks."""
import mxnet as mx
import numpy as np
import pytest

from gluon_googlenet import GoogLeNet, Inception, get_model, list_models, register_model
from gluon_googlenet.errors import ConfigError, InputShapeError
from gluon_googlenet.models import get_spec
from gluon_googlenet.summary import count_params

# Trainable parameters with each model's default input channels and classes.
EXPECTED_PARAMS = {"googlenet_d2l": 5_977_530}


def _small_input(name):
    """Default channels at a cheap spatial size the model accepts."""
    spec = get_spec(name)
    net = get_model(name)
    return net, (1, spec.input_size[0], max(net.min_size, 32), max(net.min_size, 32))


def test_every_model_has_an_expected_count():
    assert sorted(EXPECTED_PARAMS) == list_models()


@pytest.mark.parametrize("name", list_models())
def test_parameter_count(name):
    assert count_params(get_model(name)) == EXPECTED_PARAMS[name]


@pytest.mark.parametrize("name", list_models())
def test_output_shape_at_default_input(name):
    spec = get_spec(name)
    net = get_model(name)
    net.initialize(mx.init.Xavier())
    out = net(mx.nd.zeros((2,) + spec.input_size))
    assert out.shape == (2, spec.classes)


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
    assert sym.list_inputs()[0] == "data"
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


def test_too_small_input_names_the_minimum():
    """A stage table with valid (unpadded) layers has a real minimum; the error names it."""
    from gluon_googlenet.stages import Conv, GlobalAvgPool, MaxPool
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
