"""Write the docs' generated tables into the pages themselves, between marker lines, so the Markdown
read on the repository's web page shows them as the site does (no include directive):

    <!-- generated: NAME (scripts/make_docs_tables.py) -->

    ...

    <!-- end generated: NAME -->

NAME is one of TABLES: the model zoo and feature levels (from the registry), the command line's
synopsis (from the real parser), the package's d2l run (results/d2l_fashion_mnist/history.json)
and the published weight files (list_pretrained()).

    .venv/bin/python scripts/make_docs_tables.py           # rewrite the pages
    .venv/bin/python scripts/make_docs_tables.py --check   # exit 1, naming the table, where a page differs
"""
import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import gluon_googlenet  # noqa: E402,F401  (threads before MXNet)

# The d2l MXNet article's reference run (test accuracy after epochs 1-5) and the book's 10-epoch figure.
REFERENCE_RUN, BOOK_AFTER_10 = (0.511, 0.782, 0.847, 0.870, 0.875), 0.886


def zoo():
    """The registry's table, as `gluon-googlenet zoo --markdown` prints it."""
    from gluon_googlenet.viz.zoo import format_zoo, zoo_rows
    return format_zoo(zoo_rows(), markdown=True)


def features():
    """Every model's feature levels, as `gluon-googlenet zoo --features` prints them."""
    from gluon_googlenet.viz.zoo import format_features
    return format_features()


def d2l_run():
    """The package's full d2l run beside the reference run."""
    with open(os.path.join(ROOT, "results", "d2l_fashion_mnist", "history.json"), encoding="utf-8") as handle:
        history = json.load(handle)
    epochs = [h["epoch"] for h in history]
    reference = [f"{v:.3f}" for v in REFERENCE_RUN] + [""] * (len(epochs) - len(REFERENCE_RUN))
    reference[-1] = f"{BOOK_AFTER_10:.3f} (book)" if len(epochs) == 10 else reference[-1]
    return ("| epoch | " + " | ".join(str(e) for e in epochs) + " |\n|---|" + "---|" * len(epochs) + "\n"
            + "| test acc, this package | " + " | ".join(f"{h['test_acc']:.3f}" for h in history) + " |\n"
            + "| test acc, d2l reference run | " + " | ".join(reference) + " |")


def cli_synopsis():
    """Each verb's usage line, from the real parser."""
    from gluon_googlenet.cli.parser import build_parser
    parser = build_parser()
    verbs = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")  # noqa: SLF001
    lines = []
    for name, sub in verbs.choices.items():
        usage = " ".join(sub.format_usage().replace("usage: ", "").split())
        lines.append(f"| `{name}` | {sub.description or ''} | `{usage}` |".replace("\n", " "))
    return "| verb | what | usage |\n|---|---|---|\n" + "\n".join(lines)


def weight_files():
    """The published weight files that load: model, source, file, input, preprocessing."""
    from gluon_googlenet import list_pretrained
    rows = ["| model | source | file or id | input | preprocessing |", "|---|---|---|---|---|"]
    for entry in list_pretrained():
        rows.append("| " + " | ".join(str(value) for value in entry.table_row()) + " |")
    return "\n".join(rows)


TABLES = {"zoo": zoo, "features": features, "d2l_run": d2l_run, "cli": cli_synopsis, "weights": weight_files}
PAGES = ("docs/model-zoo.md", "docs/using-the-nets.md", "docs/d2l-chapter.md", "docs/cli.md", "docs/pretrained.md")
BLOCK = re.compile(r"(<!-- generated: (\w+) \(scripts/make_docs_tables.py\) -->\n\n)(.*?)"
                   r"(\n\n<!-- end generated: \2 -->)", re.S)


def refreshed(text, made):
    """``text`` with each generated block's body made anew (``made``: NAME -> text, filled as used)."""
    def body(match):
        name = match.group(2)
        if name not in made:
            made[name] = TABLES[name]()
        return match.group(1) + made[name] + match.group(4)
    return BLOCK.sub(body, text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 where a page differs")
    args = parser.parse_args()
    made, stale = {}, []
    for page in PAGES:
        path = os.path.join(ROOT, page)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        new = refreshed(text, made)
        if new != text:
            stale.append(page)
            if not args.check:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(new)
    missing = sorted(set(TABLES) - set(made))
    if missing:
        print(f"no page has a block for {', '.join(missing)}", file=sys.stderr)
        return 1
    if stale and args.check:
        print(f"generated tables differ from the code in {', '.join(stale)}: run "
              "python scripts/make_docs_tables.py", file=sys.stderr)
        return 1
    for page in stale:
        print(f"rewrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
