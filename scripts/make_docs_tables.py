"""Write the docs' generated tables into the pages themselves, between marker lines, so the Markdown
read on the repository's web page shows them as the site does (no include directive):

    <!-- generated: NAME (scripts/make_docs_tables.py) -->

    ...

    <!-- end generated: NAME -->

NAME is one of TABLES: the model zoo and feature levels (from the registry), the command line's
synopsis (from the real parser), the package's d2l run (results/d2l_fashion_mnist/history.json),
the published weight files (list_pretrained()) and the main job: its recipe, what it printed, its
minutes and machine (results/main-job/, the record of `bash scripts/main.sh`, written by
--record-main-job). --check also finds a main-job figure typed by hand outside those blocks.

    .venv/bin/python scripts/make_docs_tables.py           # rewrite the pages
    .venv/bin/python scripts/make_docs_tables.py --check   # exit 1, naming the table, where a page differs
    bash scripts/main.sh 2>&1 | tee /tmp/main.log
    .venv/bin/python scripts/make_docs_tables.py --record-main-job runs/main /tmp/main.log
"""
import argparse
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import gluon_googlenet  # noqa: E402,F401  (threads before MXNet)
from gluon_googlenet.base.book import BOOK_RUNS, REFERENCE_RUN  # noqa: E402

BOOK_AFTER_10 = BOOK_RUNS["printed"].test_acc
MAIN_JOB = os.path.join(ROOT, "results", "main-job")
MAIN_JOB_FILES = ("config.json", "history.json", "export-meta.json", "machine.json", "main.log")


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


def _modules():
    """(path relative to the package's parent, first line of its docstring) of every module, in order."""
    import ast
    rows = []
    for folder, dirs, files in os.walk(os.path.join(ROOT, "gluon_googlenet")):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")) and d != "names")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as handle:
                doc = ast.get_docstring(ast.parse(handle.read())) or ""
            first = " ".join(doc.split("\n\n")[0].split())
            first = first.split(". ")[0].rstrip(".")
            rows.append((os.path.relpath(path, ROOT), first[:88] + ("..." if len(first) > 88 else "")))
    return rows


def layout():
    """The package's modules, each with the first sentence of its docstring."""
    lines, shown = ["gluon_googlenet/"], set()
    for path, first in _modules():
        parts = path.split(os.sep)[1:]
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in shown:
                shown.add(folder)
                lines.append("  " * depth + parts[depth - 1] + "/")
        lines.append("  " * len(parts) + f"{parts[-1]:<20} {first}".rstrip())
    return "```text\n" + "\n".join(lines) + "\n```"


def rooms():
    """The import order of the layers and of the rooms inside them, as .importlinter states it."""
    import configparser
    parser = configparser.ConfigParser()
    parser.read(os.path.join(ROOT, ".importlinter"), encoding="utf-8")
    lines = []
    for section in parser.sections():
        contract = parser[section]
        if contract.get("type") != "layers":
            continue
        where = contract.get("containers", "gluon_googlenet").strip()
        lines.append(f"- `{where}`: {contract['name'].strip()}")
    return "\n".join(lines)


def untested():
    """Modules with no test file of their own (tests/<folder>/test_<module>.py)."""
    missing = []
    for path, _ in _modules():
        parts = path.split(os.sep)
        name = parts[-1][:-3]
        if name.startswith("_"):
            continue
        folder = parts[1] if len(parts) > 2 else ""
        if not os.path.exists(os.path.join(ROOT, "tests", folder, f"test_{name}.py")):
            missing.append(f"`{'/'.join(parts[1:])}`")
    return ", ".join(missing)


def _record(name):
    path = os.path.join(MAIN_JOB, name)
    with open(path, encoding="utf-8") as handle:
        return handle.read() if name.endswith(".log") else json.loads(handle.read())


def main_job_recipe():
    """What the main job trains, in words, from the recorded run's config.json."""
    from gluon_googlenet.viz.report import recipe_words
    return recipe_words(_record("config.json"))


