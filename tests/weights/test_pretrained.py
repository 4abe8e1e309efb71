"""Published weights: each source's own net, with random weights and random BN statistics,
saved in its native format, loaded into ours, computes the same outputs."""
import json
import os
import subprocess

from gluon_googlenet import get_model
from gluon_googlenet.base.errors import CheckpointError, ConfigError
from gluon_googlenet.weights.pretrained import gluoncv_file
from gluon_googlenet.weights.torchfile import read_torch_state_dict

import mxnet as mx
import numpy as np
import pytest
from conftest import save_gluoncv_googlenet

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _randomize_gluon(net):
    """Xavier-scale weights (set at initialisation) and random BN statistics and affine terms."""
    rng = np.random.RandomState(0)
    for name, param in net.collect_params().items():
        values = {"running_mean": rng.normal(0, 0.2, param.shape), "running_var": rng.uniform(0.5, 1.5, param.shape),
                  "gamma": rng.uniform(0.5, 1.5, param.shape), "beta": rng.normal(0, 0.2, param.shape)}
        for suffix, value in values.items():
            if name.endswith(suffix):
                param.set_data(mx.nd.array(value))


def _close(out, ref, tolerance=1e-5):
    scale = np.abs(ref).max()
    diff = np.abs(out - ref).max()
    assert diff <= tolerance * scale, f"max |diff| {diff:.3g} on outputs of scale {scale:.3g}"
    return diff / scale


GLUONCV_PAIRS = [("googlenet", "googlenet", 224), ("inception_v3", "inceptionv3", 299)]


REFERENCES = [("torchvision", "googlenet", ".pth"), ("torchvision", "inception_v3", ".pth"),
              ("timm", "inception_v3", ".safetensors"), ("timm", "inception_v4", ".safetensors"),
              ("timm", "inception_resnet_v2", ".safetensors")]


def gluoncv_outputs(folder, ours, theirs, side):
    """(GluonCV net's output, ours loaded from its .params) on one input, inference mode.
    Also used by benchmarks/pretrained_agreement.py."""
    from gluoncv.model_zoo import get_model as gluoncv_model
    mx.random.seed(0)
    source = gluoncv_model(theirs, pretrained=False)
    source.initialize(mx.init.Xavier())
    x = mx.nd.random.uniform(shape=(2, 3, side, side))
    source(x)
    _randomize_gluon(source)
    path = os.path.join(str(folder), f"{theirs}-0000.params")
    source.save_parameters(path)
    return source(x).asnumpy(), get_model(ours, pretrained=path)(x).asnumpy()


def _reference(torch_python, folder, source, model, *flags):
    subprocess.run([torch_python, os.path.join(TESTS, "reference", "torch_models.py"), source, model,
                    str(folder), *flags], check=True, capture_output=True, timeout=600)
    return np.load(os.path.join(str(folder), "x.npy")), np.load(os.path.join(str(folder), "out.npy"))


def torch_outputs(torch_python, folder, source, model, suffix):
    """(the torchvision/timm net's output, ours loaded from its saved weights) on one input,
    inference mode. Also used by benchmarks/pretrained_agreement.py."""
    x, ref = _reference(torch_python, folder, source, model)
    net = get_model(model, pretrained=os.path.join(str(folder), f"weights{suffix}"))
    return ref[0], net(mx.nd.array(x)).asnumpy()


@pytest.mark.parametrize("ours, theirs, side", GLUONCV_PAIRS)
def test_gluoncv_params_load_and_compute_the_same(tmp_path, ours, theirs, side):
    reference, loaded = gluoncv_outputs(tmp_path, ours, theirs, side)
    _close(loaded, reference)


@pytest.mark.slow
@pytest.mark.parametrize("source, model, suffix", REFERENCES)
def test_torch_weights_load_without_torch_and_compute_the_same(torch_python, tmp_path, source, model, suffix):
    reference, loaded = torch_outputs(torch_python, tmp_path, source, model, suffix)
    _close(loaded, reference)
    if suffix == ".pth":  # the same weights in PyTorch's legacy format (torchvision's published files)
        legacy = read_torch_state_dict(str(tmp_path / "weights_legacy.pth"))
        current = read_torch_state_dict(str(tmp_path / "weights.pth"))
        assert legacy.keys() == current.keys()
        assert all(np.array_equal(legacy[k], current[k]) for k in current)


