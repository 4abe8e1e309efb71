"""Mult-adds, the zoo table, diagrams, branch feature maps and the run report."""
import json
import os
import re
import subprocess

import mxnet as mx
import numpy as np
import pytest

from gluon_googlenet import cli, get_model, list_models
from gluon_googlenet.diagram import draw_network
from gluon_googlenet.errors import ConfigError, DependencyError, InputShapeError
from gluon_googlenet.featuremaps import branch_activations, mixed_blocks
from gluon_googlenet.report import build_report
from gluon_googlenet.summary import count_params, format_summary, layer_summary
from gluon_googlenet.zoo import format_zoo, zoo_rows

from conftest import find_chromium


def test_mult_adds_match_the_published_figures():
    d2l = layer_summary(get_model("googlenet_d2l"), (1, 1, 96, 96))
    assert round(d2l.mult_adds / 1e9, 3) == 0.276
    assert "Total mult-adds (G): 0.276" in format_summary(d2l)
    # torchvision lists 1.498 G for its GoogLeNet, the 3x3 variant
    paper3 = layer_summary(get_model("googlenet", five_by_five=False), (1, 3, 224, 224))
    assert round(paper3.mult_adds / 1e9, 3) == 1.498


def test_mult_adds_of_one_conv_and_the_row_sums():
    summary = layer_summary(get_model("googlenet_d2l"), (2, 1, 96, 96))
    rows = {r.name: r for r in summary.rows}
    assert rows["b1.0"].mult_adds == 1 * 7 * 7 * (2 * 64 * 48 * 48)  # kernel volume x outputs
    assert rows["head.0"].mult_adds == 2 * 1024 * 10
    assert sum(r.mult_adds for r in summary.rows if r.depth == 0) == summary.mult_adds


def test_zoo_lists_every_model_with_its_numbers():
    rows = zoo_rows()
    assert [r.name for r in rows] == list_models()
    by_name = {r.name: r for r in rows}
    assert by_name["googlenet_d2l"].params == 5_977_530 and by_name["googlenet_d2l"].classes == 10
    assert by_name["inception_v4"].min_size == 75 and by_name["inception_v4"].input_size == (3, 299, 299)
    assert by_name["mnist_inception"].min_size == 16 and by_name["mnist_resnet"].min_size == 4
    assert all(r.params == count_params(get_model(r.name)) and r.mult_adds > 0 for r in rows)
    markdown = format_zoo(rows, markdown=True).splitlines()
    assert markdown[0].startswith("| model | params | mult-adds (G)") and len(markdown) == len(rows) + 2
    assert "| `googlenet_d2l` | 5,977,530 | 0.276 | 1x96x96 | 10 | 1 |" in markdown[[r.name for r in rows].index("googlenet_d2l") + 2]


def test_zoo_command(capsys):
    assert cli.main(["zoo", "googlenet_d2l", "mnist_resnet", "--markdown"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4 and "`mnist_resnet` | 14,570 |" in out[3]
    assert cli.main(["zoo", "nope"]) == 1
    assert "unknown model 'nope'" in capsys.readouterr().err


def test_stage_diagram_and_expanded_diagram(tmp_path):
    net = get_model("googlenet_d2l")
    net.initialize()
    svg = draw_network(net, (1, 1, 96, 96), str(tmp_path / "stages.svg"))
    text = open(svg).read()
    assert "b3" in text and "2 x Inception, MaxPool 3/2" in text and "480 x 6 x 6" in text
    assert "Convolution" not in text
    full = open(draw_network(net, (1, 1, 96, 96), str(tmp_path / "full.svg"), expanded=True)).read()
    assert full.count("Convolution") == 57  # 3 stem convs + 9 Inception blocks x 6
    png = draw_network(net, (1, 1, 96, 96), str(tmp_path / "stages.png"))
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_diagram_without_dot_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    net = get_model("mnist_resnet")
    net.initialize()
    with pytest.raises(DependencyError, match="apt-get install graphviz"):
        draw_network(net, (1, 1, 28, 28), str(tmp_path / "x.svg"))


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


def test_branch_activations_have_each_branch_shape():
    net = get_model("googlenet_d2l")
    net.initialize(mx.init.Xavier())
    maps = branch_activations(net, np.zeros((1, 96, 96), np.uint8) + 128, "b3.1")
    assert [(label, m.shape) for label, m in maps] == [
        ("p1: 1x1", (128, 12, 12)), ("p2: 1x1 -> 3x3", (192, 12, 12)),
        ("p3: 1x1 -> 5x5", (96, 12, 12)), ("p4: max 3x3 -> 1x1", (64, 12, 12))]
    assert mixed_blocks(net)[:3] == ["b3.0", "b3.1", "b4.0"]
    with pytest.raises(ConfigError, match="no block 'b9.0'.*Inception blocks: b3.0"):
        branch_activations(net, np.zeros((1, 96, 96), np.uint8), "b9.0")
    with pytest.raises(InputShapeError, match=r"uint8 \[1, H, W\]"):
        branch_activations(net, np.zeros((3, 96, 96), np.uint8), "b3.1")


def test_branches_command(small_run, tmp_path, capsys):
    out = str(tmp_path / "maps.png")
    assert cli.main(["branches", str(small_run / "best.ckpt"), "--block", "b4.2", "--image", "test:3",
                     "-o", out]) == 0
    assert open(out, "rb").read(4) == b"\x89PNG"
    assert cli.main(["branches", str(small_run / "best.ckpt"), "--block", "b4", "--image", "test:3",
                     "-o", out]) == 1
    assert "not an Inception block" in capsys.readouterr().err


def test_report_without_history_is_an_error(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 1
    assert "has no history.json" in capsys.readouterr().err


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
    assert status and status.group(1) == status.group(2) == "3"
    final = re.search(r'id="final-test-acc">([0-9.]+)<', dom).group(1)
    best = re.search(r'id="best-test-acc">([0-9.]+)<', dom).group(1)
    assert float(final) == pytest.approx(history[-1]["test_acc"], abs=5e-5)
    assert float(best) == pytest.approx(max(h["test_acc"] for h in history), abs=5e-5)
    checkpoint_acc = re.search(r'id="checkpoint-acc">([0-9.]+)<', dom).group(1)
    assert float(checkpoint_acc) == pytest.approx(float(best), abs=5e-5)  # best.ckpt, same test set
    for name in ("t-shirt", "ankle boot", "misclassified", "OMP_NUM_THREADS"):
        assert name in dom
