"""The private Gluon attributes this package reads: these fail loudly if an MXNet release changes them."""
import warnings

from gluon_googlenet.base.errors import CheckpointError
from gluon_googlenet.base.gluon_internals import (
    child_blocks,
    first_value,
    freeze,
    imperative,
    initialize_if_needed,
    is_hybridized,
    layer_kernel,
    load_structural,
    owns_parameters,
    run_with_hooks,
    structural_names,
    structural_params,
)

import mxnet as mx
import numpy as np
import pytest
from mxnet.gluon import nn


def _net():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(4, (3, 5), in_channels=1), nn.MaxPool2D(2, 2), nn.Dense(3))
    return net


def test_children_in_registration_order():
    net = _net()
    assert [(name, type(b).__name__) for name, b in child_blocks(net)] == \
        [("0", "Conv2D"), ("1", "MaxPool2D"), ("2", "Dense")]
    assert child_blocks(net[0]) == []


def test_structural_names_are_dotted_paths():
    net = _net()
    assert structural_names(net) == {net[0].weight.name: "0.weight", net[0].bias.name: "0.bias",
                                     net[2].weight.name: "2.weight", net[2].bias.name: "2.bias"}


def test_first_value_is_the_first_contexts_copy():
    dense = nn.Dense(2, in_units=3)
    dense.initialize(mx.init.Constant(0.5), ctx=[mx.cpu(1), mx.cpu(0)])
    value = first_value(dense.weight)
    assert value.context == mx.cpu(1) and value.shape == (2, 3)
    value[:] = 7  # the very array the parameter holds there, not a copy
    assert dense.weight.data(mx.cpu(1)).asnumpy().tolist() == [[7.0] * 3] * 2
    assert dense.weight.data(mx.cpu(0)).asnumpy().tolist() == [[0.5] * 3] * 2


def test_kernels_and_parameter_ownership():
    net = _net()
    assert layer_kernel(net[0]) == (3, 5) and layer_kernel(net[1]) == (2, 2)
    assert [owns_parameters(b) for b in (net, net[0], net[1], net[2])] == [False, True, False, True]


def test_hybridization_flag_and_imperative_restores_it():
    net = _net()
    assert not is_hybridized(net)
    net.hybridize()
    assert is_hybridized(net)
    with imperative(net):
        assert not is_hybridized(net)
    assert is_hybridized(net)


def test_initialize_if_needed_initializes_once():
    net = _net()
    initialize_if_needed(net, mx.cpu())
    weight = net[0].weight.data().asnumpy().copy()
    initialize_if_needed(net, mx.cpu())  # already initialised: left alone
    assert (net[0].weight.data().asnumpy() == weight).all()
    deferred = _net()
    deferred.initialize()  # Dense's input size is deferred until the first pass
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # re-initialising warns "already initialized"
        initialize_if_needed(deferred, mx.cpu())
    assert deferred(mx.nd.zeros((1, 1, 8, 8))).shape == (1, 3)


def test_hooks_see_every_layer_once_and_are_removed():
    net = _net()
    net.initialize()
    net.hybridize()
    seen = []
    run_with_hooks(net, mx.nd.zeros((2, 1, 8, 8)),
                   [(b, lambda blk, _i, out: seen.append((type(blk).__name__, out.shape)))
                    for _, b in child_blocks(net)])
    assert seen == [("Conv2D", (2, 4, 6, 4)), ("MaxPool2D", (2, 4, 3, 2)), ("Dense", (2, 3))]
    net(mx.nd.zeros((2, 1, 8, 8)))
    assert len(seen) == 3 and is_hybridized(net)


def test_freeze_keeps_batchnorm_statistics_even_behind_trained_layers():
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Conv2D(4, 3, in_channels=3), nn.Conv2D(4, 1, in_channels=4),
                nn.BatchNorm(in_channels=4), nn.Dense(2, in_units=4 * 6 * 6))
    net.initialize()
    frozen = nn.HybridSequential()
    frozen.add(net[1], net[2])
    freeze(frozen)
    net.hybridize()
    with mx.autograd.record():
        y = net(mx.nd.random.uniform(shape=(4, 3, 8, 8))).sum()
    y.backward()
    assert [p.grad_req for p in net[2].collect_params().values()] == ["null"] * 4
    assert float(net[2].running_mean.data().abs().sum().asscalar()) == 0  # not updated
    assert float(net[0].weight.grad().abs().sum().asscalar()) > 0  # the layer in front still learns


def test_structural_loading_equals_load_parameters(tmp_path):
    """load_structural (from memory) sets what save_parameters/load_parameters (through a file) do,
    and names a missing, an extra or a misshapen parameter."""
    source = _net()
    source.initialize(mx.init.Xavier())
    source(mx.nd.zeros((1, 1, 8, 8)))  # completes the Dense layer's deferred shape
    file = str(tmp_path / "p.params")
    source.save_parameters(file)
    arrays = {name: p.data() for name, p in structural_params(source).items()}
    assert set(arrays) == set(mx.nd.load(file))
    by_file, by_memory = _net(), _net()
    by_file.load_parameters(file)
    load_structural(by_memory, arrays, mx.cpu())
    for name, param in structural_params(by_file).items():
        assert np.array_equal(param.data().asnumpy(), structural_params(by_memory)[name].data().asnumpy())
    first = sorted(arrays)[0]
    with pytest.raises(CheckpointError, match=f"^p.params does not fit this model: parameter '{first}' is missing$"):
        load_structural(_net(), {k: v for k, v in arrays.items() if k != first}, mx.cpu(), "p.params")
    with pytest.raises(CheckpointError, match="^checkpoint does not fit this model: it has parameter 'nope.weight'"):
        load_structural(_net(), dict(arrays, **{"nope.weight": arrays[first]}), mx.cpu())
    with pytest.raises(CheckpointError, match=r"^checkpoint does not fit this model: .*shape"):
        load_structural(_net(), dict(arrays, **{first: mx.nd.zeros((3, 3, 3))}), mx.cpu())
