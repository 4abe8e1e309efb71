"""results/reproduce.py: both loops over seeds, resume, the statement and the machine record."""
import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT


def _run(tmp_path, *args):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "results", "reproduce.py"), "--limit", "128",
                             "--resize", "32", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs"),
                             *args], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _reproduce_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location("reproduce", os.path.join(ROOT, "results", "reproduce.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _histories(*curves):
    return {seed: [{"epoch": e + 1, "test_acc": acc} for e, acc in enumerate(curve)]
            for seed, curve in enumerate(curves)}


@pytest.mark.slow
def test_two_seeds_both_loops_then_resume(fashion_dir, tmp_path):
    first = _run(tmp_path, "--seeds", "0,1", "--epochs", "2", "--book-epochs", "1")
    assert first.count("book seed") == 2
    data = json.loads((tmp_path / "out" / "reproduction.json").read_text())
    assert [len(data["runs"]["package"][s]) for s in ("0", "1")] == [2, 2]
    assert [len(data["runs"]["book"][s]) for s in ("0", "1")] == [1, 1]
    rows = {r["epoch"]: r for r in data["table"]["package"]}
    accs = [data["runs"]["package"][s][1]["test_acc"] for s in ("0", "1")]
    assert rows[2]["n"] == 2 and rows[2]["min"] == min(accs) and rows[2]["max"] == max(accs)
    assert abs(rows[2]["mean"] - sum(accs) / 2) < 1e-12
    table = (tmp_path / "out" / "reproduction.md").read_text()
    assert "| 1 | " in table and "| 0.511 |" in table and "What the numbers support:" in table
    assert os.path.getsize(tmp_path / "out" / "reproduction.png") > 0

    before = json.loads((tmp_path / "runs" / "book-seed0" / "history.json").read_text())
    second = _run(tmp_path, "--seeds", "0,1", "--epochs", "2", "--book-epochs", "2", "--resume")
    assert second.count("book seed") == 2 and "epoch 1:" not in second  # only epoch 2 ran
    after = json.loads((tmp_path / "runs" / "book-seed0" / "history.json").read_text())
    assert after[0] == before[0] and [h["epoch"] for h in after] == [1, 2]
    third = _run(tmp_path, "--seeds", "0,1,2", "--epochs", "3", "--book-epochs", "2", "--report-only")
    assert "epochs in" not in third and "book seed" not in third  # nothing trained
    assert third.startswith("Unfinished: seeds with all their epochs: (a) package trainer 0 of 3, "
                            "(b) book loop 2 of 3;")
    data = json.loads((tmp_path / "out" / "reproduction.json").read_text())
    assert sorted(data["runs"]["book"]) == ["0", "1"] and len(data["runs"]["package"]["0"]) == 2


def test_statement_says_what_the_seeds_support():
    reproduce = _reproduce_module()
    results = {"package": _histories([0.5, 0.80, 0.85, 0.86, 0.870], [0.6, 0.78, 0.84, 0.87, 0.880]),
               "book": _histories([0.55, 0.79, 0.86, 0.86, 0.874], [0.57, 0.80, 0.83, 0.87, 0.872])}
    table = reproduce.summarise(results, 5)
    assert [r["n"] for r in table["package"]] == [2] * 5
    lines = reproduce.statement(table, results)
    assert lines[0].startswith("(a) and (b) agree within one seed standard deviation") and "(1..5)" in lines[0]
    assert "0.875 after 5 epochs in 1 of 2 seeds (test accuracy 0.870..0.880)" in lines[1]
    assert "0.875 after 5 epochs in 0 of 2 seeds (test accuracy 0.872..0.874)" in lines[2]
    assert lines[3] == "Seed by seed after 5 epochs, (a) vs (b): seed 0: 0.870 vs 0.874; seed 1: 0.880 vs 0.872."

    results["book"] = _histories([0.75, 0.79, 0.86, 0.86, 0.874], [0.76, 0.80, 0.83, 0.87, 0.876])
    lines = reproduce.statement(reproduce.summarise(results, 5), results)
    assert lines[0].startswith("(a) and (b) differ by more than the larger seed standard deviation at epoch(s) 1;")
    assert "(4 of 5)" in lines[0]

    lines = reproduce.statement(reproduce.summarise(results, 5), results, {"package": (3, 5), "book": (2, 5)})
    assert lines[0] == ("Unfinished: seeds with all their epochs: (a) package trainer 2 of 3; "
                        "the spreads below rest on the seeds done so far.")
    assert lines[1].startswith("(a) and (b) differ")

    one = {"package": _histories([0.5, 0.8]), "book": _histories([0.55])}
    assert reproduce.statement(reproduce.summarise(one, 2), one)[0].startswith("Not enough seeds yet")
    table = reproduce.summarise(one, 2)
    assert table["package"][0]["std"] is None  # one seed has no spread, not a spread of 0
    assert reproduce.cell(table["package"][1]) == "0.800, 1 seed"
    two = reproduce.summarise(results, 5)["package"][4]
    assert reproduce.cell(two) == "0.875 +- 0.007 (0.870..0.880), 2 seeds"
    single = {"package": results["package"], "book": _histories([0.55, 0.79, 0.86, 0.86, 0.871])}
    lines = reproduce.statement(reproduce.summarise(single, 5), single)
    assert "(b) book loop reaches the reference run's 0.875 after 5 epochs in 0 of 1 seeds (test accuracy 0.871)." \
        in lines


def test_both_loops_start_from_the_same_weights_for_a_seed():
    """The README's claim: for one seed, (a)'s trainer and (b)'s loop initialise identically."""
    from gluon_googlenet import TrainConfig
    from gluon_googlenet.training.model_setup import build_net
    from gluon_googlenet.training.run.resolve import resolve_run

    import mxnet as mx
    import numpy as np
    reproduce = _reproduce_module()
    weights = {}
    for seed in (2, 3):
        net_a, _ = build_net(resolve_run(TrainConfig(seed=seed)), num_classes=10)
        net_b = reproduce.book_net(seed, [mx.cpu()])
        x = mx.nd.zeros((1, 1, 96, 96))
        net_a(x), net_b(x)  # finish any deferred initialisation
        a = [p.data().asnumpy() for p in net_a.collect_params().values()]
        b = [p.data().asnumpy() for p in net_b.collect_params().values()]
        assert len(a) == len(b) == 116
        assert all(u.shape == v.shape and np.array_equal(u, v) for u, v in zip(a, b))
        weights[seed] = a
    assert not np.array_equal(weights[2][0], weights[3][0])  # the seed does matter


def test_machine_record_names_a_resume_with_other_threads(tmp_path, monkeypatch):
    reproduce = _reproduce_module()
    folder = str(tmp_path / "package-seed1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    reproduce.record_machine(folder, 0)
    reproduce.record_machine(folder, 4)  # same threads: nothing added
    assert "resumed" not in json.loads((tmp_path / "package-seed1" / "machine.json").read_text())
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    reproduce.record_machine(folder, 8)
    reproduce.record_machine(folder, 9)  # still 2 threads: nothing added
    record = json.loads((tmp_path / "package-seed1" / "machine.json").read_text())
    assert [(r["threads"], r["from_epoch"]) for r in record["resumed"]] == [(2, 9)]
    text = reproduce.machines_used([folder])
    assert "1 OpenMP thread(s) per run" in text and "package-seed1 from epoch 9 on " in text
    assert text.endswith(f"2 OpenMP thread(s), {record['resumed'][0]['date']}")
