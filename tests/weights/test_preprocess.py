"""Preprocessing and names that travel with the weights: each source's config, the transforms built from
it, the normalisation built into exported graphs (equal to the package's own pipeline), ImageNet
class names and predict's top 5."""

from gluon_googlenet import cli, get_model
from gluon_googlenet.base.errors import ConfigError
from gluon_googlenet.weights.export import export_model, export_onnx
from gluon_googlenet.weights.preprocess import eval_transform, train_transform
from gluon_googlenet.weights.pretrained import PUBLISHED, pretrained_cfg

import mxnet as mx
import numpy as np
import pytest
from conftest import SAVED, save_gluoncv_googlenet

IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
# timm's own pretrained_cfg for its default tags (inception_v3.tv_in1k, *.tf_in1k), and
# torchvision's Weights.transforms() (resize 256 -> crop 224, 342 -> 299): read in the PyTorch venv
EXPECTED = {
    ("googlenet", "gluoncv"): (224, 0.875, "bilinear", IMAGENET),
    ("googlenet", "torchvision"): (224, 0.875, "bilinear", IMAGENET),
    ("inception_v3", "gluoncv"): (299, 0.875, "bilinear", IMAGENET),
    ("inception_v3", "torchvision"): (299, 0.875, "bilinear", IMAGENET),
    ("inception_v3", "timm"): (299, 0.875, "bicubic", ((0.5,) * 3, (0.5,) * 3)),
    ("inception_v4", "timm"): (299, 0.875, "bicubic", ((0.5,) * 3, (0.5,) * 3)),
    ("inception_resnet_v2", "timm"): (299, 0.8975, "bicubic", ((0.5,) * 3, (0.5,) * 3)),
}
SUFFIX = {"gluoncv": ".params", "torchvision": ".pth", "timm": ".safetensors"}
TIMM_DEFAULT_TAG = {"inception_v3": "tv_in1k", "inception_v4": "tf_in1k", "inception_resnet_v2": "tf_in1k"}


def _file(model, source):
    """A weights file name as its publisher gives it (timm's with its tag)."""
    return f"{model}.{TIMM_DEFAULT_TAG[model]}.safetensors" if source == "timm" else f"weights{SUFFIX[source]}"


def test_each_published_pair_carries_its_preprocessing():
    assert set(PUBLISHED) == set(EXPECTED)
    for (model, source), (side, crop, interpolation, (mean, std)) in EXPECTED.items():
        cfg = pretrained_cfg(model, _file(model, source))
        assert cfg == (source, (3, side, side), mean, std, interpolation, crop, "imagenet-1k"), (model, source)
    grey = pretrained_cfg("googlenet", "w.params", in_channels=1)
    assert grey.input_size == (1, 224, 224) and grey.mean == pytest.approx((sum(IMAGENET[0]) / 3,))


@pytest.fixture(scope="module")
def gluoncv_weights(tmp_path_factory):
    return save_gluoncv_googlenet(tmp_path_factory.mktemp("w") / "googlenet.params")


def test_a_loaded_net_knows_its_preprocessing(gluoncv_weights):
    assert get_model("googlenet", pretrained=gluoncv_weights).pretrained_cfg == pretrained_cfg("googlenet", "x.params")
    assert get_model("googlenet", pretrained=gluoncv_weights, in_channels=1).pretrained_cfg.input_size == (1, 224, 224)
    assert get_model("googlenet", pretrained=gluoncv_weights, features_only=True).pretrained_cfg.source == "gluoncv"


def test_transforms_resize_crop_and_normalise_as_the_config_says():
    cfg = pretrained_cfg("inception_resnet_v2", _file("inception_resnet_v2", "timm"))
    image = np.full((400, 600, 3), 200, dtype=np.uint8)
    image[:, :100] = 0  # only the left sixth is dark: the centre crop of a 299/0.8975 resize leaves it out
    out = eval_transform(cfg)(mx.nd.array(image, dtype="uint8")).asnumpy()
    assert out.shape == (3, 299, 299)
    np.testing.assert_allclose(out, (200 / 255 - 0.5) / 0.5, rtol=1e-5)
    train = train_transform(cfg)(mx.nd.array(image, dtype="uint8")).asnumpy()
    assert train.shape == (3, 299, 299) and train.min() >= -1 - 1e-6 and train.max() <= 1 + 1e-6


