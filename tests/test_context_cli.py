"""Context parsing and the gluon-googlenet command line."""
import os
import subprocess
import sys

import mxnet as mx
import pytest

from gluon_googlenet import cli
from gluon_googlenet.context import parse_ctx
from gluon_googlenet.errors import ContextError


def test_parse_cpu_contexts():
    assert parse_ctx("cpu") == [mx.cpu(0)]
    assert parse_ctx("cpu:0,1") == [mx.cpu(0), mx.cpu(1)]
    assert parse_ctx(" CPU ") == [mx.cpu(0)]


@pytest.mark.parametrize("spec", ["gpu", "gpu:0,1", "gpu:1"])
def test_gpu_without_gpus_is_a_clear_error(spec):
    with pytest.raises(ContextError, match="MXNet sees none"):
        parse_ctx(spec, gpus=0)


def test_gpu_lists_become_gpu_contexts_when_gpus_exist():
    assert parse_ctx("gpu", gpus=2) == [mx.gpu(0)]
    assert parse_ctx("gpu:0,1", gpus=2) == [mx.gpu(0), mx.gpu(1)]
    with pytest.raises(ContextError, match="GPU 2 does not exist"):
        parse_ctx("gpu:0,2", gpus=2)


@pytest.mark.parametrize("spec", ["tpu", "gpu:a", "cpu:0,0", "gpu:-1"])
def test_bad_context_strings(spec):
    with pytest.raises(ContextError):
        parse_ctx(spec, gpus=2)


def run_cli(*args, env=None):
    """Run the installed console entry point as a user would."""
    return subprocess.run([sys.executable, "-m", "gluon_googlenet", *args],
                          capture_output=True, text=True, env=env)


@pytest.mark.parametrize("command", ["shapes", "summary", "export", "train", "evaluate", "predict"])
def test_every_subcommand_has_help(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0 and "usage: gluon-googlenet " + command in result.stdout


@pytest.mark.parametrize("args", [["shapes", "--size", "x"], ["nosuchverb"], ["summary", "--model", "nope"], ["shapes", "--channels", "0"],
                                  ["export"], ["train", "--epochs", "0"], []])
def test_bad_arguments_give_one_line_and_exit_2(args):
    result = run_cli(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "error:" in result.stderr


def test_shapes_command(capsys):
    assert cli.main(["shapes", "--size", "64", "--batch", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "b1 (2, 64, 16, 16)" and lines[-1] == "head (2, 10)"


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
    assert "Total params: 5,977,530" in out and "b5 (HybridSequential)" in out


def test_export_command(tmp_path, capsys):
    prefix = str(tmp_path / "out" / "d2l")
    assert cli.main(["export", "--out", prefix, "--size", "32"]) == 0
    assert capsys.readouterr().out.split() == [prefix + "-symbol.json", prefix + "-0000.params"]
    assert os.path.getsize(prefix + "-0000.params") > 5_977_530 * 4


def test_console_script_is_installed():
    exe = os.path.join(os.path.dirname(sys.executable), "gluon-googlenet")
    result = subprocess.run([exe, "shapes"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.splitlines()[1] == "b2 (1, 192, 12, 12)"


LOADED = ("import sys\nprint(' '.join(sorted(m for m in ('mxnet', 'matplotlib', 'gluoncv', 'PIL')"
          " if m in sys.modules)))\n")


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["train", "--help"],
                                  ["train", "--model", "nope"], ["info", "--help"]])
def test_parsing_loads_no_heavy_library(argv):
    """--help, --version and argument errors must not wait for MXNet (seconds to import)."""
    code = ("from gluon_googlenet import cli\n"
            f"try:\n    cli.main({argv!r})\nexcept SystemExit as done:\n    code = done.code\n" + LOADED)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.endswith("\n\n") or result.stdout == "\n", result.stdout[-300:]
    assert result.stdout.splitlines()[-1] == "", f"{argv} imported {result.stdout.splitlines()[-1]}"


def test_version_and_package_import():
    from gluon_googlenet import __version__
    result = subprocess.run([sys.executable, "-m", "gluon_googlenet", "--version"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"gluon-googlenet {__version__}"
    code = "import gluon_googlenet, os\nprint(os.environ['OMP_NUM_THREADS'])\n" + LOADED
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           env={k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
                           ).stdout.splitlines()
    assert lines == [str(len(os.sched_getaffinity(0))), ""]


def test_plots_leave_the_matplotlib_backend_alone(tmp_path):
    code = ("import matplotlib\nmatplotlib.use('svg')\nimport sys\n"
            "from gluon_googlenet.plots import plot_history\n"
            f"plot_history([{{'epoch': 1, 'train_loss': 1.0, 'test_loss': 1.1, 'train_acc': 0.5, "
            f"'test_acc': 0.4}}], {str(tmp_path / 'c.png')!r})\n"
            "print(matplotlib.get_backend(), 'matplotlib.pyplot' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "svg False", result.stderr
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
