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
    code = ("from gluon_googlenet import get_model\n"
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


def test_cpu_times_reads_the_aggregate_line_and_stolen_share_is_steal_over_all(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 20 800 10 0 5 65 0 0\ncpu0 50 0 10 400 5 0 2 33 0 0\n", encoding="ascii")
    before = cpu.cpu_times(str(stat))
    assert before == {"user": 100, "nice": 0, "system": 20, "idle": 800, "iowait": 10, "irq": 0,
                      "softirq": 5, "steal": 65}
    stat.write_text("cpu  250 0 30 820 10 0 5 85 0 0\n", encoding="ascii")
    # 150 + 10 + 20 + 20 = 200 jiffies spent, 20 of them stolen
    assert cpu.stolen_share(before, cpu.cpu_times(str(stat))) == pytest.approx(0.1)
    assert cpu.cpu_times(str(tmp_path / "absent")) is None
    assert cpu.stolen_share(None, before) is None and cpu.stolen_share(before, before) is None


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="Linux's /proc/stat")
def test_stolen_share_of_this_machine_is_a_share():
    before = after = cpu.cpu_times()
    while sum(after.values()) - sum(before.values()) < 10:  # a tenth of a CPU-second at least
        sum(i * i for i in range(100_000))
        after = cpu.cpu_times()
    assert set(before) == set(cpu.CPU_TIME_FIELDS)
    assert 0.0 <= cpu.stolen_share(before, after) <= 1.0


def test_stolen_note_names_a_share_of_one_percent_or_more():
    assert cpu.stolen_note(0.123) == ", the host took 12% of the CPU time"
    assert cpu.stolen_note(0.01) == ", the host took 1% of the CPU time"
    assert cpu.stolen_note(0.009) == "" and cpu.stolen_note(None) == ""
