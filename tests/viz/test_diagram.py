"""Network diagrams through Graphviz, and the error without it."""
from gluon_googlenet import get_model
from gluon_googlenet.base.errors import DependencyError
from gluon_googlenet.viz.diagram import draw_network

import pytest


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
