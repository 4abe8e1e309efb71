"""AMX, with the detection faked where the CPU has none (this project's machines so far): the
switch refuses in one line where it cannot work, training and INT8 refuse to run under it, and the
precision advice follows the documented rule."""
import subprocess
import sys

from gluon_googlenet.base import amx, cpu
from gluon_googlenet.base.errors import CpuFeatureError

import pytest

ZEN3 = cpu.CpuInfo("AMD EPYC (fake Zen 3)", 2, frozenset({"AVX2"}))
ZEN4 = cpu.CpuInfo("AMD EPYC (fake Zen 4)", 2, frozenset({"AVX2", "AVX-512", "AVX512_BF16", "AVX512_VNNI"}))
SAPPHIRE = cpu.CpuInfo("Intel Xeon (fake)", 2, frozenset({"AVX2", "AVX-512", "AVX512_BF16", "AVX512_VNNI", "AMX"}))

ENABLE = """
import sys
from gluon_googlenet.base import amx, cpu
info = cpu.CpuInfo("Intel Xeon (fake)", 2, frozenset({"AVX2", "AVX-512", "AVX512_BF16", "AVX512_VNNI", "AMX"}))
amx.enable_amx(info, permission=lambda: True)
import os
print(os.environ["DNNL_MAX_CPU_ISA"], "mxnet" in sys.modules)
"""


