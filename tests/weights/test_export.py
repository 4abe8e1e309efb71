"""Export: MXNet symbol/params reloaded by plain MXNet, ONNX graphs evaluated, bad targets refused."""
import os
import subprocess
import sys
import textwrap

from gluon_googlenet import cli, get_model, get_spec, list_models
from gluon_googlenet.base import numpy_aliases
from gluon_googlenet.base.errors import CheckpointError, OutputDirError
from gluon_googlenet.weights.export import export_model, export_onnx, import_model, load_exported_params

import mxnet as mx
import numpy as np
import pytest
from conftest import SAVED

onnx = pytest.importorskip("onnx")


def _aux_params(net):
    """Training-only aux-head parameters: not in the exported graph."""
    return {k for k in net.collect_params().keys() if "_aux" in k}


PLAIN_MXNET_LOADER = textwrap.dedent("""
    import sys, numpy as np, mxnet as mx
    prefix, epoch, x_file, out_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    net = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"],
                                       "%s-%04d.params" % (prefix, epoch))
    np.save(out_file, net(mx.nd.array(np.load(x_file))).asnumpy())
    assert not any(m.startswith("gluon_googlenet") for m in sys.modules), "package was imported"
""")


@pytest.mark.slow
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
    assert dims[0].dim_param == "batch"
    assert [d.dim_value for d in dims[1:]] == [get_spec(name).input_size[0], side, side]


