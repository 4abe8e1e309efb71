"""Published ImageNet weights: GluonCV ``.params``, torchvision ``.pth``, timm ``.safetensors``.

``get_pretrained(name, source_file, num_classes=K)`` builds the model as the source built it
(torchvision's GoogLeNet has its own aux-head pooling and input transform, for instance),
reads the file, matches its tensors to ours by name (a table per model and source, kept as data
in names/ and written by scripts/make_weight_names.py; shapes checked, BN running statistics
included) and loads them. With ``num_classes``
other than the file's, the classifier and the aux heads keep their fresh initialisation.
Instead of a file, a publisher's name takes its own published file, downloaded on first use into
the cache its library keeps (hub.py): 'gluoncv' (or True: GluonCV's model store, SHA-1 checked),
'torchvision', 'timm' or 'timm:TAG'.
"""
import functools
import json
import logging
import os
from collections import namedtuple

import mxnet as mx
import numpy as np

from ..base.download import downloads_allowed
from ..base.errors import CheckpointError, ConfigError, DependencyError
from ..base.gluon_internals import structural_params
from ..base.normalization import channel_stats
from ..nn.registry import build_model
from .export import read_params
from .hub import timm_file, torchvision_file
from .torchfile import check_weights_path, read_torch_state_dict

log = logging.getLogger("gluon_googlenet.pretrained")

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
Source = namedtuple("Source", "name suffixes mean std")
Source.__doc__ = "A weights publisher: file suffixes it uses and the input normalisation its nets expect."
SOURCES = {
    "gluoncv": Source("gluoncv", (".params",), IMAGENET_MEAN, IMAGENET_STD),
    "torchvision": Source("torchvision", (".pth", ".pt"), IMAGENET_MEAN, IMAGENET_STD),
    "timm": Source("timm", (".safetensors", ".bin"), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
}

Published = namedtuple("Published", "build input_size crop_pct interpolation file")
Published.__doc__ = ("A source's weights for one of our models: how the source builds it (our factory's "
                     "keywords; its net computes the same function), the input the weights expect: side, "
                     "centre-crop share of the resized image, resize interpolation (timm's pretrained_cfg, "
                     "torchvision's Weights.transforms(), GluonCV's scripts), and the file to fetch: its "
                     "name in the source's store, or for timm its model hub id ({tag}: the weights' tag).")
PUBLISHED = {
    ("googlenet", "gluoncv"): Published({"k3": 3}, 224, 0.875, "bilinear",
                                        "googlenet-c7c89366.params (GluonCV's store: googlenet-c7c89366.zip)"),
    ("googlenet", "torchvision"): Published({"k3": 3, "aux_pool": "adaptive", "transform_input": True,
                                             "dropout": 0.2}, 224, 0.875, "bilinear", "googlenet-1378be20.pth"),
    ("inception_v3", "gluoncv"): Published({}, 299, 0.875, "bilinear",
                                           "inceptionv3-a5050dbc.params (GluonCV's store: inceptionv3-a5050dbc.zip)"),
    ("inception_v3", "torchvision"): Published({"transform_input": True}, 299, 0.875, "bilinear",
                                               "inception_v3_google-0cc3c7bd.pth"),
    ("inception_v3", "timm"): Published({}, 299, 0.875, "bicubic", "timm/inception_v3.{tag}: model.safetensors"),
    ("inception_v4", "timm"): Published({}, 299, 0.875, "bicubic", "timm/inception_v4.{tag}: model.safetensors"),
    ("inception_resnet_v2", "timm"): Published({}, 299, 0.8975, "bicubic",
                                               "timm/inception_resnet_v2.{tag}: model.safetensors"),
}
PretrainedCfg = namedtuple("PretrainedCfg", "source input_size mean std interpolation crop_pct labels")
PretrainedCfg.__doc__ = ("The preprocessing a net's published weights expect (net.pretrained_cfg): source, input "
                         "(C, H, W), per-channel mean and std of RGB in [0, 1], resize interpolation, centre-crop "
                         "share, label set.")
# Models GluonCV's model store publishes, under its names.
GLUONCV_NAMES = {"googlenet": "googlenet", "inception_v3": "inceptionv3"}

# Per (model, source): which file tensor each of our parameters takes (names/MODEL-SOURCE.json,
# written by scripts/make_weight_names.py from the sources' own modules).
NAMES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "names")
NameTable = namedtuple("NameTable", "source pairs unused")
NameTable.__doc__ = ("A source's names for one of our models: {our structural name: the file's tensor name}, "
                     "and the file tensors no parameter of ours takes.")
