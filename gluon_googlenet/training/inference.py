"""Evaluate a checkpoint on a test set, and classify image files with it."""
import os

import mxnet as mx
import numpy as np

from ..base.context import parse_ctx
from ..base.errors import ConfigError, DataError
from ..base.plots import plot_confusion
from ..weights import fast
from ..weights.factory import get_model
from ..weights.preprocess import eval_transform
from .data.image_folders import read_image_file
from .data.run_data import images_to_input, load_run_data
from .data.sampling import make_loader
from .loop import evaluate
from .run.checkpoint import load_model
from .run.config import data_source


def run_test_data(meta, data_dir=None, limit_test=None, verify=None):
    """The test set of the run that saved ``meta``, from ``data_dir`` if given, its files'
    MD5s checked as in that run unless ``verify`` says otherwise."""
    changes = {} if verify is None else {"verify": verify}
    if limit_test:
        changes["limit_test"] = limit_test
    if data_dir:
        changes["data_dir"] = data_dir
    return load_run_data(meta["input_size"], data_source(meta["config"], **changes), need_train=False)


def _for_precision(net, meta, precision, ctx):
    """``net``, or for ``precision`` 'bf16' its bfloat16 graph (fast.bfloat16) giving float32 logits."""
    if precision == "fp32":
        return net
    if precision != "bf16":
        raise ConfigError(f"--precision must be fp32 or bf16 for inference, got {precision!r}")
    side = meta["input_size"]
    return fast.Float32Outputs(fast.bfloat16(net, (1, meta["model_kwargs"]["in_channels"], side, side), ctx))


def evaluate_checkpoint(path, ctx="cpu", batch_size=256, confusion_png=None, tta=None, precision="fp32",  # noqa: PLR0913
                        **data):
    """Test accuracy, per-class accuracy and confusion matrix of checkpoint ``path``, in
    ``precision`` (fp32, or bf16: fast.bfloat16, on AMX where the process switched it on).

    The test set is the one the run used (IDX test files, limited as in training, or the image
    folder's held-out share); ``data``: ``data_dir``, ``limit_test``, ``verify`` to read it
    otherwise. ``tta='flip'`` averages each image's logits with its mirror's. Writes the
    confusion matrix as a PNG when ``confusion_png`` is given. The result also holds the test
    images, labels and predictions, and the net.
    """
    ctxs = parse_ctx(ctx)
    net, meta = load_model(path, ctxs)
    net.hybridize(static_alloc=True)
    net = _for_precision(net, meta, precision, ctxs[0])
    data = run_test_data(meta, **data)
    result = evaluate(net, make_loader(*data.test, batch_size), ctxs, meta["model_kwargs"]["num_classes"],
                      norm=(meta.get("mean"), meta.get("std")), tta=tta)
    confusion = result["confusion"]
    per_class = confusion.diagonal() / np.maximum(confusion.sum(axis=1), 1)
    if confusion_png:
        plot_confusion(confusion, meta["class_names"], confusion_png,
                       f"{meta['model']} epoch {meta['epoch']}: test acc {result['acc']:.3f}")
    return {"acc": result["acc"], "loss": result["loss"], "count": result["count"],
            "per_class": dict(zip(meta["class_names"], per_class.tolist())),
            "confusion": confusion, "meta": meta, "images": data.test[0], "labels": data.test[1],
            "predictions": result["predictions"], "net": net}


def read_image(source, meta, data_dir=None, verify=None):
    """One image as uint8 [C, S, S] from a file or ``test:INDEX`` (the run's test set, MD5s checked
    as the run did unless ``verify`` says), and its true label index (None for files). Files are
    converted to the run's channels and size."""
    size = meta["input_size"]
    if source.startswith("test:"):
        try:
            index = int(source[5:])
        except ValueError:
            raise DataError(f"bad test-set reference {source!r}; write test:INDEX, e.g. test:7") from None
        images, labels = run_test_data(meta, data_dir, verify=verify).test
        if not 0 <= index < len(labels):
            raise DataError(f"{source}: the test set has {len(labels)} images (0..{len(labels) - 1})")
        return images[index], int(labels[index])
    return read_image_file(source, size, meta["model_kwargs"]["in_channels"]), None


def predict_images(path, sources, ctx="cpu", data_dir=None, verify=None, precision="fp32"):  # noqa: PLR0913
    """Classify each of ``sources`` (image files or test:INDEX) with checkpoint ``path``, in
    ``precision`` (fp32 or bf16, as evaluate_checkpoint).

    Returns dicts with source, predicted class name, probability and true class (or None).
    """
    ctxs = parse_ctx(ctx)
    net, meta = load_model(path, ctxs[:1])
    net = _for_precision(net, meta, precision, ctxs[0])
    names = meta["class_names"]
    results = []
    for source in sources:
        image, label = read_image(source, meta, data_dir, verify)
        batch = images_to_input(image, meta.get("mean"), meta.get("std"), ctxs[0])
        probs = mx.nd.softmax(net(batch))[0].asnumpy()
        best = int(probs.argmax())
        results.append({"source": source, "class": names[best], "prob": float(probs[best]),
                        "true": None if label is None else names[label]})
    return results


def predict_pretrained(name, weights, files, ctx="cpu", top=5):
    """The ``top`` classes of each image file under model ``name`` with published ``weights`` (a
    file, or 'gluoncv'), through the weights' own preprocessing (eval_transform of the net's
    pretrained_cfg): dicts with the source and its [(class name, probability), ...]."""
    ctxs = parse_ctx(ctx)
    net = get_model(name, pretrained=weights, ctx=ctxs[0])
    transform = eval_transform(net.pretrained_cfg)
    names = net.class_names or [str(i) for i in range(net.num_classes)]
    rows = []
    for file in files:
        try:
            image = mx.image.imread(file)  # H x W x 3 RGB uint8
        except (mx.base.MXNetError, OSError) as err:
            last = [line for line in str(err).splitlines() if line.strip()][-1:] or [type(err).__name__]
            raise DataError(f"cannot read image {file} ({last[0].strip()[:120]})") from None
        probs = mx.nd.softmax(net(transform(image).expand_dims(0).as_in_context(ctxs[0])))[0].asnumpy()
        rows.append({"source": file, "top": [(names[i], float(probs[i])) for i in probs.argsort()[::-1][:top]]})
    return rows


def default_confusion_path(checkpoint):
    """``run/best.ckpt`` -> ``run/best-confusion.png``."""
    return os.path.splitext(checkpoint)[0] + "-confusion.png"