@pytest.mark.slow
# onnx's reference evaluator runs convolutions in Python: the smallest sides that keep every
# layer's maps larger than 1x1 where they can (googlenet_d2l at 8: 2x2 into b3, 1x1 from b4).
@pytest.mark.parametrize("name, side", [("googlenet_d2l", 8), ("mnist_inception", 28), ("mnist_resnet", 28)])
def test_onnx_outputs_match_mxnet(name, side, tmp_path):
    from onnx.reference import ReferenceEvaluator
    net = get_model(name)
    net.initialize(mx.init.Xavier(magnitude=2.5))
    x = np.random.RandomState(0).uniform(size=(2, 1, side, side)).astype(np.float32)
    live = net(mx.nd.array(x)).asnumpy()
    model = onnx.load(export_onnx(net, str(tmp_path / "m.onnx"), (1,) + x.shape[1:]))  # exported at batch 1
    ran = ReferenceEvaluator(model).run(None, {"data": x})[0]  # run at batch 2
    assert ran.shape == live.shape
    np.testing.assert_allclose(ran, live, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_export_loads_in_plain_mxnet_process(name, tmp_path):
    spec = get_spec(name)
    net = get_model(name)
    net.initialize(mx.init.Xavier(magnitude=2.5))
    # the smallest input the net takes (the same graph and weights as at its default size)
    side = spec.input_size[1] if net.fixed_size else spec.min_size
    shape = (2, spec.input_size[0], side, side)
    x = np.random.RandomState(0).uniform(size=shape).astype(np.float32)
    live = net(mx.nd.array(x)).asnumpy()
    symbol_file, params_file = export_model(net, str(tmp_path / name), (1,) + shape[1:], epoch=3)
    assert os.path.basename(params_file) == f"{name}-0003.params"
    np.save(tmp_path / "x.npy", x)
    script = tmp_path / "load.py"
    missing = numpy_aliases.ALIASES_MISSING  # numpy>=1.24: the lines usage_lines prints go first
    script.write_text("\n".join(numpy_aliases.standalone_lines(missing)) + PLAIN_MXNET_LOADER if missing
                      else PLAIN_MXNET_LOADER)
    env = dict(os.environ, PYTHONPATH="")  # the child must not see this package
    subprocess.run([sys.executable, str(script), str(tmp_path / name), "3", str(tmp_path / "x.npy"),
                    str(tmp_path / "out.npy")], check=True, cwd=str(tmp_path), env=env,
                   capture_output=True)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), live, rtol=1e-4, atol=1e-5)

    fresh = get_model(name)
    fresh.initialize()
    load_exported_params(fresh, params_file)
    np.testing.assert_allclose(fresh(mx.nd.array(x)).asnumpy(), live, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(import_model(str(tmp_path / name), 3)(mx.nd.array(x)).asnumpy(),
                               live, rtol=1e-4, atol=1e-5)


def test_exported_params_of_another_class_count_are_refused(tmp_path):
    net = get_model("googlenet_d2l")
    net.initialize()
    _, params_file = export_model(net, str(tmp_path / "m"), (1, 1, 32, 32))
    other = get_model("googlenet_d2l", num_classes=5)
    other.initialize()
    with pytest.raises(CheckpointError, match="does not fit"):
        load_exported_params(other, params_file)


def test_export_to_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    net = get_model("googlenet_d2l")
    net.initialize()
    with pytest.raises(OutputDirError, match="cannot write to output folder .*file/sub: Not a directory"):
        export_model(net, str(blocker / "sub" / "m"), (1, 1, 32, 32))


def test_a_saved_export_reloads_and_computes_the_same():
    prefix = SAVED
    rows = np.load(prefix + "-io.npy")
    x, logits = mx.nd.array(rows[:, :784].reshape(-1, 1, 28, 28)), rows[:, 784:]
    scale = np.abs(logits).max()
    assert np.abs(import_model(prefix)(x).asnumpy() - logits).max() <= 1e-5 * scale
    fresh = get_model("mnist_resnet")
    fresh.initialize()
    load_exported_params(fresh, prefix + "-0000.params")
    assert np.abs(fresh(x).asnumpy() - logits).max() <= 1e-5 * scale


@pytest.mark.slow
def test_a_runs_export_says_what_it_takes_and_plain_mxnet_predicts_as_the_package(small_run, fashion_dir):
    """The run exports its best checkpoint's weights; with only what MODEL-best-meta.json says (files,
    input, value range, normalisation) plain MXNet gives the package's predictions on test images."""
    import glob
    import json

    from gluon_googlenet.training.inference import evaluate_checkpoint
    meta_file, = glob.glob(str(small_run / "*-meta.json"))
    with open(meta_file, encoding="utf-8") as handle:
        meta = json.load(handle)
    with open(small_run / "history.json", encoding="utf-8") as handle:
        best = max(json.load(handle), key=lambda epoch: epoch["test_acc"])
    assert os.path.basename(meta_file) == "googlenet_d2l-best-meta.json"
    assert meta["weights"] == f"best.ckpt of this run: epoch {best['epoch']}"
    assert meta["files"] == ["googlenet_d2l-best-symbol.json", f"googlenet_d2l-best-{best['epoch']:04d}.params"]
    assert meta["model"] == "googlenet_d2l" and len(meta["class_names"]) == 10
    assert meta["input"]["shape"] == [1, 1, 32, 32] and meta["input"]["channels"] == "grey"
    assert meta["normalization"] == {"mean": None, "std": None, "in_graph": False,  # d2l: [0, 1] as it is
                                     "apply": "nothing: the net takes the [0, 1] values as they are"}

    evaluation = evaluate_checkpoint(str(small_run / "best.ckpt"), data_dir=fashion_dir)
    images = evaluation["images"][:16]  # uint8, as read from the data set
    low, high = meta["input"]["value_range"]
    x = images.astype(np.float32) / 255 * (high - low) + low
    norm = meta["normalization"]
    if norm["mean"] is not None and not norm["in_graph"]:
        x = (x - np.array(norm["mean"]).reshape(1, -1, 1, 1)) / np.array(norm["std"]).reshape(1, -1, 1, 1)
    symbol_file, params_file = (str(small_run / name) for name in meta["files"])
    plain = mx.gluon.SymbolBlock.imports(symbol_file, [meta["input"]["name"]], params_file)
    predicted = plain(mx.nd.array(x)).argmax(axis=1).asnumpy().astype(int)
    assert predicted.tolist() == list(evaluation["predictions"][:16])
    assert import_model(symbol_file[:-len("-symbol.json")], best["epoch"]).meta == meta
    # The accuracy its meta file reports is the exported graph's, as plain MXNet scores it on the run's test set.
    every = plain(mx.nd.array(evaluation["images"].astype(np.float32) / 255)).argmax(axis=1).asnumpy()
    accuracy = float((every.astype(int) == evaluation["labels"]).mean())
    assert meta["test_acc"]["graph"] == round(accuracy, 6) and meta["test_acc"]["images"] == len(every) == 200
    assert meta["test_time_augmentation"] is None and abs(accuracy - best["test_acc"]) <= 1 / 200


@pytest.mark.slow
def test_a_flip_tested_run_exports_the_model_it_reported(fashion_dir, tmp_path, capsys):
    """A run tested with --tta flip exports a graph that averages each image with its mirror: plain
    MXNet, given nothing but the files, scores the run's reported accuracy, and the meta file says so;
    `export --checkpoint` without --tta names the graph's own figure and the flip figure apart."""
    import json

    from gluon_googlenet import TrainConfig, train
    from gluon_googlenet.training.data.run_data import load_dataset
    out = tmp_path / "run"
    result = train(TrainConfig(model="googlenet_d2l_bn", data_dir=fashion_dir, resize=0, epochs=1, limit_train=512,
                               limit_test=300, batch_size=64, optimizer="momentum", lr=0.05, tta="flip",
                               out=str(out), progress=False, verbose=0))
    best = max(result.history, key=lambda record: record["test_acc"])
    with open(out / "googlenet_d2l_bn-best-meta.json", encoding="utf-8") as handle:
        meta = json.load(handle)
    assert meta["test_time_augmentation"]["name"] == "flip"
    images, labels = load_dataset("fashion-mnist", "test", fashion_dir, None, 300)
    plain = mx.gluon.SymbolBlock.imports(str(out / meta["files"][0]), ["data"], str(out / meta["files"][1]))
    predicted = plain(mx.nd.array(images.astype(np.float32) / 255)).argmax(axis=1).asnumpy().astype(int)
    accuracy = float((predicted == labels).mean())
    assert meta["test_acc"]["graph"] == round(accuracy, 6)
    assert abs(accuracy - best["test_acc"]) <= 1 / 300
    net = mx.gluon.SymbolBlock.imports(str(out / meta["files"][0]), ["data"], str(out / meta["files"][1]))
    x = mx.nd.array(images[:4].astype(np.float32) / 255)
    np.testing.assert_allclose(net(x).asnumpy(), net(x.flip(axis=3)).asnumpy(), rtol=1e-5, atol=1e-5)  # mirror-blind

    prefix = str(tmp_path / "plain" / "m")
    assert cli.main(["export", "--checkpoint", str(out / "best.ckpt"), "--out", prefix, "--data-dir", fashion_dir]) == 0
    line = next(li for li in capsys.readouterr().out.splitlines() if li.startswith("test acc of the exported graph"))
    with open(prefix + "-meta.json", encoding="utf-8") as handle:
        plain_meta = json.load(handle)
    assert plain_meta["test_time_augmentation"] is None
    assert plain_meta["test_acc"]["with_tta"] == {"flip": round(best["test_acc"], 6)}
    assert line == (f"test acc of the exported graph: {plain_meta['test_acc']['graph']:.4f} (300 images); the "
                    f"checkpoint with --tta flip: {best['test_acc']:.4f} (not in this graph: export with --tta flip)")