def test_enable_amx_sets_the_cap_before_mxnet_loads_on_a_cpu_with_amx():
    result = subprocess.run([sys.executable, "-c", ENABLE], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["AVX512_CORE_AMX", "False"]


def test_enable_amx_refuses_in_one_line_where_it_cannot_work(monkeypatch):
    import mxnet  # noqa: F401  (loaded: the cap can no longer take effect)
    with pytest.raises(CpuFeatureError, match=r"^enable_amx\(\) must run before MXNet loads"):
        amx.enable_amx(SAPPHIRE, permission=lambda: True)
    monkeypatch.delitem(sys.modules, "mxnet")  # as if not loaded: the CPU decides
    for info, permission in ((ZEN4, lambda: True), (SAPPHIRE, lambda: False)):
        with pytest.raises(CpuFeatureError, match="AMX needs a CPU with AMX and Linux 5.16"):
            amx.enable_amx(info, permission=permission)
    assert not amx.amx_on()


def test_training_and_int8_refuse_to_run_with_amx_on(monkeypatch, tmp_path):
    from gluon_googlenet import TrainConfig, get_model, train
    from gluon_googlenet.weights import fast

    import numpy as np
    monkeypatch.setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE_AMX")
    with pytest.raises(CpuFeatureError, match="^training cannot run with DNNL_MAX_CPU_ISA=AVX512_CORE_AMX"):
        train(TrainConfig(out=str(tmp_path / "run")))
    with pytest.raises(CpuFeatureError, match="^INT8 quantisation cannot run with DNNL_MAX_CPU_ISA"):
        fast.int8(get_model("mnist_resnet"), np.zeros((4, 1, 28, 28), np.uint8))
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_the_training_guard_is_one_line_from_the_command_line(tmp_path):
    from conftest import run_cli
    result = run_cli("train", "--epochs", "1", "--out", str(tmp_path / "run"),
                     env={"DNNL_MAX_CPU_ISA": "AVX512_CORE_AMX"})
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "training cannot run with DNNL_MAX_CPU_ISA=AVX512_CORE_AMX" in result.stderr


@pytest.mark.parametrize("info, bf16, int8, training, slower", [
    (ZEN3, "none", "none", "fp32", False), (ZEN4, "AVX512_BF16", "VNNI", "bf16", False),
    (SAPPHIRE, "AMX", "AMX", "fp32", True)])
def test_precision_advice_per_cpu(info, bf16, int8, training, slower):
    advice = amx.precision_advice(info)
    assert (advice.bf16, advice.int8, advice.training) == (bf16, int8, training)
    assert advice.inference.startswith("int8")
    assert (advice.note is not None) == slower


def test_info_says_what_runs_natively_here(capsys):
    from gluon_googlenet import cli
    assert cli.main(["info"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("native here:"))
    advice = amx.precision_advice()
    assert line.startswith(f"native here: bf16 {advice.bf16}, INT8 {advice.int8}; fastest for training: "
                           f"{advice.training}")


def test_bf16_training_on_an_amx_cpu_says_it_is_slower_in_one_line(monkeypatch, caplog):
    from gluon_googlenet.training import model_setup
    monkeypatch.setattr(model_setup, "precision_advice", lambda: amx.precision_advice(SAPPHIRE))
    monkeypatch.setattr(model_setup, "_AMP_DTYPE", "bfloat16")  # AMP itself stays off in this process
    with caplog.at_level("WARNING", logger="gluon_googlenet.train"):
        model_setup.enable_amp("bf16")
    assert [r.getMessage() for r in caplog.records] == [amx.precision_advice(SAPPHIRE).note]


BF16_OUTPUTS = """
import sys
import numpy as np
from gluon_googlenet.base import amx, cpu
if sys.argv[1] == "amx":  # asked for (the cap set before MXNet loads): on an AMX CPU for real (the
    # kernel's permission asked), elsewhere with AMX faked (the cap is then a ceiling oneDNN does not reach)
    import os
    os.environ["DNNL_MAX_CPU_ISA"] = "AVX512_CORE_AMX"
    if "AMX" in cpu.cpu_info().os_features:
        assert amx.amx_for_bf16_inference() and amx.amx_on()
    else:
        info = cpu.CpuInfo("Intel Xeon (fake)", 2,
                           frozenset({"AVX2", "AVX-512", "AVX512_BF16", "AVX512_VNNI", "AMX"}))
        assert amx.amx_for_bf16_inference(info, permission=lambda: True) and amx.amx_on()
else:
    assert not amx.amx_on()
import mxnet as mx
from gluon_googlenet import get_model, get_spec, list_models
from gluon_googlenet.weights import fast
outputs = {}
for name, side in (pair.split(":") for pair in sys.argv[3:]):
    side = int(side)
    spec = get_spec(name)
    net = get_model(name, input_size=side)
    mx.random.seed(0)
    net.initialize(mx.init.Xavier())
    x = mx.nd.random.uniform(shape=(2, spec.input_size[0], side, side))
    block = fast.Float32Outputs(fast.bfloat16(net, x.shape))
    outputs[name] = block(x).asnumpy()
np.savez(sys.argv[2], **outputs)
"""


@pytest.mark.slow
def test_bf16_inference_with_amx_on_gives_the_outputs_without_it_for_every_model(tmp_path, needs_bf16):
    """The AMX path (cap set before MXNet loads, then fast.bfloat16) against the plain bf16 path, for
    every registered model in two processes. On a CPU without AMX the cap is a ceiling oneDNN does
    not reach, so both run the same AVX512_BF16 kernels; on an AMX CPU this compares AMX with them."""
    from gluon_googlenet import list_models

    from conftest import cheap_side

    def side(name):  # under AMX, MXNet 1.9.1 crashes on googlenet at 96 (why AMX is opt-in); 64 runs
        real_amx = "AMX" in cpu.cpu_info().os_features
        return 64 if real_amx and name in ("googlenet", "googlenet_bn") else cheap_side(name)
    models = [f"{name}:{side(name)}" for name in list_models()]
    files = {}
    for mode in ("amx", "plain"):
        files[mode] = str(tmp_path / f"{mode}.npz")
        result = subprocess.run([sys.executable, "-c", BF16_OUTPUTS, mode, files[mode], *models],
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
    import numpy as np
    with_amx, without = np.load(files["amx"]), np.load(files["plain"])
    assert sorted(with_amx.files) == sorted(list_models())
    for name in with_amx.files:
        a, b = with_amx[name], without[name]
        assert np.isfinite(a).all() and a.shape == b.shape
        scale = max(float(np.abs(b).max()), 1e-3)
        assert float(np.abs(a - b).max()) <= 2 ** -7 * 4 * scale, name  # a few bf16 steps (8-bit mantissa)


@pytest.mark.slow  # small_run trains on the real data; needs_bf16 first, so a CPU without bf16 skips before it
def test_evaluate_and_predict_in_bf16_from_the_command_line(needs_bf16, small_run, capsys):
    """--precision bf16 says where it runs (AVX512_BF16, or AMX where asked for) and agrees with fp32."""
    import os

    from gluon_googlenet import cli
    checkpoint = os.path.join(small_run, "best.ckpt")
    assert cli.main(["evaluate", checkpoint, "--limit-test", "200"]) == 0
    fp32 = capsys.readouterr().out
    assert cli.main(["evaluate", checkpoint, "--limit-test", "200", "--precision", "bf16"]) == 0
    bf16 = capsys.readouterr().out
    assert bf16.startswith(f"precision: bf16 on {amx.bf16_engine()}\n")

    def accuracy(text):
        return float(text.split("accuracy ")[1].split()[0])
    assert abs(accuracy(bf16) - accuracy(fp32)) <= 0.02
    assert cli.main(["predict", "--checkpoint", checkpoint, "test:0", "test:1", "--precision", "bf16"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[1].startswith("test:0: ")
    assert cli.main(["predict", "--pretrained", "gluoncv", "x.jpg", "--precision", "bf16"]) == 1
    assert "--precision bf16 is for --checkpoint predictions" in capsys.readouterr().err


def test_where_bf16_runs_is_said_in_words(monkeypatch):
    assert amx.bf16_engine(ZEN4).startswith("AVX512_BF16 (no AMX on this CPU; ")
    assert amx.bf16_engine(SAPPHIRE).startswith("AVX512_BF16 (AMX is off: MXNet 1.9.1's oneDNN crashes under "
                                                "it on some shapes; DNNL_MAX_CPU_ISA=AVX512_CORE_AMX")
    monkeypatch.delitem(sys.modules, "mxnet", raising=False)
    monkeypatch.delenv("DNNL_MAX_CPU_ISA", raising=False)
    assert amx.amx_for_bf16_inference(SAPPHIRE, permission=lambda: True) is False  # not asked for: off
    monkeypatch.setenv("DNNL_MAX_CPU_ISA", "AVX512_CORE_AMX")
    assert amx.bf16_engine(SAPPHIRE) == f"AMX ({SAPPHIRE.describe()})"
    assert amx.amx_for_bf16_inference(SAPPHIRE, permission=lambda: True) is True
    assert amx.amx_for_bf16_inference(SAPPHIRE, permission=lambda: False) is False  # the kernel says no
    assert amx.amx_for_bf16_inference(ZEN4, permission=lambda: True) is False  # nothing to switch on


def test_bf16_inference_is_refused_in_one_line_before_anything_on_a_cpu_without_it(tmp_path):
    """Under oneDNN's AVX2 cap (an AVX2 machine): one line naming the CPU, nothing on stdout."""
    import os
    result = subprocess.run([sys.executable, "-m", "gluon_googlenet", "evaluate", str(tmp_path / "any.ckpt"),
                             "--precision", "bf16"], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, DNNL_MAX_CPU_ISA="AVX2"))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("gluon-googlenet evaluate: error: --precision bf16 needs a CPU with ")
    assert result.stderr.count("\n") == 1