@pytest.mark.slow
def test_torchvision_googlenet_aux_heads_in_training_mode(torch_python, tmp_path):
    """Training mode, dropout off: batch-statistics BN and the aux heads' adaptive pooling
    (measured: 1.0e-5 to 1.3e-5 of the output scale; batch statistics of 2 images)."""
    x, ref = _reference(torch_python, tmp_path, "torchvision", "googlenet", "--train-aux")
    net = get_model("googlenet", pretrained=str(tmp_path / "weights.pth"), aux_logits=True,
                    dropout=0.0, dropout_aux=0.0)
    with mx.autograd.record(train_mode=True):
        out = net(mx.nd.array(x))
    assert len(out.aux) == 2 and len(ref) == 3
    for ours, theirs in zip([out.main, *out.aux], ref):
        _close(ours.asnumpy(), theirs, tolerance=1e-4)


def test_new_classes_keep_everything_but_the_classifier(tmp_path):
    from gluoncv.model_zoo import get_model as gluoncv_model
    source = gluoncv_model("googlenet", pretrained=False)
    source.initialize(mx.init.Xavier())
    path = str(tmp_path / "googlenet.params")
    source.save_parameters(path)
    full = get_model("googlenet", pretrained=path)
    net = get_model("googlenet", pretrained=path, num_classes=4)
    assert net(mx.nd.zeros((1, 3, 224, 224))).shape == (1, 4)
    compared = 0
    for (name, new), old in zip(net.collect_params().items(), full.collect_params().values()):
        if "_head_" in name:
            assert new.shape[0] == 4 and old.shape[0] == 1000
        else:
            np.testing.assert_array_equal(new.data().asnumpy(), old.data().asnumpy(), err_msg=name)
            compared += 1
    assert compared == len(list(net.collect_params().keys())) - 2


@pytest.mark.parametrize("saved_with", ["save_parameters", "collect_params().save"])
def test_both_mxnet_namings_of_a_gluoncv_file(tmp_path, saved_with):
    """GluonCV's googlenet saved both ways MXNet saves: structural names load; MXNet's older prefixed
    names (googlenet0_conv0_weight, ...) are refused in one line naming the naming found and the
    one expected, not as a missing tensor."""
    gluoncv = pytest.importorskip("gluoncv")
    source = gluoncv.model_zoo.get_model("googlenet", pretrained=False)
    source.initialize(mx.init.Xavier())
    source(mx.nd.zeros((1, 3, 224, 224)))
    path = str(tmp_path / "googlenet.params")
    if saved_with == "save_parameters":
        source.save_parameters(path)
        net = get_model("googlenet", pretrained=path)
        x = mx.nd.random.uniform(shape=(1, 3, 224, 224))  # GluonCV's net pools 7x7 at the end: 224 only
        np.testing.assert_allclose(net(x).asnumpy(), source(x).asnumpy(), rtol=1e-4, atol=1e-5)
        return
    source.collect_params().save(path)
    with pytest.raises(CheckpointError) as err:
        get_model("googlenet", pretrained=path)
    message = str(err.value)
    assert message.splitlines() == [message]
    assert message.startswith(f"{path} holds MXNet's prefixed parameter names ({source.prefix}")
    assert "read by structural names (conv1.0.weight" in message and "save_parameters()" in message


def test_a_misfit_tensor_is_named_in_one_line(tmp_path):
    path = save_gluoncv_googlenet(tmp_path / "googlenet.params")
    arrays = mx.nd.load(path)
    arrays["inception4a.1.0.0.weight"] = mx.nd.zeros((96, 512, 1, 1))  # 4a's p2 reduce: 96x480x1x1
    mx.nd.save(path, arrays)
    with pytest.raises(CheckpointError) as err:
        get_model("googlenet", pretrained=path)
    assert str(err.value) == ("googlenet: b4.0.p2.0.0.weight expects 96x480x1x1, googlenet.params has "
                              "inception4a.1.0.0.weight 96x512x1x1")


def test_a_renamed_tensor_is_named_on_both_sides_in_one_line(tmp_path):
    """Weights are matched by name: one renamed tensor is the error, not a shape clash elsewhere."""
    path = save_gluoncv_googlenet(tmp_path / "googlenet.params")
    arrays = mx.nd.load(path)
    arrays["inception4a.p2.0.weight"] = arrays.pop("inception4a.1.0.0.weight")
    mx.nd.save(path, arrays)
    with pytest.raises(CheckpointError) as err:
        get_model("googlenet", pretrained=path)
    assert str(err.value) == ("googlenet: b4.0.p2.0.0.weight takes inception4a.1.0.0.weight of gluoncv files, but "
                              "googlenet.params has no inception4a.1.0.0.weight (it has inception4a.p2.0.weight, "
                              "which no googlenet parameter takes)")
    arrays["inception4a.1.0.0.weight"] = arrays["inception4a.p2.0.weight"]  # the right one and a stray
    mx.nd.save(path, arrays)
    with pytest.raises(CheckpointError, match=r"^googlenet.params has inception4a.p2.0.weight, which no googlenet "
                                              r"parameter takes \(another model, or another variant of it\?\)$"):
        get_model("googlenet", pretrained=path)