def main_job_output():
    """The main job's closing lines, as it printed them (main.log of the record)."""
    log = _record("main.log").splitlines()
    start = max(i for i, line in enumerate(log) if line.startswith("main: test acc "))
    return "```text\n" + "\n".join(log[start:]) + "\n```"


def main_job_figures(chapter="docs/d2l-chapter.md"):
    """One sentence: accuracy of the exported model, minutes, epochs, machine, date (the record);
    ``chapter``: the d2l chapter page as the page holding the sentence links it."""
    from gluon_googlenet.viz.report import run_minutes
    history, meta, machine = _record("history.json"), _record("export-meta.json"), _record("machine.json")
    return (f"Recorded on {machine['date']}: test accuracy **{meta['test_acc']['graph']:.4f}** (the exported model, "
            f"as plain MXNet loads it, on the {meta['test_acc']['images']:,} test images) after "
            f"**{run_minutes(history):.1f} min** of training and testing ({len(history)} epochs) on a "
            f"{machine['cores']}-core {machine['isa']} ({machine['family_model']}), Python {machine['python']}; "
            f"the book's run: {BOOK_RUNS['printed'].test_acc} after 10 epochs on a GPU "
            f"([which run printed which figure]({chapter}#the-books-figures)).")


def fast_recipe():
    """The fast recipe's benchmark runs (benchmarks/fast_recipe-zen4.json, fast_recipe-long-zen4.json):
    each setting's test accuracy per seed, minutes of training and testing, the machine."""
    rows = ["| setting | command | test acc, seed 0 / 1 / 2 | minutes | epochs | machine |",
            "|---|---|---|---|---|---|"]
    commands = {"fast": "gluon-googlenet train --preset fast", "quick": "gluon-googlenet train --preset quick",
                "fast --no-whiten": "gluon-googlenet train --preset fast --epochs 20 --no-whiten"}
    names = {"fast": "the fast recipe (the main job)", "quick": "the book's recipe at 32x32",
             "fast --no-whiten": "the longer setting"}
    for name in ("fast_recipe-zen4.json", "fast_recipe-long-zen4.json"):
        with open(os.path.join(ROOT, "benchmarks", name), encoding="utf-8") as handle:
            record = json.load(handle)
        for preset in dict.fromkeys(run["preset"] for run in record["runs"]):
            runs = sorted((r for r in record["runs"] if r["preset"] == preset), key=lambda r: r["seed"])
            accs = " / ".join(f"{r['epochs'][-1]['test_acc']:.4f}" for r in runs)
            minutes = [r["epochs"][-1]["minutes"] for r in runs]
            spread = f"{min(minutes):.1f}" if len(runs) == 1 else f"{min(minutes):.1f}-{max(minutes):.1f}"
            rows.append(f"| {names[preset]} | `{commands[preset]}` | {accs} | {spread} | {len(runs[0]['epochs'])} | "
                        f"2-core {record['machine']['isa']} (`benchmarks/{name}`) |")
    return "\n".join(rows)


def fast_recipe_words():
    """The fast preset's recipe in words, from the preset itself (PRESETS['fast'])."""
    import dataclasses

    from gluon_googlenet.training.run.config import TrainConfig
    from gluon_googlenet.viz.report import recipe_words
    return recipe_words(dataclasses.asdict(TrainConfig.preset("fast")))


def main_job():
    """README's block: the recipe, the figures, the closing lines."""
    return f"{main_job_recipe()}\n\n{main_job_figures()}\n\n{main_job_output()}"


def main_job_page():
    """getting-started's block: as README's, linking from inside docs/."""
    return f"{main_job_recipe()}\n\n{main_job_figures('d2l-chapter.md')}\n\n{main_job_output()}"


TABLES = {"zoo": zoo, "features": features, "d2l_run": d2l_run, "cli": cli_synopsis, "weights": weight_files,
          "main_job": main_job, "main_job_page": main_job_page, "layout": layout, "rooms": rooms, "untested": untested,
          "fast_recipe": fast_recipe, "fast_recipe_words": fast_recipe_words}
