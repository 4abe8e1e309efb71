"""One API with timm and GluonCV: the calls a user of either tries first work here too."""
import gluon_googlenet
from gluon_googlenet import GoogLeNet, get_model, list_models, list_pretrained

import mxnet as mx
import pytest


def test_get_model_takes_ctx_with_or_without_weights(tmp_path):
    from conftest import save_gluoncv_googlenet
    net = get_model("googlenet_d2l", ctx=mx.cpu())  # GluonCV's signature: no weights, left uninitialised
    net.initialize(ctx=mx.cpu())
    assert net(mx.nd.zeros((1, 1, 96, 96))).shape == (1, 10)
    weights = save_gluoncv_googlenet(tmp_path / "googlenet.params")
    loaded = get_model("googlenet", pretrained=weights, ctx=mx.cpu(0))
    assert loaded.head[-1].weight.list_ctx() == [mx.cpu(0)]


def test_googlenet_class_builds_the_d2l_net_under_its_name(tmp_path):
    """GoogLeNet() is the d2l net: its exports load into get_model('googlenet_d2l')."""
    from gluon_googlenet.weights.export import export_model, load_exported_params
    net = GoogLeNet()
    net.initialize(mx.init.Xavier())
    assert net.model_name == "googlenet_d2l" and net.prefix == "googlenet_d2l_"
    _, params = export_model(net, str(tmp_path / "d2l"), (1, 1, 96, 96))
    fresh = get_model("googlenet_d2l")
    load_exported_params(fresh, params)
    x = mx.nd.random.uniform(shape=(1, 1, 96, 96))
    assert (fresh(x) - net(x)).abs().max().asscalar() == 0


def test_list_models_takes_a_pattern_as_timm():
    assert list_models("inception_v*") == ["inception_v3", "inception_v4"]
    assert list_models("*resnet*") == ["inception_resnet_v1", "inception_resnet_v2", "mnist_resnet"]
    assert list_models() == gluon_googlenet.list_models("*")


@pytest.mark.parametrize("name", list_models())
def test_timm_helpers_feature_info_classifier_and_head_width(name):
    net = get_model(name)
    info = net.feature_info
    assert info.channels() == [i.num_chs for i in info] and info.reduction(-1) == info[-1].reduction
    assert info.module_name(0) == info[0].module
    assert net.get_classifier() is net.head[-1] and net.get_classifier()._units == net.num_classes
    net.initialize(mx.init.Xavier())
    side = net.fixed_size or max(net.min_size, 32)
    features = net.forward_features(mx.nd.zeros((1, net.in_channels, side, side)))
    assert net.forward_head(features, pre_logits=True).shape == (1, net.head_hidden_size)


def test_head_hidden_size_is_the_flattened_map_where_there_is_no_pooling():
    net = get_model("mnist_inception")
    assert (net.num_features, net.head_hidden_size) == (88, 1408)  # 88 channels x 4 x 4, what the Dense reads
    net.reset_classifier(0)
    net.initialize()
    assert net(mx.nd.zeros((2, 1, 28, 28))).shape == (2, net.head_hidden_size)


def test_list_pretrained_names_each_file_with_its_input_and_preprocessing():
    rows = list_pretrained()
    pairs = {(r.model, r.source, r.tag) for r in rows}
    assert ("inception_v3", "timm", "gluon_in1k") in pairs and ("googlenet", "torchvision", None) in pairs
    gluon = next(r for r in rows if r.tag == "gluon_in1k")
    assert gluon.mean == (0.485, 0.456, 0.406) and gluon.input_size == (3, 299, 299)
    assert all(r.tag is None for r in rows if r.source != "timm")
    assert {r.model for r in list_pretrained("googlenet")} == {"googlenet"}
