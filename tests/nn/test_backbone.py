"""The backbone interface over every registered model: features then head is the net, pre-logits,
a fresh classifier, and the feature pyramid (levels, export and reload, ONNX, published weights)."""
from gluon_googlenet import get_model, get_spec, list_models
from gluon_googlenet.base.errors import ConfigError
from gluon_googlenet.nn.backbone import FeatureNet
from gluon_googlenet.weights.export import export_model, export_onnx

import mxnet as mx
import numpy as np
import pytest
from conftest import cheap_side, save_gluoncv_googlenet


def _small(name):
    """The model at a cheap input side it accepts, initialised, and a batch of 2 for it."""
    spec = get_spec(name)
    side = cheap_side(name)
    net = get_model(name, input_size=side)
    net.initialize(mx.init.Xavier(magnitude=2.5))
    x = mx.nd.array(np.random.RandomState(0).uniform(size=(2, spec.input_size[0], side, side)))
    return net, x


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("hybrid", [False, True])
def test_features_then_head_is_the_net(name, hybrid):
    net, x = _small(name)
    if hybrid:
        net.hybridize(static_alloc=True)
    features = net.forward_features(x)
    assert features.shape[:2] == (2, net.num_features)
    np.testing.assert_allclose(net.forward_head(features).asnumpy(), net(x).asnumpy(), rtol=1e-6, atol=1e-7)
    pre = net.forward_head(features, pre_logits=True)
    hidden = {"googlenet_bn": 1024}.get(name)
    assert pre.shape == (2, hidden or net.num_features * int(np.prod(features.shape[2:])) if net.fixed_size
                         else hidden or net.num_features)


@pytest.mark.parametrize("name", list_models())
def test_the_public_contract_the_backbone_reads_matches_the_built_layers(name):
    """pooled, trunk_length, head_hidden_size, aux_hidden_size and classifier_prefix, each
    checked against the blocks the net was built with."""
    aux = {"aux_logits": True} if name == "googlenet" else {}  # the one net with auxiliary heads
    net = get_model(name, input_size=cheap_side(name) if not aux else 224, **aux)
    layers = net.layers()
    assert net.pooled == (net.fixed_size is None) == isinstance(layers[-1][1], mx.gluon.nn.GlobalAvgPool2D)
    assert net.trunk_length == len(layers) - net.pooled
    classifier = net.get_classifier()
    assert net.head_hidden_size == classifier._in_units
    assert net.classifier_prefix == classifier.prefix and classifier.prefix.startswith(net.prefix)
    auxes = [getattr(net, n)[-1] for n in net.aux_names]
    assert net.aux_hidden_size == (auxes[0]._in_units if auxes else None)
    assert all(a._in_units == net.aux_hidden_size for a in auxes)


@pytest.mark.parametrize("name", ["googlenet_d2l", "googlenet_bn", "mnist_resnet"])
def test_a_fresh_classifier_on_the_nets_contexts(name):
    spec = get_spec(name)
    side = {96: 32, 224: 64}.get(spec.input_size[1], spec.input_size[1])
    net = get_model(name, input_size=side)
    ctxs = [mx.cpu(0), mx.cpu(1)]
    net.initialize(mx.init.Xavier(), ctx=ctxs)
    x = mx.nd.random.uniform(shape=(2, spec.input_size[0], side, side))
    before = net.forward_features(x).asnumpy()
    pre = net.forward_head(net.forward_features(x), pre_logits=True).asnumpy()
    net.hybridize()
    net.reset_classifier(7)
    assert net(x).shape == (2, 7) and net.num_classes == 7 and net.class_names is None
    assert net.head[-1].weight.list_ctx() == ctxs and net(x.as_in_context(mx.cpu(1))).shape == (2, 7)
    np.testing.assert_array_equal(net.forward_features(x).asnumpy(), before)  # the trunk is untouched
    names = sorted(net.collect_params())
    net.reset_classifier(0)
    # no classifier: the pre-logits (the hybridized graph's sums may differ in the last bits)
    np.testing.assert_allclose(net(x).asnumpy(), pre, rtol=1e-6, atol=1e-6 * np.abs(pre).max())
    net.reset_classifier(3)
    assert net(x).shape == (2, 3) and sorted(net.collect_params()) == names  # the classifier keeps its name