def _stored_table(model, source):
    from gluon_googlenet.weights.pretrained import NAMES_DIR
    with open(os.path.join(NAMES_DIR, f"{model}-{source}.json"), encoding="utf-8") as handle:
        return json.load(handle)


def _make_weight_names():
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_weight_names",
                                                  os.path.join(TESTS, "..", "scripts", "make_weight_names.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("model", ["googlenet", "inception_v3"])
def test_the_gluoncv_name_tables_are_what_the_script_writes(model):
    assert _make_weight_names().table(model, "gluoncv", None) == _stored_table(model, "gluoncv")


@pytest.mark.slow
@pytest.mark.parametrize("model, source", [(m, s) for s, m, _ in REFERENCES])
def test_the_torch_name_tables_are_what_the_script_writes(torch_python, model, source):
    """The tables are data made from the sources' own modules: made again, they are the same."""
    assert _make_weight_names().table(model, source, torch_python) == _stored_table(model, source)


def test_weights_of_another_model_are_refused(tmp_path):
    from gluoncv.model_zoo import get_model as gluoncv_model
    source = gluoncv_model("googlenet", pretrained=False)
    source.initialize()
    path = str(tmp_path / "googlenet.params")
    source.save_parameters(path)
    with pytest.raises(CheckpointError, match=r"^inception_v3: stem.0.0.weight takes features.0.0.weight of "
                                              r"gluoncv files, but googlenet.params has no features.0.0.weight "
                                              r"\(it has conv1.0.weight, which no inception_v3 parameter takes\)$"):
        get_model("inception_v3", pretrained=path)
    with pytest.raises(ConfigError,
                       match="inception_v4 has no gluoncv counterpart to load weights from; it loads timm files"):
        get_model("inception_v4", pretrained=path)


def test_pretrained_true_offline_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_HOME", str(tmp_path))
    monkeypatch.setenv("MXNET_GLUON_REPO", "http://127.0.0.1:9/")  # GluonCV's store: nothing listens
    with pytest.raises(CheckpointError, match=r"GluonCV's googlenet weights are not in .*models and could not be "
                                              r"downloaded \(.*\): fetch https://.*googlenet-c7c89366.zip and "
                                              r"unzip googlenet-c7c89366.params"):
        gluoncv_file("googlenet")
    monkeypatch.setenv("GLUON_GOOGLENET_NO_DOWNLOAD", "1")
    with pytest.raises(CheckpointError, match=r"GluonCV's googlenet weights are not in .*models and downloads are "
                                              r"off: fetch https://"):
        gluoncv_file("googlenet")
    assert not os.path.exists(tmp_path / "models" / "googlenet-c7c89366.params")
    with pytest.raises(ConfigError, match="GluonCV publishes no weights for inception_v4"):
        get_model("inception_v4", pretrained=True)


@pytest.mark.slow
def test_finetuning_keeps_frozen_stages_and_learns_a_new_head(tmp_path):
    """train --pretrained FILE --freeze b1,b2,b4 on a two-class image folder. b4 sits behind
    the trained b3: its BN layers see inputs that need gradients, and must still keep their
    running statistics."""
    from gluon_googlenet import TrainConfig, train
    from gluon_googlenet.training.run.checkpoint import load_model, read_checkpoint

    from conftest import make_image_folder
    from gluoncv.model_zoo import get_model as gluoncv_model
    source = gluoncv_model("googlenet", pretrained=False)
    source.initialize(mx.init.Xavier())
    weights = str(tmp_path / "googlenet.params")
    source.save_parameters(weights)
    config = TrainConfig(model="googlenet", image_folder=str(make_image_folder(tmp_path / "imgs", per_class=20)),
                         pretrained=weights, freeze="b1,b2,b4", resize=64, epochs=3, batch_size=8,
                         optimizer="adam", lr=1e-3, out=str(tmp_path / "run"), progress=False)
    history = train(config).history
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    tuned, meta = load_model(str(tmp_path / "run" / "last.ckpt"))
    assert meta["mean"] == [0.485, 0.456, 0.406] and meta["model_kwargs"]["k3"] == 3
    mx.random.seed(config.seed)
    start = get_model("googlenet", pretrained=weights, num_classes=2, input_size=64)
    frozen = moved = 0
    for (name, after), before in zip(tuned.collect_params().items(), start.collect_params().values()):
        same = np.array_equal(after.data().asnumpy(), before.data().asnumpy())
        if name.startswith(("googlenet_b1_", "googlenet_b2_", "googlenet_b4_")):
            assert same, f"frozen {name} changed"  # weights and BN running statistics
            frozen += 1
        elif name.startswith(("googlenet_head_", "googlenet_b3_")):
            moved += not same
    # b1 one conv+BN (5 tensors), b2 two (10), b4 five Inception blocks of six (150)
    assert frozen == 165
    assert moved > 0.9 * len([n for n in tuned.collect_params().keys()
                              if n.startswith(("googlenet_head_", "googlenet_b3_"))])
    assert read_checkpoint(str(tmp_path / "run" / "last.ckpt"))[2] is not None


def test_train_command_takes_pretrained_and_freeze(tmp_path, capsys):
    from gluon_googlenet import cli
    from gluon_googlenet.training.run.checkpoint import read_checkpoint

    from conftest import make_idx_dir, make_image_folder
    from gluoncv.model_zoo import get_model as gluoncv_model
    source = gluoncv_model("googlenet", pretrained=False)
    source.initialize(mx.init.Xavier())
    source.save_parameters(str(tmp_path / "googlenet.params"))
    folder = str(make_image_folder(tmp_path / "imgs", per_class=8))
    args = ["train", "--model", "googlenet", "--image-folder", folder, "--resize", "64", "--epochs", "1",
            "--batch-size", "8", "--no-progress", "--out", str(tmp_path / "run")]
    assert cli.main(args + ["--pretrained", str(tmp_path / "googlenet.params"), "--freeze", "b1,b9"]) == 1
    assert "--freeze: googlenet has no stage 'b9'; its stages: b1, b2, b3, b4, b5" in capsys.readouterr().err
    assert cli.main(args + ["--pretrained", str(tmp_path / "googlenet.params"), "--freeze", "b1,b2"]) == 0
    assert "epoch 1, loss" in capsys.readouterr().out
    # Fashion-MNIST-shaped data (1 channel): the first convolution is adapted, the run fine-tunes
    data = make_idx_dir(tmp_path / "idx", n_train=16, n_test=8)
    assert cli.main(["train", "--model", "googlenet", "--data-dir", data, "--no-verify", "--resize", "64",
                     "--epochs", "1", "--batch-size", "8", "--no-progress", "--out", str(tmp_path / "fm"),
                     "--pretrained", str(tmp_path / "googlenet.params")]) == 0
    meta = read_checkpoint(str(tmp_path / "fm" / "last.ckpt"))[0]
    kwargs = meta["model_kwargs"]
    assert (kwargs["in_channels"], kwargs["num_classes"], len(meta["mean"])) == (1, 10, 1)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["inception_v3", "inception_v4", "inception_resnet_v2"])
