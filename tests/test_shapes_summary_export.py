"""Stage shapes, layer summary and export that plain MXNet loads back."""
import os
import subprocess
import sys
import textwrap

import mxnet as mx
import numpy as np
import pytest

from gluon_googlenet._gluon import is_hybridized
from gluon_googlenet import get_model, list_models
from gluon_googlenet.errors import CheckpointError, OutputDirError
from gluon_googlenet.export import export_model, import_model, load_exported_params
from gluon_googlenet.models import get_spec
from gluon_googlenet.summary import format_summary, layer_summary, stage_shapes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
D2L_SHAPES = [("b1", (1, 64, 24, 24)), ("b2", (1, 192, 12, 12)), ("b3", (1, 480, 6, 6)),
              ("b4", (1, 832, 3, 3)), ("b5", (1, 1024, 1, 1)), ("head", (1, 10))]


def test_d2l_stage_shapes_match_the_book():
    assert stage_shapes(get_model("googlenet_d2l"), (1, 1, 96, 96)) == D2L_SHAPES


def test_stage_shapes_example_script_prints_the_table():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "print_stage_shapes.py")],
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [f"{name} {shape}" for name, shape in D2L_SHAPES]


def test_stage_shapes_example_options():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "print_stage_shapes.py"),
                          "--size", "224", "--channels", "3", "--batch", "2"],
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "b1 (2, 64, 56, 56)"
    assert out.splitlines()[-1] == "head (2, 10)"


def test_layer_summary_rows_and_totals():
    net = get_model("googlenet_d2l")
    summary = layer_summary(net, (1, 1, 96, 96))
    assert summary.trainable_params == summary.total_params == 5_977_530
    rows = {row.name: row for row in summary.rows}
    assert rows["b1.0"].kind == "Conv2D" and rows["b1.0"].output_shape == (1, 64, 48, 48)
    assert rows["b1.0"].params == 64 * 49 + 64
    assert rows["b3.1"].kind == "Inception" and rows["b3.1"].output_shape == (1, 480, 12, 12)
    assert rows["b3.0.p2.1"].output_shape == (1, 128, 12, 12)
    assert sum(r.params for r in summary.rows if r.depth == 0) == 5_977_530
    text = format_summary(summary)
    assert "Total params: 5,977,530" in text and "Inception" in text
    shallow = layer_summary(net, (1, 1, 96, 96), max_depth=0)
    assert [r.name for r in shallow.rows] == ["b1", "b2", "b3", "b4", "b5", "head"]


def test_summary_leaves_a_hybridized_net_hybridized():
    net = get_model("googlenet_d2l")
    net.initialize()
    net.hybridize()
    layer_summary(net, (1, 1, 32, 32))
    assert is_hybridized(net)


PLAIN_MXNET_LOADER = textwrap.dedent("""
    import sys, numpy as np, mxnet as mx
    prefix, epoch, x_file, out_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    net = mx.gluon.SymbolBlock.imports(prefix + "-symbol.json", ["data"],
                                       "%s-%04d.params" % (prefix, epoch))
    np.save(out_file, net(mx.nd.array(np.load(x_file))).asnumpy())
    assert not any(m.startswith("gluon_googlenet") for m in sys.modules), "package was imported"
""")


@pytest.mark.parametrize("name", list_models())
def test_export_loads_in_plain_mxnet_process(name, tmp_path):
    spec = get_spec(name)
    net = get_model(name)
    net.initialize(mx.init.Xavier(magnitude=2.5))
    shape = (2,) + spec.input_size
    x = np.random.RandomState(0).uniform(size=shape).astype(np.float32)
    live = net(mx.nd.array(x)).asnumpy()
    symbol_file, params_file = export_model(net, str(tmp_path / name), (1,) + spec.input_size, epoch=3)
    assert os.path.basename(params_file) == f"{name}-0003.params"
    np.save(tmp_path / "x.npy", x)
    script = tmp_path / "load.py"
    script.write_text(PLAIN_MXNET_LOADER)
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
    other = get_model("googlenet_d2l", classes=5)
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


def test_stage_shapes_example_for_another_model():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "print_stage_shapes.py"),
                          "--model", "inception_v4"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["stem (1, 384, 35, 35)", "stage_a (1, 384, 35, 35)",
                                "stage_b (1, 1024, 17, 17)", "stage_c (1, 1536, 1, 1)", "head (1, 1000)"]


def test_image_folder_example_trains(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "train_image_folder.py"),
                          "--out", str(tmp_path / "run")], capture_output=True, text=True, check=True).stdout
    assert "epoch 10:" in out and "best checkpoint: test accuracy" in out
    assert float(out.split("test accuracy ")[1].split()[0]) >= 0.9