_PARTS = ("head", "aux1", "aux2")  # the rest of a net is its trunk


def publisher(weights):
    """The source named by ``weights`` where it names one instead of a file (True: 'gluoncv';
    'timm:TAG': 'timm'), else None."""
    if weights is True:
        return "gluoncv"
    name = str(weights).split(":", 1)[0]
    return name if name in SOURCES and str(weights) in (name, *(f"timm:{t}" for t in _all_tags())) else None


def _all_tags():
    return {tag for tags in TIMM_TAGS.values() for tag in tags}


def source_of(path, source=None):
    """The source a weights file comes from: ``source`` if given, the publisher ``path`` names
    ('gluoncv' or True, 'torchvision', 'timm[:TAG]'), else by the file's suffix."""
    source = source or publisher(path)
    if source is not None:
        if source not in SOURCES:
            raise ConfigError(f"unknown weights source {source!r}; use one of {', '.join(SOURCES)}")
        return SOURCES[source]
    for candidate in SOURCES.values():
        if str(path).lower().endswith(candidate.suffixes):
            return candidate
    raise ConfigError(f"cannot tell where {path} comes from by its name; name the source "
                      f"({', '.join(SOURCES)}) or use .params (GluonCV), .pth (torchvision), "
                      ".safetensors (timm)")


def read_weights(path, source):
    """{tensor name: numpy array} of a weights file in ``source``'s format."""
    check_weights_path(path)
    if source.name == "gluoncv":
        arrays = {k: v.asnumpy() for k, v in read_params(path).items()}
        if arrays and not any("." in name for name in arrays):
            example = sorted(arrays)[0]
            raise CheckpointError(
                f"{path} holds MXNet's prefixed parameter names ({example}, ...: net.collect_params().save()), "
                "GluonCV files are read by structural names (conv1.0.weight, ...: net.save_parameters()): "
                "load it into GluonCV's net with load_parameters() and save it with save_parameters()")
        return arrays
    if str(path).endswith(".safetensors"):
        try:
            from safetensors.numpy import load_file
        except ImportError:
            raise DependencyError("reading .safetensors needs the safetensors package: "
                                  "pip install safetensors==0.8.0") from None
        try:
            return load_file(path)
        except Exception as err:  # safetensors raises its own error types for bad headers
            raise CheckpointError(f"{path} is not a readable .safetensors file ({err})") from None
    return read_torch_state_dict(path)


@functools.lru_cache(maxsize=None)
def name_table(model, source):
    """The NameTable of ``model`` for ``source`` (a source name)."""
    with open(os.path.join(NAMES_DIR, f"{model}-{source}.json"), encoding="utf-8") as handle:
        data = json.load(handle)
    return NameTable(source, dict(data["pairs"]), frozenset(data["unused"]["names"]))


def _part(name):
    first = name.split(".")[0]
    return first if first in _PARTS else "trunk"


def _shape(shape):
    return "x".join(map(str, shape)) if len(shape) else "scalar"


def table_names(net):
    """{our name in the name tables: the parameter}: structural names, but a head's layers are
    counted without the parameter-free ones, since a dropout of rate 0 is left out of the net
    ('head.1.weight' after Dropout is 'head.0.weight' without it; the tables say 'head.0')."""
    from mxnet.gluon import nn
    ranks = [i for i, block in enumerate(net.head) if not isinstance(block, (nn.Dropout, nn.Flatten))]
    renamed = {}
    for name, param in structural_params(net).items():
        parts = name.split(".")
        if parts[0] == "head":
            parts[1] = str(ranks.index(int(parts[1])))
        renamed[".".join(parts)] = param
    return renamed