def test_feature_levels_are_timms_features_only(torch_python, tmp_path, model):
    """Levels, channels and reductions of timm's features_only=True, and the same tensors given
    the same weights (within 1e-5 of each level's scale)."""
    x, _ = _reference(torch_python, tmp_path, "timm", model)
    theirs = json.loads((tmp_path / "feature_info.json").read_text())
    pyramid = get_model(model, pretrained=str(tmp_path / "weights.safetensors"), features_only=True)
    assert [(i.num_chs, i.reduction) for i in pyramid.feature_info] == [(i["num_chs"], i["reduction"]) for i in theirs]
    ref = np.load(tmp_path / "features.npz")
    ours = pyramid(mx.nd.array(x))
    assert len(ours) == len(ref.files) == 5
    for i, level in enumerate(ours):
        want = ref[f"level{i}"]
        assert level.shape == want.shape
        assert np.abs(level.asnumpy() - want).max() <= 1e-5 * np.abs(want).max(), i


@pytest.mark.parametrize("channels", [1, 2, 4])
def test_published_weights_take_any_input_channels(tmp_path, channels):
    """The first convolution adapted as timm's adapt_input_conv: a grey image through the 1-channel
    net is the same image repeated as RGB through the original; K channels scale by 3/K."""
    from conftest import save_gluoncv_googlenet
    weights = save_gluoncv_googlenet(tmp_path / "googlenet.params")
    rgb = get_model("googlenet", pretrained=weights)
    adapted = get_model("googlenet", pretrained=weights, in_channels=channels)
    x = mx.nd.random.uniform(shape=(2, channels, 224, 224))
    out = adapted(x).asnumpy()
    if channels == 1:
        _close(out, rgb(mx.nd.concat(x, x, x, dim=1)).asnumpy(), 1e-6)
    first = adapted.layers()[0][1].collect_params()
    stem = [p.data().asnumpy() for n, p in first.items() if n.endswith("weight")][0]
    original = [p.data().asnumpy() for n, p in rgb.layers()[0][1].collect_params().items() if n.endswith("weight")][0]
    want = original.sum(axis=1, keepdims=True) if channels == 1 else \
        np.concatenate([original] * 2, axis=1)[:, :channels] * 3 / channels
    np.testing.assert_allclose(stem, want, rtol=1e-6, atol=1e-7)


