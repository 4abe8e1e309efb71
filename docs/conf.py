"""Sphinx configuration of the gluon-googlenet site: Markdown pages (MyST), the d2l notebook
executed at build time, and what is generated here from the code (the API page, the stage picture).
The tables made from the code (zoo, feature levels, CLI synopsis, the d2l run, the weight files) are
committed in the pages themselves by ``scripts/make_docs_tables.py``, so the repository shows them too.

Build: ``bash scripts/docs.sh`` (or ``sphinx-build -W --keep-going -b html docs docs/_build/html``).
"""
import importlib
import os
import pkgutil
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GENERATED = os.path.join(HERE, "_generated")
sys.path.insert(0, ROOT)

import gluon_googlenet  # noqa: E402  (sets OMP_NUM_THREADS before MXNet loads)

project = "gluon-googlenet"
author = "gluon-googlenet developers"
release = version = gluon_googlenet.__version__
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinxarg.ext"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
html_theme = "furo"
html_title = f"gluon-googlenet {release}"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# The notebook runs at its stored quick settings while the site builds (myst-nb, nbclient), unless
# GLUON_GOOGLENET_EXECUTED_NOTEBOOK names a copy already executed (the tests run it once a session).
EXECUTED_NOTEBOOK = os.environ.get("GLUON_GOOGLENET_EXECUTED_NOTEBOOK")
nb_execution_mode = "off" if EXECUTED_NOTEBOOK else "force"
nb_execution_timeout = 1200
nb_execution_in_temp = True  # its run folder must not meet the last build's (a run is never replaced)
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True


def _public_modules():
    """Every module of the package whose name has no leading underscore, in order."""
    names = ["gluon_googlenet"]
    for info in pkgutil.walk_packages(gluon_googlenet.__path__, "gluon_googlenet."):
        if not any(part.startswith("_") for part in info.name.split(".")) and not info.name.endswith("__main__"):
            names.append(info.name)
    return sorted(names)


def _api_page():
    """api.md: one section per public module, autodoc'd (the package's own names only)."""
    parts = ["# API reference\n\nEvery public module of the package, from its docstrings "
             "(Google style, checked by ruff).\n"]
    for name in _public_modules():
        importlib.import_module(name)
        options = "" if name == "gluon_googlenet" else "   :members:\n"
        parts.append(f"## `{name}`\n\n```{{eval-rst}}\n.. automodule:: {name}\n{options}```\n")
    return "\n".join(parts)


def _stage_picture():
    """The d2l net's stages and their output shapes for a 1x1x96x96 input, as a picture."""
    import matplotlib
    matplotlib.use("Agg")
    from gluon_googlenet import get_model
    from gluon_googlenet.viz.summary import stage_shapes

    import matplotlib.pyplot as plt
    shapes = stage_shapes(get_model("googlenet_d2l"), (1, 1, 96, 96))
    fig, ax = plt.subplots(figsize=(10, 1.8))
    for i, (name, shape) in enumerate(shapes):
        ax.add_patch(plt.Rectangle((i * 1.6, 0), 1.3, 1, facecolor="#dbe9f6", edgecolor="#2b5d8a"))
        ax.text(i * 1.6 + 0.65, 0.62, name, ha="center", va="center", fontsize=12, weight="bold")
        ax.text(i * 1.6 + 0.65, 0.3, "x".join(str(s) for s in shape[1:]), ha="center", va="center", fontsize=9)
        if i:
            ax.annotate("", (i * 1.6, 0.5), (i * 1.6 - 0.3, 0.5), arrowprops={"arrowstyle": "->"})
    ax.set_xlim(-0.1, len(shapes) * 1.6 - 0.2)
    ax.set_ylim(-0.1, 1.1)
    ax.axis("off")
    fig.savefig(os.path.join(GENERATED, "stages.png"), dpi=120, bbox_inches="tight")
    plt.close(fig)


os.makedirs(GENERATED, exist_ok=True)
shutil.copy(EXECUTED_NOTEBOOK or os.path.join(ROOT, "examples", "googlenet_d2l.ipynb"),
            os.path.join(GENERATED, "googlenet_d2l.ipynb"))
_stage_picture()
with open(os.path.join(HERE, "api.md"), "w", encoding="utf-8") as _handle:
    _handle.write(_api_page())
