"""The model zoo as a table: parameters, mult-adds, default and minimum input of every model."""
from collections import namedtuple

from .models import get_model, get_spec, list_models
from .summary import layer_summary

ZooRow = namedtuple("ZooRow", "name params mult_adds input_size min_size description")


def zoo_rows(names=None):
    """One ZooRow per registered model (or per name given), measured at its default input."""
    rows = []
    for name in names or list_models():
        spec = get_spec(name)
        net = get_model(name)
        summary = layer_summary(net, (1,) + spec.input_size)
        rows.append(ZooRow(name, summary.trainable_params, summary.mult_adds, spec.input_size,
                           net.min_size, spec.description))
    return rows


def format_zoo(rows, markdown=False):
    """The rows as a plain-text table, or as a Markdown table for the README."""
    header = ("model", "params", "mult-adds (G)", "input", "min side", "description")
    table = [(r.name, f"{r.params:,}", f"{r.mult_adds / 1e9:.3f}", "x".join(map(str, r.input_size)),
              str(r.min_size), r.description) for r in rows]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(f"`{c}`" if i == 0 else c for i, c in enumerate(row)) + " |"
                  for row in table]
        return "\n".join(lines)
    widths = [max(len(str(row[i])) for row in table + [header]) for i in range(len(header) - 1)]
    fmt = "  ".join(f"{{:<{w}}}" if i in (0, 3) else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*row[:-1]) + "  " + row[-1] for row in [header] + table)