def test_torchvision_weights_with_other_channels_are_refused_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match="per-channel input transform; for in_channels=1 use GluonCV or timm"):
        from gluon_googlenet.weights.pretrained import get_pretrained
        (tmp_path / "w.pth").write_bytes(b"")
        get_pretrained("googlenet", str(tmp_path / "w.pth"), in_channels=1)


def _images(folder):
    """Three smooth RGB pictures of different sizes (PNG: decoded alike by PIL and MXNet; smooth, so
    OpenCV's and PIL's resampling differ little)."""
    from PIL import Image, ImageDraw
    paths = []
    for i, size in enumerate([(400, 320), (333, 500), (640, 480)]):
        y, x = np.mgrid[0:size[1], 0:size[0]] / max(size)
        rgb = np.stack([80 + 120 * x, 60 + 150 * y * (i + 1) / 3, 200 - 120 * x * y], axis=-1)
        image = Image.fromarray(rgb.astype(np.uint8))
        draw = ImageDraw.Draw(image)
        draw.ellipse([size[0] // 5, size[1] // 4, size[0] // 2, size[1] // 2 + 40 * i], fill=(220, 40 * i, 30))
        draw.rectangle([size[0] // 2, size[1] // 3, size[0] - 20, size[1] - 30], fill=(10, 90, 200 - 50 * i))
        paths.append(str(folder / f"image{i}.png"))
        image.save(paths[-1])
    return paths


@pytest.mark.slow
@pytest.mark.parametrize("tag", ["gluon_in1k", "tf_adv_in1k", "tf_in1k", "tv_in1k"])
def test_every_timm_tag_gets_its_own_preprocessing(torch_python, tmp_path, tag):
    """inception_v3's timm tags differ in mean and std (gluon_in1k: ImageNet's, the others 0.5): the
    top 5 classes through our pipeline equal timm's own (resolve_data_config + create_transform),
    for the tag in the file's name and for timm's config.json beside a file that has none."""
    from gluon_googlenet.weights.preprocess import eval_transform
    images = _images(tmp_path)
    subprocess.run([torch_python, os.path.join(TESTS, "reference", "timm_pipeline.py"), f"inception_v3.{tag}",
                    str(tmp_path), *images], check=True, capture_output=True, timeout=600)
    want, timm_inputs = json.load(open(tmp_path / "top5.json")), np.load(tmp_path / "inputs.npy")
    assert len({tuple(t) for t in want}) == len(images)  # the classes depend on the image
    for weights in (tmp_path / f"inception_v3.{tag}.safetensors", tmp_path / "hub" / "model.safetensors"):
        net = get_model("inception_v3", pretrained=str(weights))
        transform = eval_transform(net.pretrained_cfg)
        inputs = mx.nd.stack(*[transform(mx.image.imread(p)) for p in images])
        # the same resize, crop and normalisation as timm's, to float rounding
        assert np.abs(inputs.asnumpy() - timm_inputs).max() < 1e-4, (weights, net.pretrained_cfg)
        got = [np.argsort(row)[::-1][:5].tolist() for row in net(inputs).asnumpy()]
        assert got == want, (weights, net.pretrained_cfg)
    expected_mean = (0.485, 0.456, 0.406) if tag == "gluon_in1k" else (0.5, 0.5, 0.5)
    assert tuple(net.pretrained_cfg.mean) == pytest.approx(expected_mean)


def test_a_timm_file_of_unknown_preprocessing_is_one_line(tmp_path):
    """No config.json, no tag in the name, no mean=/std=: the loader says so before reading it."""
    path = tmp_path / "weights.safetensors"
    path.write_bytes(b"not read")
    with pytest.raises(ConfigError, match=r"^cannot tell the preprocessing of .*weights.safetensors: no config.json "
                                          r"beside it and no timm tag in its name \(inception_v3.gluon_in1k, "):
        get_model("inception_v3", pretrained=str(path))
