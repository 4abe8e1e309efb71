"""Layer summaries: rows, totals, mult-adds against published figures."""
from gluon_googlenet import get_model, get_spec
from gluon_googlenet.base.gluon_internals import is_hybridized
from gluon_googlenet.viz.summary import format_summary, layer_summary


def test_layer_summary_rows_and_totals():
    net = get_model("googlenet_d2l")
    summary = layer_summary(net, (1, 1, 96, 96))
    d2l = get_spec("googlenet_d2l").num_params
    assert summary.trainable_params == summary.total_params == d2l
    rows = {row.name: row for row in summary.rows}
    assert rows["b1.0"].kind == "Conv2D" and rows["b1.0"].output_shape == (1, 64, 48, 48)
    assert rows["b1.0"].params == 64 * 49 + 64
    assert rows["b3.1"].kind == "Inception" and rows["b3.1"].output_shape == (1, 480, 12, 12)
    assert rows["b3.0.p2.1"].output_shape == (1, 128, 12, 12)
    assert sum(r.params for r in summary.rows if r.depth == 0) == d2l
    text = format_summary(summary)
    assert f"Total params: {d2l:,}" in text and "Inception" in text
    shallow = layer_summary(net, (1, 1, 96, 96), max_depth=0)
    assert [r.name for r in shallow.rows] == ["b1", "b2", "b3", "b4", "b5", "head"]


def test_summary_leaves_a_hybridized_net_hybridized():
    net = get_model("googlenet_d2l")
    net.initialize()
    net.hybridize()
    layer_summary(net, (1, 1, 32, 32))
    assert is_hybridized(net)


def test_mult_adds_match_the_published_figures():
    d2l = layer_summary(get_model("googlenet_d2l"), (1, 1, 96, 96))
    assert round(d2l.mult_adds / 1e9, 3) == 0.276
    assert "Total mult-adds (G): 0.276" in format_summary(d2l)
    # torchvision lists 1.498 G for its GoogLeNet, the 3x3 variant
    paper3 = layer_summary(get_model("googlenet", k3=3), (1, 3, 224, 224))
    assert round(paper3.mult_adds / 1e9, 3) == 1.498


def test_mult_adds_of_one_conv_and_the_row_sums():
    summary = layer_summary(get_model("googlenet_d2l"), (2, 1, 96, 96))
    rows = {r.name: r for r in summary.rows}
    assert rows["b1.0"].mult_adds == 1 * 7 * 7 * (2 * 64 * 48 * 48)  # kernel volume x outputs
    assert rows["head.0"].mult_adds == 2 * 1024 * 10
    assert sum(r.mult_adds for r in summary.rows if r.depth == 0) == summary.mult_adds