def match_tensors(net, params, arrays, path, table, skip=()):
    """{our table name: the file's tensor name} for every parameter of ``net`` (``params``: its
    table_names) outside the parts in ``skip`` (head, aux1, aux2). CheckpointError, one line
    naming the tensor on both sides, for a tensor the file lacks, a shape that differs, or a file
    tensor no parameter takes. Aux heads the file has none of keep their initialisation."""
    model, file = getattr(net, "model_name", type(net).__name__), os.path.basename(str(path))
    known = table.unused | set(table.pairs.values())
    stray = sorted(n for n in arrays if n not in known and not n.endswith("num_batches_tracked"))
    in_file = {_part(ours) for ours, theirs in table.pairs.items() if theirs in arrays}
    matched, kept = {}, set()
    for ours, param in params.items():
        part, theirs = _part(ours), table.pairs.get(ours)
        if part in skip or (part.startswith("aux") and part not in in_file):
            kept.add(part)
            continue
        if theirs is None:
            raise CheckpointError(f"{model}: {ours} has no counterpart in {table.source} files (this {model} "
                                  "is built otherwise than the one they were published for)")
        if theirs not in arrays:
            also = f" (it has {stray[0]}, which no {model} parameter takes)" if stray else ""
            raise CheckpointError(f"{model}: {ours} takes {theirs} of {table.source} files, but {file} "
                                  f"has no {theirs}{also}")
        if tuple(param.shape) != arrays[theirs].shape:
            raise CheckpointError(f"{model}: {ours} expects {_shape(param.shape)}, {file} has {theirs} "
                                  f"{_shape(arrays[theirs].shape)}")
        matched[ours] = theirs
    if stray:
        raise CheckpointError(f"{file} has {stray[0]}, which no {model} parameter takes (another model, or "
                              "another variant of it?)")
    for part in sorted(kept - set(skip)):
        log.info("%s: no %s head in %s; it keeps its initialisation", model, part, file)
    return matched


def load_into(net, arrays, path, table, skip=()):
    """Set ``net``'s parameters from ``arrays`` (a file's tensors) as ``match_tensors`` pairs them;
    parts in ``skip`` keep their values. Returns how many were set."""
    params = table_names(net)
    matched = match_tensors(net, params, arrays, path, table, skip)
    for ours, theirs in matched.items():
        params[ours].set_data(mx.nd.array(arrays[theirs], dtype=params[ours].dtype))
    return len(matched)


def file_classes(arrays, table):
    """Number of classes of a file's classifier (rows of the tensor our last head weight takes)."""
    heads = [theirs for ours, theirs in table.pairs.items() if _part(ours) == "head" and ours.endswith("weight")]
    if not heads or heads[-1] not in arrays:
        raise CheckpointError(f"the file has no classifier {heads[-1] if heads else ''} of {table.source} files")
    return arrays[heads[-1]].shape[0]


def gluoncv_file(name):
    """Path of GluonCV's published weights for our model ``name``, from its model store
    (cached in ~/.mxnet/models, SHA-1 checked); one line naming the file when it is not there."""
    if name not in GLUONCV_NAMES:
        raise ConfigError(f"GluonCV publishes no weights for {name}; it has {', '.join(GLUONCV_NAMES)}")
    try:
        from gluoncv.model_zoo import model_store
    except ImportError:
        raise DependencyError("pretrained=True reads GluonCV's model store, which needs gluoncv: "
                              "pip install 'gluon-googlenet[gluoncv]', or pass the weights file") from None
    gname = GLUONCV_NAMES[name]
    root = os.path.expanduser(os.path.join(os.environ.get("MXNET_HOME", "~/.mxnet"), "models"))
    file_name = f"{gname}-{model_store.short_hash(gname)}.params"
    url = f"{model_store.apache_repo_url}gluon/models/{file_name[:-len('.params')]}.zip"
    manual = f"fetch {url} and unzip {file_name} into {root}"
    if not os.path.isfile(os.path.join(root, file_name)) and not downloads_allowed():
        raise CheckpointError(f"GluonCV's {gname} weights are not in {root} and downloads are off: {manual}")
    try:  # GluonCV's store downloads a missing file itself and checks its SHA-1
        return model_store.get_model_file(gname, root=root)
    except Exception as err:  # noqa: BLE001 (requests' and GluonCV's own errors: one line either way)
        reason = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise CheckpointError(f"GluonCV's {gname} weights are not in {root} and could not be downloaded "
                              f"({reason}): {manual}") from None


def published_file(name, weights):
    """The path of the file ``weights`` names: itself, or the publisher's own file for ``name``
    ('gluoncv'/True, 'torchvision', 'timm[:TAG]'), downloaded on first use (hub.py)."""
    source = publisher(weights)
    if source == "gluoncv":
        return gluoncv_file(name)
    if source == "torchvision":
        return torchvision_file(_published(name, SOURCES["torchvision"]).file)
    if source == "timm":
        _published(name, SOURCES["timm"])
        tag = str(weights).split(":", 1)[1] if ":" in str(weights) else None
        return timm_file(name, tag)
    return weights


def _published(name, source):
    """The Published record of ``name`` from ``source``; ConfigError where the source has none."""
    if (name, source.name) not in PUBLISHED:
        sources = [s for (m, s) in PUBLISHED if m == name]
        raise ConfigError(f"{name} has no {source.name} counterpart to load weights from"
                          + (f"; it loads {', '.join(sources)} files" if sources else ""))
    return PUBLISHED[(name, source.name)]


