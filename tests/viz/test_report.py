"""The HTML run report: errors, and a real page opened offline in Chromium."""
import base64
import io
import json
import os
import re
import subprocess

from gluon_googlenet import cli, get_model, list_models
from gluon_googlenet.viz.report import build_report, run_stolen

import pytest
from conftest import cheap_side, find_chromium, make_idx_dir


def test_report_without_history_is_an_error(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 1
    assert "has no history.json" in capsys.readouterr().err


def test_run_stolen_weights_each_epochs_share_by_its_seconds():
    history = [{"train_seconds": 100.0, "eval_seconds": 20.0, "cpu_stolen": 0.3},
               {"train_seconds": 350.0, "eval_seconds": 10.0, "cpu_stolen": 0.1},
               {"train_seconds": 50.0, "eval_seconds": 0.0, "cpu_stolen": None},  # unknown: left out
               {"train_seconds": 60.0}]  # a record from before the figure existed
    assert run_stolen(history) == pytest.approx((0.3 * 120 + 0.1 * 360) / 480)
    assert run_stolen(history[2:]) is None


@pytest.mark.slow
def test_report_opens_offline_in_chromium(small_run, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium not installed")
    page = build_report(str(small_run))
    history = json.loads((small_run / "history.json").read_text())
    html = open(page, encoding="utf-8").read()
    assert "http://" not in html and "https://" not in html  # nothing to fetch: opens offline
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom",
         "file://" + os.path.abspath(page)], capture_output=True, text=True, timeout=120).stdout
    status = re.search(r'id="figures-status" data-loaded="(\d+)" data-total="(\d+)"', dom)
    assert status and status.group(1) == status.group(2) == "4"  # curves, confusion, mistakes, Grad-CAM
    assert 'id="gradcam"' in dom and "Where the net looked (Grad-CAM at b4.4)" in dom  # 4e: 2x2 at 32x32
    final = re.search(r'id="final-test-acc">([0-9.]+)<', dom).group(1)
    best = re.search(r'id="best-test-acc">([0-9.]+)<', dom).group(1)
    assert float(final) == pytest.approx(history[-1]["test_acc"], abs=5e-5)
    assert float(best) == pytest.approx(max(h["test_acc"] for h in history), abs=5e-5)
    minutes = re.search(r'id="minutes">([0-9.]+)<', dom).group(1)
    spent = sum(h["train_seconds"] + h["eval_seconds"] for h in history) / 60
    assert float(minutes) == pytest.approx(spent, abs=0.05)
    checkpoint_acc = re.search(r'id="checkpoint-acc">([0-9.]+)<', dom).group(1)
    assert float(checkpoint_acc) == pytest.approx(float(best), abs=5e-5)  # best.ckpt, same test set
    for name in ("t-shirt", "ankle boot", "misclassified", "OMP_NUM_THREADS"):
        assert name in dom


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_every_model_gets_its_cam_picture_and_the_reports_gradcam_figure(name, tmp_path, capsys):
    """One short run per model on small IDX files, at a cheap input size; then `cam` on its
    checkpoint and the report's pictures, each decoded."""
    from PIL import Image
    side = cheap_side(name)
    data = make_idx_dir(tmp_path / "data", n_train=16, n_test=8)
    run = tmp_path / "run"
    assert cli.main(["train", "--model", name, "--data-dir", data, "--no-verify", "--resize", str(side),
                     "--epochs", "1", "--batch-size", "8", "--out", str(run)]) == 0
    out = str(tmp_path / "cam.png")
    layer = get_model(name).stage_names[1]
    capsys.readouterr()
    assert cli.main(["cam", str(run / "best.ckpt"), "--image", "test:2", "--layer", layer, "--data-dir", data,
                     "--no-verify", "-o", out]) == 0
    assert capsys.readouterr().out.strip() == out
    assert Image.open(out).size[0] > 200
    html = open(build_report(str(run), data_dir=data), encoding="utf-8").read()
    figures = dict(re.findall(r'<img id="(\w+)"[^>]* src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html))
    assert sorted(figures) == ["confusion", "curves", "gradcam", "mistakes"]
    for encoded in figures.values():
        Image.open(io.BytesIO(base64.b64decode(encoded))).verify()
    assert re.search(r"Where the net looked \(Grad-CAM at [\w.]+\)", html)
    assert cli.main(["cam", str(run / "best.ckpt"), "--image", "test:2", "--data-dir", data, "-o", out]) == 0
