"""StagedNet: a classifier built from a net described as data (``NetSpec``): stages, head, aux heads.

It checks its inputs before MXNet does and walks its stages by name; like the book's
``nn.Sequential`` it iterates over its stages and head (``len(net)``, ``net[0]``). Auxiliary heads follow one
switch, as torchvision's: a net built with them (``net.aux_logits`` True) returns
``TrainOutputs(main, aux)`` while autograd records in training mode, and the main logits alone
otherwise and in exported graphs; ``net.aux_logits = False`` turns them off.
"""
import contextlib
import warnings
from collections import namedtuple

from mxnet import autograd, nd
from mxnet.gluon import nn
from mxnet.gluon.nn import HybridBlock

from ..base.errors import ConfigError, InputShapeError
from ..base.gluon_internals import clear_cached_graph
from ..base.normalization import normalize
from .backbone import Backbone, check_input_shape
from .layers import (
    AuxTap,
    AvgPool,
    GlobalAvgPool,
    Level,
    build_sequence,
    conv_relu,
    flatten_stages,
    min_side,
    sequence_channels,
    sequence_reduction,
    sequence_side,
)

NetSpec = namedtuple("NetSpec", "name stages batch_norm dropout hidden aux_head input_transform",
                     defaults=(False, 0.0, (), None, None))
NetSpec.__doc__ = ("A net as data: its name, stage table ((name, layers) pairs; Level marks in it end and name "
                   "the feature levels, else the stage ends are the levels, named after their stages), BN after "
                   "every conv, head (dropout rate, Dense+ReLU widths before the classifier), an AuxHeadSpec "
                   "built at each AuxTap (None: no aux heads) and a per-channel input transform "
                   "((mean, std) for base.normalization.normalize, or None).")
FeatureInfo = namedtuple("FeatureInfo", "num_chs reduction module name")
FeatureInfo.__doc__ = ("A feature level (timm's feature_info): channels, reduction of the input side, layer "
                       "name, and the level's own name (its Level mark's in the table, else the stage's).")


class FeatureInfoList(tuple):
    """A net's FeatureInfo per level, with timm's accessors: ``channels()``, ``reduction()``,
    ``module_name()`` (a list, or one level's value for ``idx``)."""

    def _get(self, field, idx):
        return getattr(self[idx], field) if idx is not None else [getattr(i, field) for i in self]

    def channels(self, idx=None):
        """Channels of level ``idx``, or of every level (timm's FeatureInfo.channels)."""
        return self._get("num_chs", idx)

    def reduction(self, idx=None):
        """Reduction of level ``idx``, or of every level (timm's FeatureInfo.reduction)."""
        return self._get("reduction", idx)

    def module_name(self, idx=None):
        """Layer name of level ``idx``, or of every level (timm's FeatureInfo.module_name)."""
        return self._get("module", idx)

    def names(self, idx=None):
        """The name of level ``idx`` ('inception4e'), or of every level."""
        return self._get("name", idx)

    def index(self, level, *args):
        """Position of ``level``: a FeatureInfo, or a level's name; ConfigError for an unknown name."""
        if not isinstance(level, str):
            return super().index(level, *args)
        names = self.names()
        if level not in names:
            raise ConfigError(f"no feature level named {level!r}; the levels: {', '.join(names)}")
        return names.index(level)


TrainOutputs = namedtuple("TrainOutputs", "main aux")
TrainOutputs.__doc__ = "Training-mode output of a net with auxiliary heads: main logits, tuple of aux logits."

# torchvision's input transform: ImageNet-normalised input x -> x * std_c / 0.5 + (mean_c - 0.5) / 0.5,
# which is (x - M_c) / S_c with M_c = (0.5 - mean_c) / std_c, S_c = 0.5 / std_c (a (mean, std) pair).
_IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
TORCHVISION_TRANSFORM = (tuple((0.5 - m) / s for m, s in zip(*_IMAGENET)), tuple(0.5 / s for s in _IMAGENET[1]))