def pretrained_build_kwargs(name, weights):
    """How ``name`` is built to take ``weights`` (a file, or 'gluoncv'/True for GluonCV's store)."""
    return dict(_published(name, source_of(weights)).build)


# timm's weights of one architecture differ in their preprocessing by tag (timm's pretrained_cfg,
# read from timm 1.0.31): (mean, std) of each tag; a file's tag is in its name
# ('inception_v3.gluon_in1k.safetensors', or 'model.safetensors' in a folder of that name).
_HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
TIMM_TAGS = {
    "inception_v3": {"gluon_in1k": (IMAGENET_MEAN, IMAGENET_STD), "tf_adv_in1k": _HALF, "tf_in1k": _HALF,
                     "tv_in1k": _HALF},
    "inception_v4": {"tf_in1k": _HALF},
    "inception_resnet_v2": {"tf_ens_adv_in1k": _HALF, "tf_in1k": _HALF},
}
Preprocessing = namedtuple("Preprocessing", "mean std crop_pct interpolation input_size")
Preprocessing.__doc__ = "What a weights file expects: mean, std, centre-crop share, resize interpolation, side."


def timm_preprocessing(name, path, mean=None, std=None):
    """The preprocessing of a timm weights file: ``mean``/``std`` given by the caller, else its
    ``config.json`` beside it (as model hubs store timm weights: its pretrained_cfg), else the
    tag in its name (TIMM_TAGS); ConfigError, one line, when none of them says."""
    published = _published(name, SOURCES["timm"])
    base = Preprocessing(None, None, published.crop_pct, published.interpolation, published.input_size)
    if mean is not None or std is not None:
        if mean is None or std is None:
            raise ConfigError("give both mean= and std= (per channel, RGB in [0, 1])")
        return base._replace(mean=tuple(mean), std=tuple(std))
    config_file = os.path.join(os.path.dirname(os.path.abspath(str(path))), "config.json")
    if os.path.isfile(config_file):
        try:
            with open(config_file, encoding="utf-8") as handle:
                cfg = json.load(handle).get("pretrained_cfg") or {}
            return base._replace(mean=tuple(cfg["mean"]), std=tuple(cfg["std"]),
                                 crop_pct=cfg.get("crop_pct", base.crop_pct),
                                 interpolation=cfg.get("interpolation", base.interpolation),
                                 input_size=cfg.get("input_size", (3, base.input_size))[-1])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ConfigError(f"{config_file} has no readable pretrained_cfg with mean and std") from None
    where = os.path.abspath(str(path))
    tags = [tag for tag in TIMM_TAGS.get(name, {}) if f".{tag}" in where or f"{os.sep}{tag}" in where
            or f"_{tag}" in where]
    if len(tags) == 1:
        tag_mean, tag_std = TIMM_TAGS[name][tags[0]]
        return base._replace(mean=tag_mean, std=tag_std)
    known = ", ".join(f"{name}.{t}" for t in TIMM_TAGS.get(name, {}))
    raise ConfigError(f"cannot tell the preprocessing of {path}: no config.json beside it and no timm tag in its "
                      f"name ({known}); put the file's config.json beside it or pass mean= and std=")


def pretrained_cfg(name, weights, in_channels=3, source=None, mean=None, std=None):
    """The PretrainedCfg of ``name`` with ``weights`` (a file, or 'gluoncv'/True; ``source``
    names its publisher where the file name does not), for ``in_channels`` inputs
    (base.normalization.channel_stats). timm files: timm_preprocessing (``mean``, ``std``, the
    file's config.json or its tag); other sources publish one preprocessing per model."""
    source = source_of(weights, source)
    published = _published(name, source)
    if source.name == "timm":
        prep = timm_preprocessing(name, weights, mean, std)
    else:
        prep = Preprocessing(mean or source.mean, std or source.std, published.crop_pct, published.interpolation,
                             published.input_size)
    mean, std = channel_stats(prep.mean, prep.std, in_channels)
    side = prep.input_size
    return PretrainedCfg(source.name, (in_channels, side, side), mean, std, prep.interpolation,
                         prep.crop_pct, "imagenet-1k")


