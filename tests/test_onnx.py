"""ONNX export through mx.onnx, run back with onnx's reference evaluator."""
import mxnet as mx
import numpy as np
import pytest

from gluon_googlenet import cli, get_model, list_models
from gluon_googlenet.export import export_onnx
from gluon_googlenet.models import get_spec

onnx = pytest.importorskip("onnx")


@pytest.mark.parametrize("name", list_models())
def test_every_model_exports_a_valid_onnx_graph(name, tmp_path):
    net = get_model(name)
    net.initialize(mx.init.Xavier())
    side = net.fixed_size or max(net.min_size, 32)
    path = export_onnx(net, str(tmp_path / f"{name}.onnx"), (1, get_spec(name).input_size[0], side, side))
    model = onnx.load(path)
    assert [i.name for i in model.graph.input] == ["data"] and len(model.graph.output) == 1
    assert {i.name for i in model.graph.initializer} >= set(net.collect_params().keys()) - _aux_params(net)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [get_spec(name).input_size[0], side, side]


def _aux_params(net):
    """Training-only aux-head parameters: not in the exported graph."""
    return {k for k in net.collect_params().keys() if "_aux" in k}


@pytest.mark.parametrize("name, side", [("googlenet_d2l", 16), ("mnist_inception", 28), ("mnist_resnet", 28)])
def test_onnx_outputs_match_mxnet(name, side, tmp_path):
    from onnx.reference import ReferenceEvaluator
    net = get_model(name)
    net.initialize(mx.init.Xavier(magnitude=2.5))
    x = np.random.RandomState(0).uniform(size=(3, 1, side, side)).astype(np.float32)
    live = net(mx.nd.array(x)).asnumpy()
    model = onnx.load(export_onnx(net, str(tmp_path / "m.onnx"), (1,) + x.shape[1:]))  # exported at batch 1
    ran = ReferenceEvaluator(model).run(None, {"data": x})[0]  # run at batch 3
    assert ran.shape == live.shape
    np.testing.assert_allclose(ran, live, rtol=1e-4, atol=1e-5)


def test_export_command_onnx(tmp_path, capsys):
    assert cli.main(["export", "--format", "onnx", "--model", "mnist_resnet", "--out", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "r.onnx")
    onnx.checker.check_model(onnx.load(str(tmp_path / "r.onnx")))
