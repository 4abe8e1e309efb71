"""The documentation cannot drift: the site builds with warnings as errors, every Python snippet
of the README and the pages runs, every command line they show parses with the real CLI parser,
the README's links and stage table hold, and Chromium opens the built pages without errors.

Screenshots of the pages Chromium opened: docs/_build/screenshots/ (git-ignored)."""
import glob
import json
import os
import re
import shlex
import subprocess
import sys

import pytest
from conftest import D2L_SHAPES, ROOT, find_chromium

DOCS = os.path.join(ROOT, "docs")
README = os.path.join(ROOT, "README.md")
PAGES = sorted(glob.glob(os.path.join(DOCS, "*.md")))
SCREENSHOTS = os.path.join(DOCS, "_build", "screenshots")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(path, kinds):
    """The fenced blocks of ``path`` whose language is one of ``kinds``."""
    text = open(path, encoding="utf-8").read()
    return [body for kind, body in FENCE.findall(text) if kind in kinds]


def command_lines(path):
    """Lines of shell and text blocks that run the CLI (``gluon-googlenet ...``, ``python -m
    gluon_googlenet ...``), as argument lists after the program name; output lines are left out."""
    found = []
    command = re.compile(r"^(\$ )?([A-Z_]+=\S+ )*(\.venv/bin/)?(gluon-googlenet|python -m gluon_googlenet)( |$)")
    for body in blocks(path, ("bash", "text", "console", "sh", "")):
        for line in body.replace("\\\n", " ").splitlines():  # continued lines joined
            line = line.strip()
            if not command.match(line):
                continue
            words = shlex.split(line.removeprefix("$ ").split(" #")[0])
            while re.match(r"^[A-Z_]+=", words[0]):  # VAR=value before the command
                words = words[1:]
            rest = words[1:] if words[0].endswith("gluon-googlenet") else words[3:]
            if rest and not rest[0].endswith(":"):  # "gluon-googlenet train: error: ..." is output
                found.append((line, rest))
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory, executed_notebook):
    """The site built as scripts/docs.sh builds it, warnings as errors; its notebook page shows the
    notebook the session executed once (conftest.executed_notebook) instead of running it again."""
    import nbformat
    out = tmp_path_factory.mktemp("site")
    executed = out.parent / "googlenet_d2l.executed.ipynb"
    nbformat.write(executed_notebook[0], str(executed))
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", DOCS,
                             str(out)], capture_output=True, text=True, timeout=1500, cwd=ROOT,
                            env=dict(os.environ, GLUON_GOOGLENET_EXECUTED_NOTEBOOK=str(executed)))
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return out


@pytest.mark.slow
def test_the_site_builds_without_a_warning_and_has_every_page(site):
    for page in ("index", "getting-started", "d2l-chapter", "using-the-nets", "pretrained", "training",
                 "fast-recipe", "model-zoo", "speed", "reliability", "api", "cli",
                 "contributing",
                 "_generated/googlenet_d2l"):
        assert os.path.isfile(site / f"{page}.html"), page
    getting_started = (site / "getting-started.html").read_text()  # the main job, from its record
    with open(os.path.join(MAIN_JOB, "export-meta.json"), encoding="utf-8") as handle:
        assert f"{json.load(handle)['test_acc']['graph']:.4f}" in getting_started
    cli_text = re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", (site / "cli.html").read_text()))
    from gluon_googlenet.cli.parser import VERBS
    for verb in VERBS:  # generated from the parser: every verb's usage line
        assert f"gluon-googlenet{verb.name}[-h]" in cli_text, verb.name
    assert "--scheduler-host" in cli_text and "--precision" in cli_text
    notebook = (site / "_generated" / "googlenet_d2l.html").read_text()
    assert notebook.count("<img") >= 3 and "(1, 1024, 1, 1)" in notebook  # executed, figures and shapes
    from gluon_googlenet import list_models
    zoo, nets = (site / "model-zoo.html").read_text(), (site / "using-the-nets.html").read_text()
    for name in list_models():  # the zoo and feature tables, generated from the registry
        assert f"<code class=\"docutils literal notranslate\"><span class=\"pre\">{name}</span>" in zoo, name
        assert name in nets, name
    api = (site / "api.html").read_text()
    for name in ("gluon_googlenet.training.launch.launcher.launch", "gluon_googlenet.weights.fast.bfloat16",
                 "gluon_googlenet.nn.registry.get_model"):
        assert f'id="{name}"' in api or name.rsplit(".", 1)[1] in api, name


WITH_SNIPPETS = [p for p in [README] + PAGES if blocks(p, ("python",))]


def test_the_readme_and_the_api_pages_have_snippets():
    assert README in WITH_SNIPPETS and os.path.join(DOCS, "using-the-nets.md") in WITH_SNIPPETS


