"""Small maps: on 1x1 and 2x2 maps the Inception blocks leave out the kernel taps and the pooling that
only meet padding. The traced graph is the same function with less work; symbols and exports stay the
graph for every input side."""
import json

from gluon_googlenet import Inception, get_model, get_spec, list_models
from gluon_googlenet.weights.export import export_model

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd


def graph_ops(symbol):
    """(op, kernel) of every Convolution and Pooling node of ``symbol``."""
    nodes = json.loads(symbol.tojson())["nodes"]
    return [(n["op"], n.get("attrs", {}).get("kernel")) for n in nodes if n["op"] in ("Convolution", "Pooling")]


def run_with_grads(block, x):
    """Output, input gradient and parameter gradients of ``block`` on ``x`` in training mode."""
    x = x.copy()
    x.attach_grad()
    with autograd.record():
        out = block(x)
        loss = (out * out).sum()  # every output element contributes its own gradient
    loss.backward()
    grads = {name.split("_", 1)[1]: p.grad().asnumpy() for name, p in block.collect_params().items()
             if p.grad_req != "null"}
    return out.asnumpy(), x.grad.asnumpy(), grads


def assert_same(got, want):
    """Outputs, input and parameter gradients equal up to float rounding. Gradients are compared on the
    scale of the largest one: behind batch norm some are rounding noise around 0 (a bias before BN)."""
    for a, b in zip(got[:2], want[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * np.abs(b).max())
    assert got[2].keys() == want[2].keys()
    scale = max(np.abs(grad).max() for grad in want[2].values())
    for name in want[2]:
        np.testing.assert_allclose(got[2][name], want[2][name], rtol=1e-3, atol=1e-4 * scale, err_msg=name)


@pytest.mark.parametrize("side,k3,batch_norm", [(1, 5, False), (1, 5, True), (2, 5, True), (1, 3, False)])
def test_inception_on_a_small_map_is_the_same_function_with_less_work(side, k3, batch_norm):
    block = Inception(16, (8, 12), (4, 8), 8, in_channels=12, batch_norm=batch_norm, k3=k3)
    block.initialize(mx.init.Xavier())
    x = mx.nd.random.normal(shape=(4, 12, side, side))  # negative values too: the pool is left out anyway
    whole = run_with_grads(block, x)
    block.trace_side(side)
    assert_same(run_with_grads(block, x), whole)
    kernels = {kernel for op, kernel in graph_ops(block(mx.sym.var("data"))) if op == "Convolution"}
    pools = [op for op, _ in graph_ops(block(mx.sym.var("data"))) if op == "Pooling"]
    block.trace_side(None)
    assert kernels == ({"(1, 1)"} if side == 1 else {"(1, 1)", "(3, 3)"})  # (5, 5) taps at 2x2: the central 3x3
    assert pools == ([] if side == 1 else ["Pooling"])
    assert {kernel for op, kernel in graph_ops(block(mx.sym.var("data")))} >= {"(3, 3)", f"({k3}, {k3})"}


def trimming_side(name):
    """The smallest input side at which model ``name`` has Inception blocks on 1x1 maps, or None."""
    net = get_model(name)
    channels = get_spec(name).input_size[0]
    for side in range(max(net.min_size, 16), 129):
        if any(s == 1 for _, s in net.trimmed_blocks((1, channels, side, side))):
            return side
    return None


TRIMMED = [name for name in list_models() if trimming_side(name)]


def test_the_googlenets_trim_and_the_others_do_not():
    assert TRIMMED == ["googlenet", "googlenet_bn", "googlenet_d2l", "googlenet_d2l_bn"]
    net = get_model("googlenet_d2l_bn")
    assert [(block.name.split("_", 3)[-1], side) for block, side in net.trimmed_blocks((1, 1, 28, 28))] == \
        [(f"b4_inception{i}", 2) for i in range(5)] + [("b5_inception0", 1), ("b5_inception1", 1)]
    assert net.trimmed_blocks((1, 1, 96, 96)) == ()  # 6x6 and 3x3 maps: nothing to leave out


@pytest.mark.parametrize("name", TRIMMED)
def test_a_net_on_small_maps_computes_what_the_whole_graph_does(name):
    side = trimming_side(name)
    mx.random.seed(1)
    x = mx.nd.random.uniform(shape=(8, get_spec(name).input_size[0], side, side))
    results = []
    for trim in (False, True):
        net = get_model(name, num_classes=10)
        mx.random.seed(0)
        net.initialize(mx.init.Xavier())
        net.trim_small_maps = trim
        net.hybridize(static_alloc=True)
        results.append(run_with_grads(net, x))
    assert_same(results[1], results[0])


def test_symbols_and_exports_take_every_side_after_a_small_input(tmp_path):
    net = get_model("googlenet_d2l_bn")
    net.initialize(mx.init.Xavier())
    net.hybridize()
    general = graph_ops(net(mx.sym.var("data")))
    small, large = mx.nd.random.uniform(shape=(2, 1, 28, 28)), mx.nd.random.uniform(shape=(2, 1, 96, 96))
    live_small = net(small).asnumpy()  # traces the small maps' graph
    assert graph_ops(net(mx.sym.var("data"))) == general
    assert net(small).shape == (2, 10)
    symbol_file, params_file = export_model(net, str(tmp_path / "m"), (1, 1, 28, 28))
    with open(symbol_file, encoding="utf-8") as f:
        assert graph_ops(mx.sym.load_json(f.read())) == general
    plain = mx.gluon.SymbolBlock.imports(symbol_file, ["data"], params_file)
    np.testing.assert_allclose(plain(small).asnumpy(), live_small, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(plain(large).asnumpy(), net(large).asnumpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(net(small).asnumpy(), live_small, rtol=1e-5, atol=1e-6)  # trims again after export


def test_the_layer_summary_runs_every_layer_on_small_maps():
    from gluon_googlenet.viz.summary import layer_summary
    net = get_model("googlenet_d2l_bn")
    rows = {row.name: row for row in layer_summary(net, (1, 1, 28, 28)).rows}
    assert rows["b5.1.p4.0"].kind == "MaxPool2D" and rows["b5.1.p4.0"].output_shape == (1, 832, 1, 1)
    assert rows["b5.1"].output_shape == (1, 1024, 1, 1)
