"""CPU capabilities: ISA flags, oneDNN's cap, the bf16 probe, and what each refuses."""
import json
import os
import subprocess
import sys

from gluon_googlenet.base import cpu
from gluon_googlenet.base.errors import CpuFeatureError

import pytest
from conftest import run_cli

ZEN3 = cpu.CpuInfo("AMD EPYC 7B13 (fake)", 2, frozenset({"AVX2"}))


SAPPHIRE = cpu.CpuInfo("Intel Xeon (fake)", 2, frozenset({"AVX2", "AVX-512", "AVX512_BF16",
                                                           "AVX512_VNNI", "AMX"}))


def test_describe_names_the_isa_and_the_cap():
    assert ZEN3.describe() == "AMD EPYC 7B13 (fake), AVX2"
    assert SAPPHIRE.describe() == "Intel Xeon (fake), AVX-512 with AVX512_BF16, AVX512_VNNI, AMX"
    capped = cpu.CpuInfo("Intel Xeon (fake)", 2, SAPPHIRE.os_features, "AVX2")
    assert capped.features == {"AVX2"}
    assert capped.describe() == "Intel Xeon (fake), AVX2, capped at AVX2 by DNNL_MAX_CPU_ISA"
    assert cpu.CpuInfo("x", 1, SAPPHIRE.os_features, "AVX512_CORE").features == {"AVX2", "AVX-512"}


def test_bf16_refused_with_one_line_on_an_avx2_cpu():
    with pytest.raises(CpuFeatureError) as err:
        cpu.require_bf16("--precision bf16", info=ZEN3, mxnet_ok=False)
    assert str(err.value) == ("--precision bf16 needs a CPU with AVX512_BF16 "
                              "(this one: AMD EPYC 7B13 (fake), AVX2); use fp32")


def test_bf16_allowed_where_mxnet_runs_it():
    cpu.require_bf16(info=SAPPHIRE, mxnet_ok=True)  # no error
    # MXNet's probe is the last word: flags alone do not make bf16 available.
    assert "could not run a bfloat16 convolution" in cpu.bf16_problem(SAPPHIRE, False)


def test_this_machine_answers_consistently():
    info = cpu.cpu_info()
    assert info.cores >= 1 and info.model
    assert info.features <= info.os_features
    if "AVX512_BF16" not in info.features and "AVX-512" not in info.features:
        assert not cpu.mxnet_runs_bf16()  # oneDNN 2.4 has no bf16 below AVX-512


@pytest.mark.slow
def test_train_bf16_under_an_avx2_cap_stops_with_one_line(tmp_path):
    """DNNL_MAX_CPU_ISA=AVX2 makes any CPU an AVX2 one for oneDNN, so this runs everywhere."""
    out = tmp_path / "run"
    result = run_cli("train", "--precision", "bf16", "--epochs", "1", "--resize", "32",
                     "--limit-train", "64", "--limit-test", "64", "--out", str(out),
                     env={"DNNL_MAX_CPU_ISA": "AVX2"})
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--precision bf16 needs a CPU with AVX512_BF16" in lines[0]
    assert "capped at AVX2" in lines[0] and lines[0].endswith("use fp32")
    assert not out.exists()  # refused before the run folder is made


@pytest.mark.slow
def test_fast_bfloat16_under_an_avx2_cap_raises():
    code = ("import mxnet as mx\n"
            "from gluon_googlenet import get_model\n"
            "from gluon_googlenet.weights import fast\n"
            "from gluon_googlenet.base.errors import CpuFeatureError\n"
            "net = get_model('mnist_resnet'); net.initialize()\n"
            "try:\n    fast.bfloat16(net, (1, 1, 28, 28))\n"
            "except CpuFeatureError as err:\n    print('refused:', err)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, DNNL_MAX_CPU_ISA="AVX2"))
    assert "refused: fast.bfloat16 needs a CPU with AVX512_BF16" in result.stdout, result.stderr


@pytest.mark.slow
def test_info_reports_the_machine():
    result = run_cli("info", "--json", env={"DNNL_MAX_CPU_ISA": "AVX2"})
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["cpu_model"] == cpu.cpu_info().model
    assert record["isa_cap"] == "AVX2" and record["isa_features"] in ([], ["AVX2"])
    assert record["bf16"] is False and "MKLDNN" in record["mxnet_features"]
    assert record["mxnet"] == "1.9.1" and record["gpus"] == 0
    text = run_cli("info").stdout
    assert f"CPU: {cpu.cpu_info().model}, {cpu.cpu_info().cores} cores usable" in text
    assert "GPUs seen by MXNet: 0" in text
