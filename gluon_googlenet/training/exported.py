"""The accuracy of an export as plain MXNet loads it, recorded in its meta file: the figure a
user of the exported files gets, not the live net's."""
from ..base.fileio import write_json
from ..weights.export import import_model
from .loop import evaluate


def measure_export(prefix, epoch, loader, ctxs, data_name, with_tta=None):  # noqa: PLR0913
    """The test accuracy of an export as plain MXNet loads it (SymbolBlock.imports of its files,
    its input normalised as its meta file says), written into its ``PREFIX-meta.json``: ``test_acc``
    is the exported graph's own; ``with_tta`` ({name: accuracy}) names figures of the same weights
    with a test-time augmentation the graph does not hold. Returns the meta dict."""
    net = import_model(prefix, epoch, ctxs[0])
    meta, norm = net.meta, net.meta["normalization"]
    mean_std = (None, None) if norm["in_graph"] or norm["mean"] is None else (norm["mean"], norm["std"])
    classes = len(meta["class_names"]) if meta.get("class_names") else None
    if classes is None:
        first = next(iter(loader))[0][:1].astype("float32") / 255
        classes = net(first.as_in_context(ctxs[0])).shape[1]
    result = evaluate(net, loader, ctxs, classes, norm=mean_std)
    meta["test_acc"] = {"graph": round(result["acc"], 6), "images": result["count"], "data": data_name,
                        "measured": "the exported files loaded with mx.gluon.SymbolBlock.imports"}
    if with_tta:
        meta["test_acc"]["with_tta"] = {name: round(acc, 6) for name, acc in with_tta.items()}
    write_json(f"{prefix}-meta.json", meta)
    return meta