PAGES = ("docs/model-zoo.md", "docs/using-the-nets.md", "docs/d2l-chapter.md", "docs/cli.md", "docs/pretrained.md",
         "README.md", "docs/getting-started.md", "docs/contributing.md", "docs/fast-recipe.md")
# Pages read first, whose main-job figures must come from the record: none typed outside a block.
FIGURE_PAGES = ("README.md", "docs/getting-started.md", "docs/index.md", "docs/fast-recipe.md")
FIGURE = re.compile(r"\b0\.\d{3,4}\b|\b\d+(?:\.\d+)? ?min(?:utes)?\b")
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


def typed_figures(text):
    """Accuracies and minutes in ``text`` outside the generated blocks, but the book's own figures."""
    outside = BLOCK.sub("", text)
    allowed = {f"{run.test_acc}" for run in BOOK_RUNS.values()}
    return [figure for figure in FIGURE.findall(outside) if figure not in allowed]


def main_job_paragraphs_with_figures(text):
    """Paragraphs outside the generated blocks that speak of the main job and carry a figure (but
    the book's): on any page, the main job's figures come from its record."""
    outside = BLOCK.sub("", text)
    allowed = {f"{run.test_acc}" for run in BOOK_RUNS.values()}
    found = []
    for paragraph in outside.split("\n\n"):
        figures = [f for f in FIGURE.findall(paragraph) if f not in allowed]
        if figures and re.search(r"main job|main\.sh", paragraph, re.I):
            found.append(", ".join(figures))
    return found


def record_main_job(run_dir, log_file):
    """Copy a main job's run (config, history, export meta) and its printed output into results/main-job/,
    with the machine it ran on."""
    import glob
    import shutil
    import time

    from gluon_googlenet.base.cpu import cpu_info
    os.makedirs(MAIN_JOB, exist_ok=True)
    for name in ("config.json", "history.json"):
        shutil.copy(os.path.join(run_dir, name), os.path.join(MAIN_JOB, name))
    meta, = glob.glob(os.path.join(run_dir, "*-meta.json"))
    shutil.copy(meta, os.path.join(MAIN_JOB, "export-meta.json"))
    with open(log_file, encoding="utf-8") as handle:  # the progress bars' carriage returns left out
        lines = [line.rsplit("\r", 1)[-1] for line in handle.read().splitlines()]
    with open(os.path.join(MAIN_JOB, "main.log"), "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    info = cpu_info()
    fields = {}
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    machine = {"date": time.strftime("%Y-%m-%d"), "isa": info.describe(), "cores": os.cpu_count(),
               "family_model": f"family {fields.get('cpu family', '?')}, model {fields.get('model', '?')}",
               "python": sys.version.split()[0]}
    with open(os.path.join(MAIN_JOB, "machine.json"), "w", encoding="utf-8") as handle:
        json.dump(machine, handle, indent=2)
        handle.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 where a page differs")
    parser.add_argument("--record-main-job", nargs=2, metavar=("RUN_DIR", "LOG"),
                        help="record a run of scripts/main.sh (its folder, its printed output) in results/main-job/")
    args = parser.parse_args()
    if args.record_main_job:
        record_main_job(*args.record_main_job)
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
    typed = {page: typed_figures(open(os.path.join(ROOT, page), encoding="utf-8").read()) for page in FIGURE_PAGES}
    every_page = ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
    for page in every_page:  # elsewhere: no paragraph on the main job with a figure of its own
        with open(os.path.join(ROOT, page), encoding="utf-8") as handle:
            typed.setdefault(page, []).extend(main_job_paragraphs_with_figures(handle.read()))
    typed = {page: figures for page, figures in typed.items() if figures}
    if typed:
        print("figures typed by hand outside generated blocks (generate them from their record): "
              + "; ".join(f"{page}: {', '.join(figures)}" for page, figures in typed.items()), file=sys.stderr)
        return 1
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
