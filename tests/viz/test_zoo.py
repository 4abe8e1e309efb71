"""The zoo table: every model with its numbers (the site's zoo and feature tables are generated from it)."""

from gluon_googlenet import get_model, get_spec, list_models
from gluon_googlenet.viz.summary import count_params
from gluon_googlenet.viz.zoo import format_zoo, zoo_rows


def test_zoo_lists_every_model_with_its_numbers():
    rows = zoo_rows()
    assert [r.name for r in rows] == list_models()
    by_name = {r.name: r for r in rows}
    d2l = get_spec("googlenet_d2l")
    assert by_name["googlenet_d2l"].num_classes == 10
    assert by_name["inception_v4"].min_size == 75 and by_name["inception_v4"].input_size == (3, 299, 299)
    assert by_name["mnist_inception"].min_size == 16 and by_name["mnist_resnet"].min_size == 4
    assert all(r.params == count_params(get_model(r.name)) and r.mult_adds > 0 for r in rows)
    markdown = format_zoo(rows, markdown=True).splitlines()
    assert markdown[0].startswith("| model | params | mult-adds (G)") and len(markdown) == len(rows) + 2
    row = markdown[[r.name for r in rows].index("googlenet_d2l") + 2]
    assert f"| `googlenet_d2l` | {d2l.num_params:,} | 0.276 | 1x96x96 | 10 | 1 |" in row


def test_a_model_registered_without_its_facts_is_measured():
    """zoo_rows copies the registry's facts where it has them (tests/nn/test_registry.py measures
    those) and measures a built net where it has none."""
    from gluon_googlenet.nn import registry
    from gluon_googlenet.nn.mnist import mnist_resnet
    registry.register_model("zoo_test_resnet", (1, 20, 20), 10, "mnist_resnet at 20x20")(
        lambda **kw: mnist_resnet(**dict(kw, input_size=kw.get("input_size", 20))))
    try:
        row = zoo_rows(["zoo_test_resnet"])[0]
        smaller_dense = 10 * (980 - 500)  # Dense 20x7x7 -> 10 at 28, 20x5x5 -> 10 at 20
        assert row.params == count_params(mnist_resnet(input_size=20)) == \
            get_spec("mnist_resnet").num_params - smaller_dense
        assert row.min_size == 4 and row.mult_adds > 0
    finally:
        del registry._REGISTRY["zoo_test_resnet"]