class PretrainedEntry(namedtuple("PretrainedEntry", "model source tag input_size mean std interpolation crop_pct "
                                                     "suffixes file")):
    """A published weights file the package loads: model, source, timm tag (None for others), input
    (C, H, W), mean, std, resize interpolation, centre-crop share, file suffixes, the file to fetch."""
    __slots__ = ()

    def table_row(self):
        """(model, source, file, input, preprocessing): a row of the docs' table of weight files."""
        stats = lambda values: "(" + ", ".join(f"{v:g}" for v in values) + ")"  # noqa: E731
        return (f"`{self.model}`", self.source, f"`{self.file}`", "x".join(map(str, self.input_size)),
                f"{self.interpolation} resize to {self.input_size[1] / self.crop_pct:.0f}, centre crop "
                f"{self.input_size[1]}, mean {stats(self.mean)}, std {stats(self.std)}")


def list_pretrained(pattern=None):
    """Every published weights file that loads into a registered model (one per timm tag), with
    its input size and preprocessing; ``pattern`` filters the model names as list_models does."""
    import fnmatch
    rows = []
    for (model, source), published in sorted(PUBLISHED.items()):
        if pattern is not None and not fnmatch.fnmatchcase(model, pattern):
            continue
        tags = TIMM_TAGS.get(model, {}).items() if source == "timm" else [(None, (SOURCES[source].mean,
                                                                                   SOURCES[source].std))]
        for tag, (mean, std) in sorted(tags, key=lambda item: item[0] or ""):
            rows.append(PretrainedEntry(model, source, tag, (3, published.input_size, published.input_size), mean,
                                        std, published.interpolation, published.crop_pct, SOURCES[source].suffixes,
                                        published.file.format(tag=tag)))
    return rows


@functools.lru_cache(maxsize=1)
def imagenet_classes():
    """The ImageNet-1k class names, in the order of the published 1000-class classifiers."""
    with open(os.path.join(os.path.dirname(__file__), "imagenet1k_classes.txt"), encoding="utf-8") as handle:
        return tuple(line.rstrip("\n") for line in handle)


def adapt_input_conv(weight, in_channels):
    """A first convolution's RGB weights (O, 3, k, k) for ``in_channels`` inputs, as timm's
    ``adapt_input_conv``: 1 channel sums the RGB filters (a grey image then gives what it gives
    repeated as RGB); others repeat the filters cyclically and scale them by 3 / in_channels."""
    if in_channels == 1:
        return weight.sum(axis=1, keepdims=True)
    repeats = -(-in_channels // weight.shape[1])
    return np.tile(weight, (1, repeats, 1, 1))[:, :in_channels] * (weight.shape[1] / in_channels)


def get_pretrained(name, weights, num_classes=None, source=None, ctx=None, trunk_only=False,  # noqa: PLR0913
                   mean=None, std=None, **kwargs):
    """Model ``name`` with published weights: ``weights`` a file path, or the publisher's own file
    ('gluoncv' or True, 'torchvision', 'timm' or 'timm:TAG'; downloaded on first use).

    The net is built as ``source`` (by default guessed from the file suffix) builds it;
    ``num_classes`` other than the file's gives a new classifier (and aux heads), as does
    ``trunk_only`` (a feature extractor needs no classifier); ``in_channels`` other than 3
    adapts the first convolution (``adapt_input_conv``); ``mean``, ``std``: the preprocessing of
    a timm file that says nothing of it (timm_preprocessing); other ``kwargs`` go to the model's
    factory.
    """
    source = source_of(weights, source)
    weights = published_file(name, weights)
    build = dict(_published(name, source).build, **kwargs)
    in_channels = build.get("in_channels", 3)
    if in_channels != 3 and build.get("transform_input"):
        raise ConfigError(f"{source.name}'s {name} weights take RGB through a per-channel input transform; "
                          f"for in_channels={in_channels} use GluonCV or timm weights")
    cfg = pretrained_cfg(name, weights, in_channels, source.name, mean, std)  # before reading: fail at once
    arrays, table = read_weights(weights, source), name_table(name, source.name)
    if in_channels != 3:
        first = next(iter(table.pairs.values()))  # every table starts with the first convolution
        arrays = dict(arrays, **{first: adapt_input_conv(arrays[first], in_channels)})
    saved_classes = file_classes(arrays, table)
    classes = num_classes or saved_classes
    net = build_model(name, num_classes=classes, **build)
    net.initialize(mx.init.Xavier(), ctx=ctx or mx.cpu())
    net.pretrained_cfg = cfg
    if classes == saved_classes == len(imagenet_classes()) and not trunk_only:
        net.class_names = imagenet_classes()
    skip = _PARTS if classes != saved_classes or trunk_only else ()
    load_into(net, arrays, weights, table, skip=skip)
    if skip and not trunk_only:
        log.info("%s: new %d-class classifier (the file's has %d classes)", name, classes, saved_classes)
    return net