def test_aux_classifiers_follow_the_new_classes():
    from mxnet import autograd
    net = get_model("googlenet", aux_logits=True)
    net.initialize(mx.init.Xavier())
    net.reset_classifier(5)
    with autograd.record(train_mode=True):
        out = net(mx.nd.random.uniform(shape=(2, 3, 224, 224)))
    assert out.main.shape == (2, 5) and [a.shape for a in out.aux] == [(2, 5), (2, 5)]


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_the_feature_pyramid_levels_exports_and_reloads(name, tmp_path):
    """One graph, one output per level with feature_info's channels; hybridized equals imperative;
    exported to -symbol.json/.params it reloads in plain MXNet with the same outputs."""
    net, x = _small(name)
    pyramid = FeatureNet(net)
    assert [i.num_chs for i in pyramid.feature_info] == [i.num_chs for i in net.feature_info]
    live = [o.asnumpy() for o in pyramid(x)]
    assert [o.shape[1] for o in live] == [i.num_chs for i in net.feature_info]
    assert live[-1].shape == net.forward_features(x).shape
    pyramid.hybridize(static_alloc=True)
    for got, want in zip(pyramid(x), live):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-6)
    symbol_file, params_file = export_model(pyramid, str(tmp_path / name), (1,) + x.shape[1:])
    loaded = mx.gluon.SymbolBlock.imports(symbol_file, ["data"], params_file)
    for got, want in zip(loaded(x), live):
        np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-5, atol=1e-6)


def test_out_indices_choose_levels_and_are_checked():
    net, x = _small("googlenet_d2l")
    two = FeatureNet(net, out_indices=(1, -1))
    assert [o.shape for o in two(x)] == [(2, 192, 4, 4), (2, 1024, 1, 1)]
    assert [i.module for i in two.feature_info] == ["b2.2", "b5.1"]
    assert two.feature_info.names() == ["b2", "b5"]  # the d2l net's levels are its stages' ends
    with pytest.raises(ConfigError, match=r"out_indices \(5,\) out of range: googlenet_d2l has 5 feature levels"):
        FeatureNet(net, out_indices=(5,))
    paper = get_model("googlenet", input_size=64)
    named = FeatureNet(paper, out_indices=("inception3b", "inception4e"))
    assert named.feature_info.module_name() == ["b3.1", "b4.4"] and named.feature_info.names(1) == "inception4e"
    with pytest.raises(ConfigError, match="no feature level named 'inception4f'; the levels: conv1, conv3, incep"):
        FeatureNet(paper, out_indices=("inception4f",))


@pytest.mark.parametrize("name", list_models())
def test_feature_levels_have_distinct_names(name):
    names = get_model(name, input_size=cheap_side(name)).feature_info.names()
    assert len(set(names)) == len(names) and all(names), names


def test_imagenet_levels_are_reductions_2_to_32():
    for name in list_models():
        if get_spec(name).input_size[1] >= 224:
            assert [i.reduction for i in get_model(name).feature_info] == [2, 4, 8, 16, 32], name


@pytest.mark.slow
def test_the_feature_pyramid_in_onnx_has_one_output_per_level(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator
    net = get_model("googlenet_d2l", input_size=16)
    net.initialize(mx.init.Xavier(magnitude=2.5))
    x = mx.nd.array(np.random.RandomState(0).uniform(size=(2, 1, 16, 16)))
    pyramid = FeatureNet(net, out_indices=(0, 1, 2))
    live = [o.asnumpy() for o in pyramid(x)]
    model = onnx.load(export_onnx(pyramid, str(tmp_path / "f.onnx"), (1,) + x.shape[1:]))
    assert len(model.graph.output) == 3 and all(o.type.tensor_type.shape.dim[0].dim_param == "batch"
                                                for o in model.graph.output)
    ran = ReferenceEvaluator(model).run(None, {"data": x.asnumpy()})
    for got, want in zip(ran, live):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


def test_published_weights_fill_the_trunk_of_a_feature_pyramid(tmp_path):
    weights = save_gluoncv_googlenet(tmp_path / "googlenet.params")
    whole = get_model("googlenet", pretrained=weights)
    pyramid = get_model("googlenet", pretrained=weights, features_only=True)
    x = mx.nd.random.uniform(shape=(1, 3, 224, 224))
    np.testing.assert_allclose(pyramid(x)[-1].asnumpy(), whole.forward_features(x).asnumpy(), rtol=1e-5, atol=1e-6)
    assert [p for p in pyramid.collect_params() if "head" in p] == []
