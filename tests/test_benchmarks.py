"""The peer benchmark's bookkeeping: verdicts over rounds and the FLOP figures it divides by."""
import importlib.util
import os
import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def peers():
    spec = importlib.util.spec_from_file_location("peers", os.path.join(ROOT, "benchmarks", "peers.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_target_is_met_only_when_every_round_reaches_it(peers):
    assert peers.verdict([1.21, 1.35, 1.2], 1.2) == "met"
    assert peers.verdict([1.12, 1.25, 1.3], 1.2) == "not settled"  # the range crosses the target
    assert peers.verdict([1.0, 1.19], 1.2) == "missed"
    assert peers.summary([1.3, 1.1, 1.2, 1.25, 1.0]) == (1.2, 1.0, 1.3)
    assert peers.fmt_range([0.9, 1.1, 1.0]) == "1.00 (0.90..1.10)"


def test_the_flop_column_comes_from_the_registry(peers):
    """d2l: 0.276 G mult-adds at 1x96x96, so 0.552 GFLOP forward and 1.656 trained per image."""
    d2l = peers.gflop_per_image("googlenet_d2l")
    assert d2l["infer"] == pytest.approx(0.552, abs=5e-4) and d2l["train"] == pytest.approx(1.656, abs=2e-3)
    v3 = peers.gflop_per_image("inception_v3")
    assert 11 < v3["infer"] < 12 and v3["train"] == pytest.approx(3 * v3["infer"])
    assert set(peers.SETTINGS) <= set(__import__("gluon_googlenet").list_models())


def test_the_recipe_benchmark_sums_minutes_per_epoch_and_summarises_seeds(tmp_path):
    spec = importlib.util.spec_from_file_location("fast_recipe", os.path.join(ROOT, "benchmarks", "fast_recipe.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    runs = [{"preset": "fast", "seed": s, "wall_minutes": 5.0,
             "epochs": [{"epoch": 1, "test_acc": 0.8, "minutes": 1.0, "examples_per_sec": 700},
                        {"epoch": 2, "test_acc": acc, "minutes": minutes, "examples_per_sec": 700}]}
            for s, acc, minutes in ((0, 0.90, 4.0), (1, 0.91, 4.5), (2, 0.92, 5.0))]
    s = module.summary(runs)
    assert s["acc_mean"] == pytest.approx(0.91) and s["acc_std"] == pytest.approx(0.01)
    assert (s["acc_min"], s["acc_max"], s["minutes_max"]) == (0.90, 0.92, 5.0)
    assert s["minutes_mean"] == pytest.approx(4.5)
    runs[0]["stolen"], runs[1]["stolen"] = 0.103, None
    assert [module.stolen_text(run) for run in runs] == ["10.3%", "-", "-"]
    module.draw(runs, str(tmp_path / "f.png"))
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_the_small_maps_benchmark_times_both_graphs_of_one_function():
    done = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "small_maps.py"), "--batch", "4",
                           "--pairs", "2", "--warmup", "1"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "b5_inception1 (1x1)" in lines[1] and "b4_inception0 (2x2)" in lines[1]
    assert lines[4].startswith("small maps / whole, pair by pair: median ")
    difference = float(lines[5].split("at most ")[1].split()[0])
    assert difference < 1e-4
