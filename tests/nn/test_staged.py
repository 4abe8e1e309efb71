"""StagedNet, over every registered model: shapes, hybridization, input checks, gradients, aux heads."""
from gluon_googlenet import GoogLeNet, get_model, get_spec, list_models
from gluon_googlenet.base.errors import InputShapeError
from gluon_googlenet.viz.summary import count_params

import mxnet as mx
import numpy as np
import pytest


def _small_input(name):
    """Default channels at a cheap spatial size the model accepts."""
    spec = get_spec(name)
    net = get_model(name)
    side = net.fixed_size or max(net.min_size, 32)
    return net, (1, spec.input_size[0], side, side)


@pytest.mark.parametrize("name", list_models())
def test_output_shape_at_default_input(name):
    spec = get_spec(name)
    net = get_model(name)
    net.initialize(mx.init.Xavier())
    out = net(mx.nd.zeros((1,) + spec.input_size))
    assert out.shape == (1, spec.num_classes)


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
        assert net(mx.nd.zeros(shape[:2] + (1, 1))).shape == (1, get_spec(name).num_classes)


def test_inception_v4_on_mnist_sized_input_names_its_minimum():
    """Users feed 28x28 MNIST to Inception v4 (a TF2 write-up shows it failing): one line names the minimum."""
    net = get_model("inception_v4", in_channels=1, num_classes=10)
    net.initialize()
    with pytest.raises(ValueError, match="inception_v4 needs inputs of at least 75x75 pixels, got 28x28"):
        net(mx.nd.zeros((1, 1, 28, 28)))


def test_googlenet_aux_heads_in_training_only():
    from gluon_googlenet.nn.staged import TrainOutputs

    from mxnet import autograd
    net = get_model("googlenet", aux_logits=True, num_classes=7)
    net.initialize(mx.init.Xavier())
    def aux(c):  # each aux head: conv 1x1 128 + BN, FC 2048->1024, FC 1024->7
        return c * 128 + 2 * 128 + 2048 * 1024 + 1024 + 1024 * 7 + 7
    assert count_params(net) == count_params(get_model("googlenet", num_classes=7)) + aux(512) + aux(528)
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
    from gluon_googlenet.nn.layers import Conv, GlobalAvgPool, MaxPool
    stages = (("b1", (Conv(8, 7, 2, 0), MaxPool(3, 2, 0))), ("b2", (Conv(16, 3, 1, 0), GlobalAvgPool())))
    net = GoogLeNet(num_classes=3, in_channels=1, stages=stages, model_name="tiny")
    # backwards from out >= 1: 3x3 conv needs 3, 3x3/2 pool (3-1)*2+3 = 7, 7x7/2 conv (7-1)*2+7 = 19
    assert net.min_size == 19
    net.initialize()
    assert net(mx.nd.zeros((1, 1, 19, 19))).shape == (1, 3)
    with pytest.raises(ValueError, match="at least 19x19"):
        net(mx.nd.zeros((1, 1, 18, 18)))


def test_stages_are_named_and_ordered():
    net = get_model("googlenet_d2l")
    assert [name for name, _ in net.stages()] == ["b1", "b2", "b3", "b4", "b5", "head"]
    assert net.b3 is dict(net.stages())["b3"]


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


def test_feature_levels_are_level_marks_and_survive_an_added_layer():
    """A Level mark ends and names a level where the table has it: a layer added to an earlier
    stage moves the counts, not the levels; a mark before any layer is refused in one line."""
    from gluon_googlenet.base.errors import ConfigError
    from gluon_googlenet.nn.googlenet import D2L_STAGES
    from gluon_googlenet.nn.layers import Conv, Level
    b1, b2, b3, b4, b5 = (layers for _, layers in D2L_STAGES)

    def table(extra=()):
        return (("b1", (b1[0], b1[1], Level("stem"))), ("b2", (*b2[:2], *extra, b2[2])),
                ("b3", (*b3[:2], b3[2], Level("middle"))), ("b4", b4), ("b5", (b5[0], Level("late"), *b5[1:])))
    net, wider = GoogLeNet(stages=table()), GoogLeNet(stages=table((Conv(192, 3, 1, 1),)))
    assert net.feature_info.names() == wider.feature_info.names() == ["stem", "middle", "late"]
    assert [i.module for i in net.feature_info] == ["b1.1", "b3.2", "b5.0"]
    assert [i.module for i in wider.feature_info] == ["b1.1", "b3.2", "b5.0"]
    assert [c + 1 if i else c for i, c in enumerate(net.feature_levels)] == list(wider.feature_levels)
    assert [i.num_chs for i in wider.feature_info] == [64, 480, 832]
    assert len(net.b1) == 2 and net.layers()[1][0] == "b1.1"  # a mark builds no block
    with pytest.raises(ConfigError, match="googlenet_d2l: feature level 'first' must follow a layer of the trunk"):
        GoogLeNet(stages=(("b1", (Level("first"), *b1)),) + D2L_STAGES[1:])


def test_aux_heads_follow_one_switch_through_mode_changes():
    """``aux_logits`` and training mode decide the outputs, hybridized or not, however often the mode
    changes; off, the net trains on its main logits; a net built without aux heads refuses the switch."""
    from gluon_googlenet.base.errors import ConfigError
    from gluon_googlenet.nn.staged import TrainOutputs

    from mxnet import autograd
    net = get_model("googlenet", aux_logits=True, num_classes=4, k3=3, dropout=0.0, dropout_aux=0.0,
                    input_size=96)
    net.initialize(mx.init.Xavier())
    x = mx.nd.random.uniform(shape=(1, 3, 96, 96))
    assert net.aux_logits and net.min_size == 79  # the 5x5/3 aux pool after 4a needs more than 47
    expected = net(x).asnumpy()
    net.hybridize(static_alloc=True)
    for _ in range(2):
        with autograd.record():
            out = net(x)
        assert isinstance(out, TrainOutputs) and len(out.aux) == 2
        np.testing.assert_allclose(net(x).asnumpy(), expected, rtol=1e-4, atol=1e-5)
    net.aux_logits = False
    with autograd.record():
        assert net(x).shape == (1, 4)
    with pytest.raises(ConfigError, match="built without auxiliary heads"):
        get_model("googlenet_d2l").aux_logits = True
