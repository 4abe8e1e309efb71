"""The example scripts, run as a user runs them (tiny settings, two CPU contexts where they take --ctx)."""
import os
import re
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest
from conftest import D2L_SHAPES, ROOT


def run_example(name, *args):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "examples", name), *args],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_train_d2l_style_runs_the_book_loop_over_two_contexts(fashion_dir):
    out = run_example("train_d2l_style.py", "--epochs", "1", "--limit", "128", "--batch-size", "32",
                      "--resize", "32", "--ctx", "cpu:0,1")
    line = out.strip().splitlines()[-1]
    assert line.startswith("epoch 1, loss ") and line.endswith("on [cpu(0), cpu(1)]")
    loss = float(re.search(r"loss ([0-9.]+)", line).group(1))
    assert 0 < loss < 5


@pytest.mark.slow
def test_train_d2l_style_seed_fixes_the_batch_order_too(fashion_dir):
    """--seed seeds numpy too (Gluon's shuffle): two runs of one seed give the same loss, another seed not."""
    def loss(seed):
        out = run_example("train_d2l_style.py", "--epochs", "1", "--limit", "128", "--batch-size", "32",
                          "--resize", "32", "--seed", str(seed))
        return re.search(r"loss ([0-9.]+), train acc ([0-9.]+)", out.strip().splitlines()[-1]).groups()
    assert loss(3) == loss(3) != loss(4)


@pytest.mark.slow
def test_export_and_load_reloads_in_plain_mxnet_and_onnx(tmp_path):
    out = run_example("export_and_load.py", "--model", "mnist_resnet", "--out", str(tmp_path), "--batch", "3")
    lines = out.strip().splitlines()
    assert lines[0].endswith("max |diff| 0.00e+00 on 3 inputs")
    assert "(batch axis free, run at 3)" in lines[1] and float(lines[1].rsplit(" ", 1)[1]) < 1e-5
    assert sorted(os.listdir(tmp_path)) == ["mnist_resnet-0000.params", "mnist_resnet-meta.json",
                                           "mnist_resnet-symbol.json", "mnist_resnet.onnx"]


@pytest.mark.slow
def test_finetune_example_starts_from_published_weights(tmp_path):
    from gluoncv.model_zoo import get_model
    source = get_model("googlenet", pretrained=False)
    source.initialize(mx.init.Xavier())
    source.save_parameters(str(tmp_path / "googlenet.params"))
    out = run_example("finetune_image_folder.py", "--weights", str(tmp_path / "googlenet.params"),
                      "--epochs", "1", "--resize", "64", "--batch-size", "8", "--ctx", "cpu:0,1",
                      "--out", str(tmp_path / "run"))
    assert re.search(r"^epoch 1: train loss [0-9.]+, test acc [0-9.]+$", out, re.M)
    assert os.path.getsize(tmp_path / "run" / "best.ckpt") > 0


@pytest.mark.slow
def test_stage_shapes_example_script_prints_the_table():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "print_stage_shapes.py")],
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [f"{name} {shape}" for name, shape in D2L_SHAPES]


@pytest.mark.slow
def test_stage_shapes_example_options():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "print_stage_shapes.py"),
                          "--size", "224", "--channels", "3", "--batch", "2"],
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "b1 (2, 64, 56, 56)"
    assert out.splitlines()[-1] == "head (2, 10)"


@pytest.mark.slow
def test_stage_shapes_example_for_another_model():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "print_stage_shapes.py"),
                          "--model", "inception_v4"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["stem (1, 384, 35, 35)", "stage_a (1, 384, 35, 35)",
                                "stage_b (1, 1024, 17, 17)", "stage_c (1, 1536, 1, 1)", "head (1, 1000)"]


@pytest.mark.slow
def test_image_folder_example_trains(tmp_path):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "train_image_folder.py"),
                          "--out", str(tmp_path / "run")], capture_output=True, text=True, check=True).stdout
    assert "epoch 10:" in out and "best checkpoint: test accuracy" in out
    assert float(out.split("test accuracy ")[1].split()[0]) >= 0.9


def test_every_script_imports_the_package_before_mxnet():
    """Importing gluon_googlenet sets OMP_NUM_THREADS, which MXNet reads once, when it loads:
    a script that imports mxnet first runs on one thread."""
    import ast
    import glob
    scripts = glob.glob(os.path.join(ROOT, "examples", "*.py")) + glob.glob(os.path.join(ROOT, "benchmarks", "*.py"))
    for path in scripts:
        order = [alias.name.split(".")[0] if isinstance(node, ast.Import) else (node.module or "").split(".")[0]
                 for node in ast.parse(open(path, encoding="utf-8").read()).body
                 if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names]
        if "mxnet" in order:
            assert "gluon_googlenet" in order and order.index("gluon_googlenet") < order.index("mxnet"), path


@pytest.mark.slow
def test_backbone_example_trains_a_head_on_two_levels_over_two_contexts():
    lines = run_example("backbone_features.py", "--ctx", "cpu:0,1", "--size", "64", "--batches", "6",
                        "--batch-size", "8").splitlines()
    assert lines[:2] == ["level b4.4: 832 channels, 1/16 of the input side",
                         "level b5.1: 1024 channels, 1/32 of the input side"]
    losses = [float(line.split("loss ")[1]) for line in lines if line.startswith("batch ")]
    assert len(losses) == 6 and all(np.isfinite(losses)) and losses[-1] < losses[0]