AuxHeadSpec = namedtuple("AuxHeadSpec", "pool conv hidden dropout", defaults=(AvgPool(5, 3), 128, 1024, 0.7))
AuxHeadSpec.__doc__ = "Auxiliary classifier: pool, 1x1 conv, Dense(hidden)+ReLU, dropout, Dense(num_classes)."


class StagedNet(Backbone, HybridBlock):
    """The stages of ``spec`` (children named after them), then ``head``, then aux heads.

    num_classes, in_channels: outputs and input channels; ``class_names`` holds the class names
    where they are known. input_size: the square side the head is
    sized for when the stages do not end in global pooling (then ``fixed_size``, the one side
    the net takes), and the aux heads' input. ``min_size``: the smallest side the table (and
    its aux taps) can be built for. ``aux_logits``: the aux heads' switch. ``trim_small_maps``
    (on by default): a call on an array traces its graph for that input's sides, leaving out of the
    Inception blocks on 1x1 and 2x2 maps the kernel taps and pooling that only meet padding (the same
    function; ``Inception.trace_side``); symbols and ``general_graph()`` get the graph for any side. The
    backbone interface (forward_features, forward_head, reset_classifier, feature_info,
    num_features) is in backbone.py.
    """

    def __init__(self, spec, num_classes, in_channels, input_size=224, **kwargs):
        super().__init__(**kwargs)
        self.model_name, self.num_classes, self.in_channels = spec.name, num_classes, in_channels
        self.class_names = None  # where known (published ImageNet weights, checkpoints)
        self.stage_table, self.stage_names = tuple(spec.stages), tuple(name for name, _ in spec.stages)
        self.input_transform = tuple(spec.input_transform) if spec.input_transform else None
        layers = flatten_stages(spec.stages)
        pooled = self.pooled = isinstance(layers[-1], GlobalAvgPool)
        self.min_size = min_side(layers)
        if not pooled and input_size < self.min_size:
            raise InputShapeError(f"{spec.name} needs inputs of at least {self.min_size}x{self.min_size} "
                                  f"pixels; cannot build it for {input_size}x{input_size}")
        self.fixed_size = None if pooled else input_size
        with self.name_scope():
            channels = in_channels
            for name, stage_layers in spec.stages:
                stage, channels = build_sequence(stage_layers, channels, spec.batch_norm, prefix=f"{name}_")
                setattr(self, name, stage)
            side = 1 if pooled else sequence_side(layers, input_size)
            self.head_hidden_size = spec.hidden[-1] if spec.hidden else channels * side * side
            self.head = _head(spec, channels * side * side, num_classes)
            self.classifier_prefix = self.head[-1].prefix
            self.aux_names, self._taps = [], {}
            if spec.aux_head is not None:
                self._add_aux_heads(spec, input_size)
        self.aux_hidden_size = spec.aux_head.hidden if spec.aux_head else None
        self._aux_logits = self._graph_has_aux = False
        self.trim_small_maps, self._graph_sides = True, ()
        self.aux_logits = bool(self.aux_names)
        self._describe_features(spec)

    @property
    def aux_logits(self):
        """The switch of the auxiliary heads: on, training mode returns TrainOutputs(main, aux)."""
        return self._aux_logits

    @aux_logits.setter
    def aux_logits(self, on):
        if on and not self.aux_names:
            raise ConfigError(f"{self.model_name} was built without auxiliary heads: build it with "
                              "aux_logits=True")
        self._aux_logits = bool(on)

    def _describe_features(self, spec):
        """layers(), feature_levels, feature_info and num_features, from the table."""
        built = [(name, [layer for layer in stage if not isinstance(layer, (AuxTap, Level))])
                 for name, stage in spec.stages]
        self._layer_names = [name if len(stage) == 1 and len(layers) == 1 else f"{name}.{i}"
                             for (name, layers), (_, stage) in zip(built, spec.stages) for i in range(len(layers))]
        flat = self._layer_specs = [layer for _, layers in built for layer in layers]
        self.trunk_length = len(flat) - (1 if self.pooled else 0)
        named = _marked_levels(spec.stages)
        if not named:  # the stage ends, named after their stages
            ends = [sum(len(layers) for _, layers in built[:i + 1]) for i in range(len(built))]
            named = [(stage, min(end, self.trunk_length)) for (stage, _), end in zip(built, ends)]
        for level, count in named:
            if not 0 < count <= self.trunk_length:
                raise ConfigError(f"{self.model_name}: feature level {level!r} must follow a layer of the trunk "
                                  "(not open a table or follow its global pooling)")
        self.feature_levels = tuple(count for _, count in named)
        self.feature_info = FeatureInfoList(FeatureInfo(sequence_channels(flat[:n], self.in_channels),
                                                        sequence_reduction(flat[:n]), self._layer_names[n - 1], name)
                                            for name, n in named)
        self.num_features = sequence_channels(flat[:self.trunk_length], self.in_channels)

    def layers(self):
        """(name, block) of every layer of the table in forward order ('b3.1': stage b3's second)."""
        blocks = []
        for name in self.stage_names:
            stage = getattr(self, name)
            blocks += [stage] if name in self._layer_names else [stage[i] for i in range(len(stage))]
        return list(zip(self._layer_names, blocks))

    def layer_sides(self, side):
        """(layer name, output side) of every layer for a square input of ``side``, from the table."""
        sides = []
        for name, layer in zip(self._layer_names, self._layer_specs):
            side = layer.out_side(side)
            sides.append((name, side))
        return sides

    def walk(self, F, x, count, taps=()):
        """``x`` (input transform applied) through the first ``count`` layers; returns the output
        and the outputs after each layer count in ``taps``."""
        x, outs = self._transform(F, x), []
        for n, (_, block) in enumerate(self.layers()[:count], 1):
            x = block(x)
            if n in taps:
                outs.append(x)
        return x, outs

    def _transform(self, F, x):
        return normalize(F, x, *self.input_transform) if self.input_transform else x

    def _add_aux_heads(self, spec, input_size):
        """An aux head at each AuxTap, reading the features there (before the stage's next layer)."""
        before = []
        for name, stage_layers in spec.stages:
            in_stage = 0
            for layer in stage_layers:
                if isinstance(layer, Level):
                    continue
                if not isinstance(layer, AuxTap):
                    before.append(layer)
                    in_stage += 1
                    continue
                tapped = (*before, spec.aux_head.pool)
                self.min_size = max(self.min_size, min_side(tapped))
                self._taps.setdefault(name, []).append(in_stage)
                index = len(self.aux_names) + 1
                setattr(self, f"aux{index}", _aux_head(spec, sequence_channels(before, self.in_channels),
                                                       sequence_side(tapped, input_size), self.num_classes, index))
                self.aux_names.append(f"aux{index}")

    def stages(self):
        """(name, block) pairs in forward order, the head last (aux heads not included)."""
        return [(name, getattr(self, name)) for name in self.stage_names] + [("head", self.head)]

    # The book's nets are nn.Sequential of b1..b5 and a Dense: d2l's layer_summary walks them so.
    def __iter__(self):
        """The stages, then the head, in forward order (as the book's ``nn.Sequential``)."""
        return iter([block for _, block in self.stages()])

    def __len__(self):
        """How many blocks ``iter(net)`` gives: the stages and the head."""
        return len(self.stage_names) + 1

    def __getitem__(self, index):
        """The stage or head at ``index`` (an int or a slice) of ``iter(net)``."""
        return [block for _, block in self.stages()][index]

    def forward(self, x, *args):
        """Checks ``x``; the graph gives the aux heads' logits too exactly in aux training mode, and
        leaves out the work that cannot reach a pixel on this input's small maps (``trim_small_maps``).
        MXNet caches one graph per block, so a change of mode or of those maps rebuilds it (once per
        switch, not per batch)."""
        with_aux = isinstance(x, nd.NDArray) and self._aux_logits and autograd.is_training()
        sides = ()
        if isinstance(x, nd.NDArray):
            check_input_shape(x.shape, self)
            sides = self.trimmed_blocks(x.shape)
        plan = tuple((block.name, side) for block, side in sides)  # names: Gluon warns of stored Blocks
        if with_aux != self._graph_has_aux or plan != self._graph_sides:
            self._graph_has_aux, self._graph_sides = with_aux, plan
            clear_cached_graph(self)
        for block, side in sides:
            block.trace_side(side)
        try:
            with warnings.catch_warnings():  # the inference graph leaves the aux heads out on purpose
                warnings.filterwarnings("ignore", message=r"Parameter .* is not used by any computation")
                out = super().forward(x, *args)
        finally:  # any other trace (a symbol, a block called on its own) gets the general graph
            for block, _ in sides:
                block.trace_side(None)
        return TrainOutputs(out[0], tuple(out[1:])) if with_aux else out

    def trimmed_blocks(self, shape):
        """(block, side of its input maps) for each block with work to leave out on its maps (Inception's
        ``leaves_out``), given a square input of ``shape`` and ``trim_small_maps``; () otherwise."""
        if not self.trim_small_maps or shape[2] != shape[3]:
            return ()
        sides, side = [], shape[2]
        for (_, block), (_, out) in zip(self.layers(), self.layer_sides(shape[2])):
            if hasattr(block, "leaves_out") and block.leaves_out(side):
                sides.append((block, side))
            side = out
        return tuple(sides)

    @contextlib.contextmanager
    def general_graph(self):
        """Within it, the net traces the graph for any input side (exports take every size the net does)."""
        trim, self.trim_small_maps = self.trim_small_maps, False
        clear_cached_graph(self)
        try:
            yield self
        finally:
            self.trim_small_maps = trim
            clear_cached_graph(self)

    def run(self, F, x, with_aux=False):
        """Forward through stages and head; with_aux: [main, aux1, ...] (aux heads read at taps)."""
        x, aux = self._transform(F, x), []
        for name in self.stage_names:
            stage, taps = getattr(self, name), self._taps.get(name) if with_aux else None
            if not taps:
                x = stage(x)
                continue
            for i in range(len(stage)):
                if i in taps:
                    aux.append(getattr(self, self.aux_names[len(aux)])(x))
                x = stage[i](x)
        out = self.head(x)
        return [out, *aux] if with_aux else out

    def hybrid_forward(self, F, x):
        """The block's computation on ``x`` (see the class docstring)."""
        return self.run(F, x, with_aux=self._graph_has_aux)


