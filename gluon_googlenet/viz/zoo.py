"""The model zoo as a table: parameters, mult-adds, default and smallest input of every model.

The figures are the registry's facts (``ModelSpec``); ``measure`` builds a model and measures
them, which the tests compare with the registry and the README's table.
"""
from collections import namedtuple

from ..nn.registry import build_model, get_spec, list_models
from .summary import layer_summary

ZooRow = namedtuple("ZooRow", "name params mult_adds input_size num_classes min_size description")


def measure(name):
    """(trainable parameters, mult-adds at the default input, smallest input side) of ``name``,
    from the built net."""
    spec = get_spec(name)
    net = build_model(name)
    summary = layer_summary(net, (1,) + spec.input_size)
    return summary.trainable_params, summary.mult_adds, net.min_size


def zoo_rows(names=None):
    """One ZooRow per registered model (or per name given): the registry's facts, measured
    for models registered without them."""
    rows = []
    for name in names or list_models():
        spec = get_spec(name)
        facts = (spec.num_params, spec.mult_adds, spec.min_size)
        if None in facts:
            facts = measure(name)
        rows.append(ZooRow(name, facts[0], facts[1], spec.input_size, spec.num_classes, facts[2],
                           spec.description))
    return rows


def format_zoo(rows, markdown=False):
    """The rows as a plain-text table, or as the Markdown table in the README."""
    header = ("model", "params", "mult-adds (G)", "input", "classes", "min side", "description")
    table = [(r.name, f"{r.params:,}", f"{r.mult_adds / 1e9:.3f}", "x".join(map(str, r.input_size)),
              str(r.num_classes), str(r.min_size), r.description) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(f"`{c}`" if i == 0 else c for i, c in enumerate(row)) + " |"
                  for row in table]
        return "\n".join(lines)
    widths = [max(len(str(row[i])) for row in table + [header]) for i in range(len(header) - 1)]
    fmt = "  ".join(f"{{:<{w}}}" if i in (0, 3) else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*row[:-1]) + "  " + row[-1] for row in [header] + table)


def format_features(names=None):
    """Markdown table of every model's feature levels (features_only / feature_info): channels,
    reduction, name and layer of each level, and num_features (what forward_features gives)."""
    lines = ["| model | levels: channels / reduction name (layer) | num_features |", "|---|---|---|"]
    for name in names or list_models():
        net = build_model(name)
        levels = ", ".join(f"{i.num_chs}/{i.reduction} {i.name} (`{i.module}`)" for i in net.feature_info)
        lines.append(f"| `{name}` | {levels} | {net.num_features:,} |")
    return "\n".join(lines)
