"""Figures drawn from saved data: training curves and confusion matrices (PNG, atomic).

Figures are built with matplotlib's object API (``Figure``), never pyplot, so importing or
using this module leaves a notebook's backend and open figures alone.
"""
import io

import numpy as np

from .book import BOOK
from .fileio import write_bytes


def subplots(rows=1, cols=1, figsize=None, **kwargs):
    """(Figure, axes) like ``pyplot.subplots``, detached from pyplot's figure manager."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, cols, **kwargs)


def png_bytes(fig):
    """``fig`` rendered as PNG bytes."""
    data = io.BytesIO()
    fig.savefig(data, format="png", dpi=100, bbox_inches="tight")
    return data.getvalue()


def save_png(fig, path):
    """Write ``fig`` to ``path`` as PNG, atomically."""
    write_bytes(path, png_bytes(fig))


# The book's printed test accuracy per data set (d2l classic edition: GoogLeNet, 10 epochs at 96x96).
BOOK_TEST_ACC = {"fashion-mnist": BOOK.test_acc}


def plot_history(history, path, title=None, reference=None):
    """history_figure written to ``path`` as PNG."""
    save_png(history_figure(history, title, reference), path)


def history_figure(history, title=None, reference=None):
    """Loss and accuracy per epoch, train and test, from a history list of dicts; ``reference``:
    a test accuracy drawn as a dashed line (the book's, BOOK_TEST_ACC)."""
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, [h["train_loss"] for h in history], "o-", label="train loss")
    ax_loss.plot(epochs, [h["test_loss"] for h in history], "s--", label="test loss")
    ax_acc.plot(epochs, [h["train_acc"] for h in history], "o-", label="train acc")
    ax_acc.plot(epochs, [h["test_acc"] for h in history], "s--", label="test acc")
    if reference is not None:
        ax_acc.axhline(reference, color="k", linestyle="--", linewidth=1, label=f"the book's test acc ({reference})")
    for ax, label in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    return fig


def plot_confusion(matrix, class_names, path, title="confusion matrix (test set)"):
    """Confusion matrix (rows: true class, columns: predicted) with counts in the cells."""
    matrix = np.asarray(matrix)
    fig, ax = subplots(figsize=(8, 7))
    ax.imshow(matrix, cmap="Blues")
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    limit = matrix.max() / 2 if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] > limit else "black")
    ax.set_title(title)
    save_png(fig, path)
