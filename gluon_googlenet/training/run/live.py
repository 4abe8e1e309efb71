"""Training curves that redraw in place in a Jupyter output cell, as d2l's Animator does.

Only a running Jupyter kernel gets them (progress_mode 'notebook'); a terminal, a pipe or a
log file gets the plain progress lines instead. Each redraw replaces the one PNG the cell
shows (an IPython display handle), so a run leaves one figure, not one per update.
"""
import sys

from ...base.plots import png_bytes, subplots


def in_jupyter():
    """True inside a running Jupyter (ipykernel) kernel; IPython is never imported for this."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


class LivePlot:
    """Train loss and accuracy at fractions of an epoch, test accuracy after each epoch, on
    x from 0 to ``epochs``; ``history`` (a resumed run's) is drawn from the start."""

    def __init__(self, epochs, history=()):
        self.epochs = epochs
        self.train = [(h["epoch"], h["train_loss"], h["train_acc"]) for h in history]
        self.test = [(h["epoch"], h["test_acc"]) for h in history]
        self.handle = None

    @property
    def epochs_done(self):
        """Epochs plotted so far."""
        return len(self.test)

    def add_train(self, fraction, loss, acc):
        """A point ``fraction`` (0..1] into the current epoch."""
        self.train.append((self.epochs_done + fraction, loss, acc))
        self.draw()

    def add_test(self, acc):
        """The test accuracy that ends the current epoch."""
        self.test.append((self.epochs_done + 1, acc))
        self.draw()

    def figure(self):
        """The curves as a matplotlib Figure (object API: pyplot's figures are left alone)."""
        fig, ax = subplots(figsize=(5, 3.4))
        if self.train:
            x, loss, acc = zip(*self.train)
            ax.plot(x, loss, "-", label="train loss")
            ax.plot(x, acc, "m--", label="train acc")
        if self.test:
            x, acc = zip(*self.test)
            ax.plot(x, acc, "g-.o", label="test acc")
        ax.set_xlim(0, self.epochs)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", fontsize=8)
        latest = f", test acc {self.test[-1][1]:.3f}" if self.test else ""
        ax.set_title(f"epoch {min(self.epochs_done + 1, self.epochs)} of {self.epochs}{latest}", fontsize=9)
        return fig

    def draw(self):
        """Show the curves, replacing the figure shown before."""
        from IPython.display import Image, display
        image = Image(data=png_bytes(self.figure()))
        if self.handle is None:
            self.handle = display(image, display_id=True)
        else:
            self.handle.update(image)