def test_an_export_with_its_preprocessing_takes_rgb_in_0_1(gluoncv_weights, tmp_path):
    net = get_model("googlenet", pretrained=gluoncv_weights)
    x = mx.nd.random.uniform(shape=(2, 3, 224, 224))
    mean, std = (mx.nd.array(v).reshape((1, 3, 1, 1)) for v in IMAGENET)
    want = net((x - mean) / std).asnumpy()
    symbol_file, params_file = export_model(net, str(tmp_path / "g"), (1, 3, 224, 224), preprocess=True)
    got = mx.gluon.SymbolBlock.imports(symbol_file, ["data"], params_file)(x).asnumpy()
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    with pytest.raises(ConfigError, match="googlenet carries no pretrained_cfg"):
        export_model(get_model("googlenet"), str(tmp_path / "fresh"), (1, 3, 224, 224), preprocess=True)


@pytest.mark.slow
def test_an_onnx_export_with_its_preprocessing_takes_rgb_in_0_1(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator
    net = get_model("mnist_resnet")
    net.initialize(mx.init.Xavier(magnitude=2.5))
    mean, std = (0.3,), (0.2,)
    x = np.random.RandomState(0).uniform(size=(2, 1, 28, 28)).astype(np.float32)
    want = net((mx.nd.array(x) - 0.3) / 0.2).asnumpy()
    model = onnx.load(export_onnx(net, str(tmp_path / "m.onnx"), (1, 1, 28, 28), preprocess=(mean, std)))
    got = ReferenceEvaluator(model).run(None, {"data": x})[0]
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()


def test_export_preprocess_of_a_run_without_normalisation_is_one_line(tmp_path, capsys):
    ckpt = SAVED + ".ckpt"
    assert cli.main(["export", "--checkpoint", ckpt, "--out", str(tmp_path / "m"), "--preprocess"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--preprocess: this net takes [0, 1] inputs as they are" in err[0]


def test_nets_carry_class_names_where_they_are_known(gluoncv_weights):
    from gluon_googlenet.training.data.datasets import FASHION_MNIST
    from gluon_googlenet.training.run.checkpoint import load_model
    from gluon_googlenet.weights.pretrained import imagenet_classes
    names = imagenet_classes()
    assert len(names) == len(set(names)) == 1000 and names[:2] == ("tench", "goldfish")
    assert get_model("googlenet", pretrained=gluoncv_weights).class_names == names
    assert get_model("googlenet", pretrained=gluoncv_weights, num_classes=5).class_names is None
    assert get_model("googlenet").class_names is None and get_model("googlenet").num_classes == 1000
    net, _ = load_model(SAVED + ".ckpt")
    assert net.class_names == FASHION_MNIST.class_names  # a data set keeps its own names


def test_predict_with_published_weights_prints_the_top_5_names(gluoncv_weights, tmp_path, capsys):
    from gluon_googlenet.weights.pretrained import imagenet_classes

    from PIL import Image
    path = str(tmp_path / "photo.png")
    Image.fromarray((np.random.RandomState(0).rand(180, 240, 3) * 255).astype(np.uint8)).save(path)
    assert cli.main(["predict", "--pretrained", gluoncv_weights, "--model", "googlenet", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{path}:" and len(lines) == 6
    net = get_model("googlenet", pretrained=gluoncv_weights)
    image = eval_transform(net.pretrained_cfg)(mx.image.imread(path)).expand_dims(0)
    probs = mx.nd.softmax(net(image))[0].asnumpy()
    want = [f"  {imagenet_classes()[i]} {probs[i]:.3f}" for i in probs.argsort()[::-1][:5]]
    assert lines[1:] == want
    assert cli.main(["predict", "--pretrained", gluoncv_weights, str(tmp_path / "missing.png")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot read image" in err[0] and "missing.png" in err[0]