def _marked_levels(stages):
    """(name, layers up to it) of each Level mark in a stage table, in order."""
    marks, count = [], 0
    for _, layers in stages:
        for layer in layers:
            if isinstance(layer, Level):
                marks.append((layer.name, count))
            elif not isinstance(layer, AuxTap):
                count += 1
    return marks


def _head(spec, units, num_classes):
    head = nn.HybridSequential(prefix="head_")
    with head.name_scope():
        if spec.dropout:
            head.add(nn.Dropout(spec.dropout))
        for width in spec.hidden:
            head.add(nn.Dense(width, activation="relu", in_units=units))
            units = width
        head.add(nn.Dense(num_classes, in_units=units))
    return head


def _aux_head(spec, in_channels, pooled_side, num_classes, index):
    aux = spec.aux_head
    head = nn.HybridSequential(prefix=f"aux{index}_")
    with head.name_scope():
        head.add(aux.pool.build(in_channels),
                 conv_relu(aux.conv, 1, in_channels=in_channels, batch_norm=spec.batch_norm),
                 nn.Dense(aux.hidden, activation="relu", in_units=aux.conv * pooled_side ** 2),
                 nn.Dropout(aux.dropout),
                 nn.Dense(num_classes, in_units=aux.hidden))
    return head


def staged_model(name, stages, num_classes, in_channels, dropout=0.0, batch_norm=True, **kwargs):
    """A registered StagedNet: parameter names start with ``name_``, errors name the model;
    ``input_transform`` and ``input_size`` may come in ``kwargs``."""
    spec = NetSpec(name, stages, batch_norm, dropout, input_transform=kwargs.pop("input_transform", None))
    return StagedNet(spec, num_classes, in_channels, prefix=f"{name}_", **kwargs)
