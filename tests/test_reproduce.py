"""results/reproduce.py on a slice: both loops, the table, and a resume that reruns nothing done."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(tmp_path, *args):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "results", "reproduce.py"), "--limit", "128",
                             "--resize", "32", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs"),
                             *args], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


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
    assert "seed" not in third.split("(a) and (b)")[0]  # nothing trained
    data = json.loads((tmp_path / "out" / "reproduction.json").read_text())
    assert sorted(data["runs"]["book"]) == ["0", "1"] and len(data["runs"]["package"]["0"]) == 2
