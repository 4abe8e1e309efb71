"""One self-contained HTML page about a training run: settings, curves, accuracy, mistakes."""
import base64
import html
import json
import os
import platform
import sys

import numpy as np

from ..base.book import BOOK
from ..base.cpu import stolen_note
from ..base.errors import DataError
from ..base.fileio import write_bytes


def _png(draw):
    """Render with ``draw(path)`` into a data: URI."""
    import tempfile
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "figure.png")
        draw(path)
        with open(path, "rb") as handle:
            return "data:image/png;base64," + base64.b64encode(handle.read()).decode("ascii")


def _mistakes_figure(result, names, path, limit=32):
    """Grid of the first ``limit`` misclassified test images of an evaluate_checkpoint result."""
    from ..base.plots import save_png, subplots
    images, labels, preds = result["images"], result["labels"], result["predictions"]
    wrong = np.flatnonzero(labels != preds)[:limit]
    cols = 8
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = subplots(rows, cols, figsize=(cols * 1.5, rows * 1.8), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        img = images[i]
        ax.imshow(img[0] if img.shape[0] == 1 else img.transpose(1, 2, 0),
                  cmap="gray" if img.shape[0] == 1 else None)
        ax.set_title(f"#{i}\ntrue {names[labels[i]]}\npred {names[preds[i]]}", fontsize=7)
    fig.suptitle(f"first {len(wrong)} misclassified test images" if len(wrong) else
                 "no misclassified test images", fontsize=10)
    save_png(fig, path)


def _gradcam_figure(result, path, limit=4):
    """The first ``limit`` misclassified test images beside their Grad-CAM overlays for the
    predicted and the true class, at gradcam.default_layer; returns that layer."""
    from ..base.plots import save_png, subplots
    from ..training.data.run_data import images_to_input
    from .gradcam import default_layer, explain, plot_cam
    net, meta = result["net"], result["meta"]
    layer = default_layer(net, meta["input_size"])
    wrong = np.flatnonzero(result["labels"] != result["predictions"])[:limit]
    if not len(wrong):
        fig, ax = subplots(1, 1, figsize=(4, 1))
        ax.axis("off")
        fig.suptitle("no misclassified test images", fontsize=10)
        save_png(fig, path)
        return layer
    images = result["images"][wrong]
    rows = explain(net, images_to_input(images, meta.get("mean"), meta.get("std")), layer, meta["class_names"],
                   result["labels"][wrong].tolist())
    plot_cam(images, rows, path, f"Grad-CAM at {layer}", [f"#{i}" for i in wrong])
    return layer


def _table(rows, header=None):
    head = "<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>" if header else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table>{head}{body}</table>"


STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
img{max-width:100%;border:1px solid #eee}.big{font-size:1.3em}"""

# Reports, in the page itself, whether the browser decoded every figure.
CHECK_SCRIPT = """window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  var s = document.getElementById('figures-status');
  s.textContent = ok + ' of ' + imgs.length + ' figures shown';
  s.setAttribute('data-loaded', ok); s.setAttribute('data-total', imgs.length);
});"""


def read_history(run_dir):
    """The epochs of a run folder's history.json; DataError, one line, when there is none."""
    history_file = os.path.join(run_dir, "history.json")
    if not os.path.isfile(history_file):
        raise DataError(f"{run_dir} has no history.json: not a training run folder "
                        "(gluon-googlenet train writes it after every epoch)")
    try:
        with open(history_file, encoding="utf-8") as handle:
            history = json.load(handle)
        assert isinstance(history, list) and history and "test_acc" in history[-1]
    except (ValueError, AssertionError):
        raise DataError(f"{history_file} is not a training history (corrupt or empty)") from None
    return history


def build_report(run_dir, out_path=None, data_dir=None, checkpoint="best.ckpt"):
    """Write ``run_dir/report.html`` (or ``out_path``); return its path.

    Needs the run's history.json and checkpoint; evaluates the checkpoint on the run's
    test set for per-class accuracy, the confusion matrix and misclassified examples.
    """
    from ..base.plots import BOOK_TEST_ACC, plot_confusion, plot_history
    from ..training.inference import evaluate_checkpoint
    history = read_history(run_dir)
    result = evaluate_checkpoint(os.path.join(run_dir, checkpoint), data_dir=data_dir)
    meta = result["meta"]
    figures = {
        "curves": _png(lambda p: plot_history(history, p, f"{meta['model']} on {meta['dataset']}",
                                              BOOK_TEST_ACC.get(meta["dataset"]))),
        "confusion": _png(lambda p: plot_confusion(result["confusion"], meta["class_names"], p)),
        "mistakes": _png(lambda p: _mistakes_figure(result, meta["class_names"], p)),
    }
    layers = []
    figures["gradcam"] = _png(lambda p: layers.append(_gradcam_figure(result, p)))
    out_path = out_path or os.path.join(run_dir, "report.html")
    write_bytes(out_path, _page(history, result, checkpoint, figures, layers[0]).encode("utf-8"))
    return out_path


def _environment(config, meta):
    import mxnet as mx
    return [("MXNet (this report)", mx.__version__), ("MXNet (training)", meta.get("mxnet_version")),
            ("numpy", np.__version__), ("Python", sys.version.split()[0]),
            ("platform", platform.platform()), ("training context", config.get("ctx")),
            ("GPUs visible now", mx.context.num_gpus()),
            ("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "unset"))]


def epoch_seconds(record):
    """Seconds one history record's epoch spent training and testing."""
    return record["train_seconds"] + record.get("eval_seconds", 0.0)


def run_minutes(history):
    """Minutes a run spent training and testing (its epochs' seconds, resumed parts included)."""
    return sum(epoch_seconds(h) for h in history) / 60


def run_stolen(history):
    """The share of a run's CPU time the host gave to other guests: its epochs' shares weighted
    by their seconds (epochs without the figure left out); None when no epoch has it."""
    known = [(h["cpu_stolen"], epoch_seconds(h)) for h in history if h.get("cpu_stolen") is not None]
    seconds = sum(spent for _, spent in known)
    return sum(share * spent for share, spent in known) / seconds if seconds > 0 else None


def _page(history, result, checkpoint, figures, layer):
    """The report's HTML: figures are data: URIs; the script says whether each one decoded."""
    meta = result["meta"]
    config = meta.get("config", {})
    best = max(history, key=lambda h: h["test_acc"])
    per_class = [(name, f"{acc:.3f}") for name, acc in result["per_class"].items()]
    epochs = [(h["epoch"], f"{h['train_loss']:.4f}", f"{h['train_acc']:.3f}", f"{h['test_loss']:.4f}",
               f"{h['test_acc']:.3f}", f"{h['examples_per_sec']:.1f}") for h in history]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(meta['model'])} run report</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(meta['model'])} on {html.escape(meta['dataset'])}</h1>
<p class="big">final test accuracy <b id="final-test-acc">{history[-1]['test_acc']:.4f}</b>
(epoch {history[-1]['epoch']}); best <b id="best-test-acc">{best['test_acc']:.4f}</b>
(epoch <span id="best-epoch">{best['epoch']}</span>), after
<span id="minutes">{run_minutes(history):.1f}</span> min of training and testing{stolen_note(run_stolen(history))}</p>
<p id="figures-status">figures not checked (JavaScript off)</p>
<h2>Curves</h2><img id="curves" alt="loss and accuracy curves" src="{figures['curves']}">
<h2>Epochs</h2>{_table(epochs, ("epoch", "train loss", "train acc", "test loss", "test acc", "examples/s"))}
<h2>Checkpoint {html.escape(checkpoint)} (epoch {meta['epoch']}) on {result['count']} test images</h2>
<p>accuracy <b id="checkpoint-acc">{result['acc']:.4f}</b></p>
{_table(per_class, ("class", "accuracy"))}
<img id="confusion" alt="confusion matrix" src="{figures['confusion']}">
<h2>Misclassified test images</h2>
<img id="mistakes" alt="misclassified test images" src="{figures['mistakes']}">
<h2>Where the net looked (Grad-CAM at {layer}), first misclassified images</h2>
<img id="gradcam" alt="Grad-CAM of misclassified test images, predicted and true class" src="{figures['gradcam']}">
<h2>Configuration</h2>{_table(sorted(config.items()), ("setting", "value"))}
<h2>Environment</h2>{_table(_environment(config, meta))}
<script>{CHECK_SCRIPT}</script>
</body></html>
"""


def run_summary(out):
    """The closing lines of a run (the main job prints them): the test accuracy of its exported model
    (as plain MXNet loads it), the minutes of training and testing, then where the model is and
    three lines that load it in plain MXNet."""
    import glob

    from ..weights.export import read_export_meta, usage_lines
    with open(os.path.join(out, "history.json"), encoding="utf-8") as handle:
        history = json.load(handle)
    metas = sorted(glob.glob(os.path.join(out, "*-meta.json")), key=os.path.getmtime)
    prefix = metas[-1][:-len("-meta.json")] if metas else None
    meta = read_export_meta(prefix) if prefix else None
    measured = (meta or {}).get("test_acc") or {}
    acc = measured.get("graph", max(h["test_acc"] for h in history))
    tta = ((meta or {}).get("test_time_augmentation") or {}).get("name")
    what = "the exported model's" + (f", {tta} averaging in its graph" if tta else "") if measured else "best"
    lines = [f"main: test acc {acc:.4f} ({what}) after {run_minutes(history):.1f} min of training and testing "
             f"({len(history)} epoch(s){stolen_note(run_stolen(history))}; the book's: {BOOK.test_acc} after "
             f"{BOOK.epochs} epochs at 96x96)"]
    if meta:
        epoch = int(meta["files"][1].rsplit("-", 1)[1].split(".")[0])
        lines += usage_lines(prefix, epoch)
    return lines


def recipe_words(config):
    """A run's recipe in one sentence, from its settings (config.json's dict): what pages say the main
    job trains, generated so that a changed recipe changes the page."""
    from ..training.run.config import TrainConfig, input_side
    c = TrainConfig(**{k: v for k, v in config.items() if k in TrainConfig.__dataclass_fields__})
    side = input_side(c)
    optimizer = {"sgd": "plain SGD", "momentum": f"SGD with momentum {c.momentum:g}", "nag": "Nesterov's SGD",
                 "adam": "Adam"}[c.optimizer]
    schedule = {"constant": "a constant rate", "cosine": "a cosine schedule",
                "onecycle": f"a one-cycle schedule ({c.warmup:g} epochs of warm-up, then a cosine to 0)"}.get(
        c.lr_schedule, f"a step schedule ({c.lr_schedule})")
    parts = [f"`{c.model}` at {f'{side}x{side}' if side else 'its default size'}",
             f"{c.epochs} epochs of {optimizer} with {schedule}, peak rate {c.lr:g}, batch {c.batch_size}"
             + (f", weight decay {c.wd:g}" if c.wd else "")]
    if c.whiten:
        parts.append("its first convolution started as the training images' patch-whitening filters")
    if c.augment != "none":
        parts.append({"flip": "random mirrors of the training images",
                      "crop-flip": "random shifts and mirrors of the training images"}[c.augment])
    if c.tta == "flip":
        parts.append("each test image averaged with its mirror (inside the exported graph too)")
    if c.label_smoothing:
        parts.append(f"label smoothing {c.label_smoothing:g}")
    if c.ema:
        parts.append(f"a moving average of the weights (decay {c.ema:g}) tested and exported")
    return f"Trains {'; '.join(parts)}; {c.dataset}, seed {c.seed}, precision {c.precision}."