@pytest.mark.slow
@pytest.mark.parametrize("path", WITH_SNIPPETS, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_python_snippet_runs(path, tmp_path):
    """A file's Python blocks run in order, as one script, in an empty folder."""
    code = "\n\n".join(blocks(path, ("python",)))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                            cwd=tmp_path, env=dict(os.environ, MPLBACKEND="Agg"))
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize("path", [README] + PAGES, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_command_line_shown_parses(path):
    from gluon_googlenet.cli.parser import build_parser
    parser = build_parser()
    for line, words in command_lines(path):
        try:
            parser.parse_args(words)
        except SystemExit as stop:
            pytest.fail(f"{os.path.basename(path)}: `{line}` does not parse (exit {stop.code})")


def test_a_wrong_flag_in_a_command_line_would_fail(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```bash\ngluon-googlenet train --epochz 3\n```\n")
    (line, words), = command_lines(str(page))
    from gluon_googlenet.cli.parser import build_parser
    with pytest.raises(SystemExit):
        build_parser().parse_args(words)


def test_the_readme_is_short_and_its_links_and_stage_table_hold():
    text = open(README, encoding="utf-8").read()
    assert len(text.splitlines()) <= 150
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
        if not target.startswith(("http://", "https://")):
            assert os.path.exists(os.path.join(ROOT, target)), target
    shapes = blocks(README, ("text",))[0].strip().splitlines()
    assert shapes == [f"{name} {shape}" for name, shape in D2L_SHAPES]


@pytest.mark.slow
@pytest.mark.parametrize("page", ["index", "cli", "_generated/googlenet_d2l"])
def test_chromium_opens_the_page_without_errors_and_every_image_loads(site, page, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("chromium not installed")
    url = "file://" + str(site / f"{page}.html")
    checker = tmp_path / "check.html"
    checker.write_text(
        f'<iframe id="f" src="{url}" style="width:1280px;height:900px"></iframe><pre id="out">pending</pre>'
        "<script>f.onload = () => setTimeout(() => { const d = f.contentDocument; const imgs = [...d.images];"
        " out.textContent = JSON.stringify({total: imgs.length, title: d.title,"
        " bad: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)}); }, 2000);</script>")
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--allow-file-access-from-files", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
             "--v=0", "--virtual-time-budget=15000"]
    run = subprocess.run(flags + ["--dump-dom", "file://" + str(checker)], capture_output=True, text=True,
                         timeout=180)
    report = json.loads(re.search(r'<pre id="out">(.*?)</pre>', run.stdout, re.S).group(1).replace("&quot;", '"'))
    assert report["bad"] == [] and report["total"] >= {"index": 1, "cli": 0}.get(page, 3), report
    assert "gluon-googlenet" in report["title"]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert not [line for line in console if re.search(r"error|uncaught|failed", line, re.I)], console
    os.makedirs(SCREENSHOTS, exist_ok=True)
    shot = os.path.join(SCREENSHOTS, page.replace("/", "_") + ".png")
    subprocess.run(flags + ["--window-size=1280,1000", f"--screenshot={shot}", url], capture_output=True,
                   timeout=180)
    from PIL import Image
    assert Image.open(shot).size == (1280, 1000)
    print(f"screenshot: {shot}")


def test_the_generated_tables_in_the_pages_are_what_the_code_gives():
    """The zoo, feature levels, CLI synopsis, d2l run and weight-file tables are committed in the
    pages (the repository shows them, no include directive); they must be what the code makes now."""
    result = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "make_docs_tables.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    for page in PAGES:
        assert "{include} _generated/" not in open(page, encoding="utf-8").read(), page


MAIN_JOB = os.path.join(ROOT, "results", "main-job")


def test_the_main_job_record_is_of_the_main_job_as_it_is_today():
    """README and getting-started describe the main job from its record (results/main-job/); when the
    main job's recipe changes and the record is not made anew, the pages describe an old job: fail."""
    import dataclasses

    from gluon_googlenet.training.run.config import RUN_DEFINING, TrainConfig
    script = open(os.path.join(ROOT, "scripts", "main.sh"), encoding="utf-8").read()
    preset, = re.findall(r"gluon-googlenet train --preset (\w+) ", script)
    today = dataclasses.asdict(TrainConfig.preset(preset))
    with open(os.path.join(MAIN_JOB, "config.json"), encoding="utf-8") as handle:
        recorded = json.load(handle)
    changed = {k: (recorded.get(k), today[k]) for k in RUN_DEFINING if recorded.get(k, today[k]) != today[k]}
    assert not changed, (f"the main job is now --preset {preset} with other settings than its record "
                         f"(recorded, today): {changed}; run it and record it (scripts/make_docs_tables.py)")
    with open(os.path.join(MAIN_JOB, "main.log"), encoding="utf-8") as handle:
        log = handle.read()
    with open(os.path.join(MAIN_JOB, "export-meta.json"), encoding="utf-8") as handle:
        meta = json.load(handle)
    assert f"main: test acc {meta['test_acc']['graph']:.4f} (the exported model's" in log


def test_a_figure_typed_by_hand_or_a_stale_block_fails_the_check(tmp_path):
    """The check the suite runs finds a main-job figure typed into a first page's prose, and a
    generated block that no longer says what its record says."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    try:
        import make_docs_tables as tables
    finally:
        sys.path.pop(0)
    assert tables.typed_figures("The main job reaches 0.9114 after 4.7 min.") == ["0.9114", "4.7 min"]
    assert tables.typed_figures("The book printed 0.904 after 10 epochs.") == []  # the book's own, from base/book.py
    assert tables.main_job_paragraphs_with_figures("The main job takes 4.7 min.\n\nA benchmark: 0.9321.") == ["4.7 min"]
    block = "<!-- generated: main_job (scripts/make_docs_tables.py) -->\n\nold text\n\n<!-- end generated: main_job -->"
    assert tables.refreshed(block, {}) != block
    assert tables.typed_figures(tables.refreshed(block, {})) == []
