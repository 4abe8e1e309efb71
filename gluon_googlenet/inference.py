"""Evaluate a checkpoint on a test set, and classify image files with it."""
import os

import mxnet as mx
import numpy as np

from .checkpoint import load_model
from .context import parse_ctx
from .data import load_dataset, make_loader
from .errors import DataError
from .plots import plot_confusion
from .trainer import evaluate, to_input


def evaluate_checkpoint(path, data_dir=None, ctx="cpu", batch_size=256, limit=None,
                        confusion_png=None, verify=True):
    """Test accuracy, per-class accuracy and confusion matrix of checkpoint ``path``.

    Writes the confusion matrix as a PNG when ``confusion_png`` is given.
    """
    ctxs = parse_ctx(ctx)
    net, meta = load_model(path, ctxs)
    net.hybridize(static_alloc=True)
    size = meta["input_size"]
    images, labels = load_dataset(meta["dataset"], "test", data_dir, size if size != 28 else 0,
                                  limit, verify)
    result = evaluate(net, make_loader(images, labels, batch_size), ctxs, meta["classes"])
    confusion = result["confusion"]
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    if confusion_png:
        plot_confusion(confusion, meta["class_names"], confusion_png,
                       f"{meta['model']} epoch {meta['epoch']}: test acc {result['acc']:.3f}")
    return {"acc": result["acc"], "loss": result["loss"], "count": result["count"],
            "per_class": dict(zip(meta["class_names"], per_class.tolist())),
            "confusion": confusion, "meta": meta}


def read_image(source, size, data_dir=None, dataset="fashion-mnist"):
    """A grayscale image as uint8 [1, size, size] from a file or ``test:INDEX``; plus its true label."""
    if source.startswith("test:"):
        try:
            index = int(source[5:])
        except ValueError:
            raise DataError(f"bad test-set reference {source!r}; write test:INDEX, e.g. test:7") from None
        images, labels = load_dataset(dataset, "test", data_dir, size if size != 28 else 0)
        if not 0 <= index < len(labels):
            raise DataError(f"{source}: the test set has {len(labels)} images (0..{len(labels) - 1})")
        return images[index], int(labels[index])
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(source) as img:
            gray = img.convert("L").resize((size, size), Image.BILINEAR)
    except (OSError, UnidentifiedImageError) as err:
        raise DataError(f"cannot read image {source}: {err}") from None
    return np.asarray(gray, dtype=np.uint8)[None], None


def predict_images(path, sources, ctx="cpu", data_dir=None):
    """Classify each of ``sources`` (image files or test:INDEX) with checkpoint ``path``.

    Returns dicts with source, predicted class name, probability and true class (or None).
    """
    ctxs = parse_ctx(ctx)
    net, meta = load_model(path, ctxs[:1])
    names = meta["class_names"]
    results = []
    for source in sources:
        image, label = read_image(source, meta["input_size"], data_dir, meta["dataset"])
        batch = to_input(mx.nd.array(image[None], ctx=ctxs[0], dtype="uint8"))
        probs = mx.nd.softmax(net(batch))[0].asnumpy()
        best = int(probs.argmax())
        results.append({"source": source, "class": names[best], "prob": float(probs[best]),
                        "true": None if label is None else names[label]})
    return results


def default_confusion_path(checkpoint):
    """``run/best.ckpt`` -> ``run/best-confusion.png``."""
    return os.path.splitext(checkpoint)[0] + "-confusion.png"
