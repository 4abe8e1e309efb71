"""The command line: every verb's help, one-line errors and exit codes, and each verb run as a user would."""
import json
import os
import subprocess
import sys

from gluon_googlenet import cli, get_spec
from gluon_googlenet.cli import build_parser
from gluon_googlenet.cli.parser import VERBS

import numpy as np
import pytest
from conftest import LOADED, run_cli


@pytest.mark.parametrize("verb", [v.name for v in VERBS])
def test_every_verb_has_help_and_is_in_the_description(verb, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([verb, "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and out.startswith("usage: gluon-googlenet " + verb)
    assert f"{verb}: " in build_parser().description


def test_shared_options_have_one_help_text():
    """--ctx, --data-dir and --model come from one parent parser each: one help text per option."""
    helps = {}
    for verb in VERBS:
        sub = build_parser()._subparsers._group_actions[0].choices[verb.name]
        for action in sub._actions:
            for flag in action.option_strings:
                helps.setdefault(flag, set()).add(action.help)
    for flag in ("--ctx", "--data-dir", "--model", "--no-verify", "--classes", "--channels", "--size"):
        assert len(helps[flag] - {None}) <= 2 if flag == "--model" else len(helps[flag]) == 1, (flag, helps[flag])


@pytest.mark.parametrize("args", [["train", "--lr", "0"], ["train", "--lr", "nan"], ["train", "--wd", "-1"],
                                  ["train", "--test-fraction", "1.5"], ["train", "--lr-schedule", "step:x"],
                                  ["train", "--aux-weight", "-0.1"], ["train", "--checkpoint-every", "-2"],
                                  ["predict", "x.png"], ["predict", "--checkpoint", "a.ckpt"],
                                  ["train", "--momentum", "0.5"], ["train", "--optimizer", "adam", "--momentum", "0.9"],
                                  ["predict", "x.png", "--checkpoint", "a.ckpt", "--pretrained", "gluoncv"]])
def test_bad_values_are_usage_errors_at_parse_time(args, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(args)
    err = capsys.readouterr().err.strip().splitlines()
    assert done.value.code == 2 and len(err) == 1 and "error:" in err[0], err


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for words in ("learning rate (default: 0.1)", "--batch-size BATCH_SIZE default: 128", "(default: cpu"):
        assert words in out, words


@pytest.mark.slow
@pytest.mark.parametrize("args", [["shapes", "--size", "x"], ["nosuchverb"], ["summary", "--model", "nope"],
                                  ["shapes", "--channels", "0"], ["export"], ["train", "--epochs", "0"], []])
def test_bad_arguments_give_one_line_and_exit_2(args):
    result = run_cli(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "error:" in result.stderr


def test_shapes_command(capsys):
    assert cli.main(["shapes", "--size", "64", "--batch", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "b1 (2, 64, 16, 16)" and lines[-1] == "head (2, 10)"


@pytest.mark.slow
def test_runtime_errors_are_one_line_exit_1(capsys, tmp_path):
    no_gpus = dict(os.environ, CUDA_VISIBLE_DEVICES="")  # a CUDA build then sees none either
    result = run_cli("shapes", "--ctx", "gpu", env=no_gpus)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("gluon-googlenet shapes: error: --ctx gpu asks for a GPU")
    assert cli.main(["export", "--out", str(tmp_path / "m"), "--checkpoint", str(tmp_path / "no.ckpt")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("gluon-googlenet export: error: checkpoint") and "does not exist" in err[0]


def test_summary_command(capsys):
    assert cli.main(["summary", "--depth", "0"]) == 0
    out = capsys.readouterr().out
    assert f"Total params: {get_spec('googlenet_d2l').num_params:,}" in out and "b5 (HybridSequential)" in out


def test_export_command(tmp_path, capsys):
    prefix = str(tmp_path / "out" / "d2l")
    assert cli.main(["export", "--out", prefix, "--size", "32"]) == 0
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    assert lines[:2] == [prefix + "-symbol.json", prefix + "-0000.params"]
    assert lines[2].startswith(f"model: {prefix}-symbol.json and {prefix}-0000.params (input 'data' 1x1x32x32 (NCHW), "
                               "grey in [0, 1];")
    from gluon_googlenet.base import numpy_aliases
    missing = numpy_aliases.ALIASES_MISSING  # what this numpy lacks: a line or two before MXNet loads
    shim = 0 if not missing else 1 if set(missing) <= set(numpy_aliases.ALIASES) else 2
    assert lines[3] == "load it in plain MXNet:" and lines[4 + shim] == "  import mxnet as mx"
    assert printed.err.strip() == "export: no --checkpoint, so the weights are fresh Xavier: untrained (random)"
    with open(prefix + "-meta.json", encoding="utf-8") as handle:
        meta = json.load(handle)
    assert meta["weights"] == "fresh Xavier: untrained" and meta["input"]["shape"] == [1, 1, 32, 32]
    assert os.path.getsize(prefix + "-0000.params") > get_spec("googlenet_d2l").num_params * 4


@pytest.mark.slow
def test_console_script_is_installed():
    exe = os.path.join(os.path.dirname(sys.executable), "gluon-googlenet")
    result = subprocess.run([exe, "shapes"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.splitlines()[1] == "b2 (1, 192, 12, 12)"


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["train", "--help"],
                                  ["train", "--model", "nope"], ["info", "--help"]])
def test_parsing_loads_no_heavy_library(argv):
    """--help, --version and argument errors must not wait for MXNet (seconds to import)."""
    code = ("from gluon_googlenet import cli\n"
            f"try:\n    cli.main({argv!r})\nexcept SystemExit as done:\n    code = done.code\n" + LOADED)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.endswith("\n\n") or result.stdout == "\n", result.stdout[-300:]
    assert result.stdout.splitlines()[-1] == "", f"{argv} imported {result.stdout.splitlines()[-1]}"


def test_export_command_onnx(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    assert cli.main(["export", "--format", "onnx", "--model", "mnist_resnet", "--out", str(tmp_path / "r")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "r.onnx")
    onnx.checker.check_model(onnx.load(str(tmp_path / "r.onnx")))


@pytest.mark.slow
def test_cli_train_evaluate_predict(fashion_dir, tmp_path, capsys):
    out = str(tmp_path / "cli")
    assert cli.main(["train", "--epochs", "1", "--resize", "32", "--limit-train", "128",
                     "--limit-test", "64", "--batch-size", "64", "--out", out, "--no-progress",
                     "--data-dir", fashion_dir]) == 0
    assert "epoch 1, loss" in capsys.readouterr().out
    ckpt = os.path.join(out, "last.ckpt")
    assert cli.main(["evaluate", ckpt, "--data-dir", fashion_dir, "--limit-test", "200"]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "(200 images)" in text and "ankle boot" in text
    assert os.path.getsize(os.path.join(out, "last-confusion.png")) > 0

    from PIL import Image
    Image.fromarray(np.zeros((40, 30), dtype=np.uint8)).save(tmp_path / "img.png")
    assert cli.main(["predict", str(tmp_path / "img.png"), "test:0", "--checkpoint", ckpt,
                     "--data-dir", fashion_dir]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(str(tmp_path / "img.png") + ": ") and lines[1].endswith("(true: ankle boot)")

    (tmp_path / "bad.png").write_text("not an image")
    assert cli.main(["predict", str(tmp_path / "bad.png"), "--checkpoint", ckpt]) == 1
    assert "cannot read image" in capsys.readouterr().err
    assert cli.main(["evaluate", str(tmp_path / "bad.png")]) == 1
    assert "not a gluon-googlenet checkpoint" in capsys.readouterr().err


def test_zoo_command(capsys):
    assert cli.main(["zoo", "googlenet_d2l", "mnist_resnet", "--markdown"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and f"`mnist_resnet` | {get_spec('mnist_resnet').num_params:,} |" in out[3]
    assert cli.main(["zoo", "nope"]) == 1
    assert "unknown model 'nope'" in capsys.readouterr().err


def test_diagram_command(tmp_path, capsys):
    assert cli.main(["diagram", "--model", "inception_v3", "-o", str(tmp_path / "v3.svg")]) == 0
    assert "mixed6" in open(tmp_path / "v3.svg").read()
    assert cli.main(["diagram", "--model", "googlenet_d2l", "-o", str(tmp_path / "x.gif")]) == 1
    assert "must end in .svg, .png or .pdf" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert cli.main(["diagram", "--model", "mnist_resnet", "-o", str(tmp_path / "file" / "x.svg")]) == 1
    assert "cannot write to output folder" in capsys.readouterr().err
    assert cli.main(["diagram", "--model", "mnist_resnet", "-o", str(tmp_path / "new" / "x.svg")]) == 0
    assert open(tmp_path / "new" / "x.svg").read().startswith("<?xml")


@pytest.mark.slow
def test_branches_command(small_run, tmp_path, capsys):
    out = str(tmp_path / "maps.png")
    assert cli.main(["branches", str(small_run / "best.ckpt"), "--block", "b4.2", "--image", "test:3",
                     "-o", out]) == 0
    assert open(out, "rb").read(4) == b"\x89PNG"
    assert cli.main(["branches", str(small_run / "best.ckpt"), "--block", "b4", "--image", "test:3",
                     "-o", out]) == 1
    assert "not an Inception block" in capsys.readouterr().err


def test_evaluate_with_flip_tta(tmp_path, capsys):
    """evaluate --tta flip on the checkpoint in tests/fixtures and its 16 test images."""
    from conftest import SAVED, make_idx_dir
    data = make_idx_dir(tmp_path / "data", n_train=64, n_test=16)
    ckpt = SAVED + ".ckpt"
    png = str(tmp_path / "cm.png")
    for extra, words in (([], "test set: accuracy"), (["--tta", "flip"], "with flip test-time augmentation: accuracy")):
        assert cli.main(["evaluate", ckpt, "--data-dir", data, "--no-verify", "--confusion", png, *extra]) == 0
        first = capsys.readouterr().out.splitlines()[0]
        assert first.startswith("mnist_resnet (epoch 1) on fashion-mnist") and words in first and "(16 images)" in first


def test_a_reader_that_leaves_early_ends_the_verb_quietly():
    """`gluon-googlenet zoo | head -1`: the pipe closes while the table is written; no traceback."""
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-m", "gluon_googlenet", "zoo"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # before the verb writes a line
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and stderr == ""
