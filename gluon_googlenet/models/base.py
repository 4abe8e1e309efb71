"""StagedNet: a classifier built from a stage table, a head and optional auxiliary heads.

It checks its inputs before MXNet does, walks its stages by name, and, with
auxiliary heads, returns ``TrainOutputs(main, aux)`` while autograd records in
training mode and the main logits alone otherwise (and in exported graphs).
"""
import warnings
from collections import namedtuple

from mxnet import autograd, nd
from mxnet.gluon import nn
from mxnet.gluon.nn import HybridBlock

from ..errors import InputShapeError
from ..layers import AuxTap, AvgPool, GlobalAvgPool, build_layer, build_sequence, channels_after, conv_relu, \
    flatten_stages, min_side, output_side

TrainOutputs = namedtuple("TrainOutputs", "main aux")
TrainOutputs.__doc__ = "Training-mode output of a net with auxiliary heads: main logits, tuple of aux logits."

AuxHeadSpec = namedtuple("AuxHeadSpec", "pool conv hidden dropout", defaults=(AvgPool(5, 3), 128, 1024, 0.7))
AuxHeadSpec.__doc__ = "Auxiliary classifier: pool, 1x1 conv, Dense(hidden)+ReLU, dropout, Dense(classes)."


def check_input_shape(shape, in_channels, min_size, model_name, fixed_size=None):
    """Raise InputShapeError unless ``shape`` is (N, in_channels, H, W) with H, W >= min_size
    (or H = W = fixed_size for nets whose classifier is sized for one input)."""
    if len(shape) != 4:
        raise InputShapeError(
            f"{model_name} expects a 4-D input (batch, {in_channels}, height, width), got shape {tuple(shape)}")
    if shape[1] != in_channels:
        raise InputShapeError(
            f"{model_name} was built for {in_channels} input channel(s), got {shape[1]} "
            f"(input shape {tuple(shape)}); build it with in_channels={shape[1]}")
    if fixed_size and tuple(shape[2:]) != (fixed_size, fixed_size):
        raise InputShapeError(
            f"{model_name} takes {fixed_size}x{fixed_size} inputs only (its Dense layer is sized "
            f"for them), got {shape[2]}x{shape[3]}")
    if min(shape[2], shape[3]) < min_size:
        raise InputShapeError(
            f"{model_name} needs inputs of at least {min_size}x{min_size} pixels, "
            f"got {shape[2]}x{shape[3]}")


class StagedNet(HybridBlock):
    """Stages from ``stages`` (children named after them), then ``head``.

    classes, in_channels: outputs and input channels. batch_norm: BN after every conv
    (a Conv's own ``bn`` overrides). hidden: widths of Dense+ReLU layers before the
    classifier; dropout: rate before them (0: none). aux_head: an AuxHeadSpec built
    at each AuxTap of the table. input_size: the square side the head is sized for
    when the stages do not end in global pooling, and for auxiliary heads.
    """

    def __init__(self, stages, classes, in_channels, batch_norm=False, hidden=(), dropout=0.0,
                 aux_head=None, input_size=224, model_name="model", input_transform=None, **kwargs):
        super().__init__(**kwargs)
        self.input_transform = tuple(input_transform) if input_transform else None
        self.classes, self.in_channels, self.model_name = classes, in_channels, model_name
        self.stage_table = tuple(stages)
        self.stage_names = tuple(name for name, _ in stages)
        layers = flatten_stages(stages)
        self.min_size = min_side(layers)
        self._taps, tap_points = {}, []
        channels, before = in_channels, []
        with self.name_scope():
            for name, stage_layers in stages:
                stage, channels_out = build_sequence(stage_layers, channels, batch_norm, prefix=f"{name}_")
                built = 0
                for layer in stage_layers:
                    if isinstance(layer, AuxTap):
                        if aux_head is not None:
                            self._taps.setdefault(name, []).append(built)
                            tap_points.append(tuple(before))
                        continue
                    before.append(layer)
                    built += 1
                setattr(self, name, stage)
                channels = channels_out
            pooled = isinstance(layers[-1], GlobalAvgPool)
            self.fixed_size = None if pooled else input_size
            if not pooled:
                if input_size < self.min_size:
                    raise InputShapeError(f"{model_name} needs inputs of at least {self.min_size}x"
                                          f"{self.min_size} pixels; cannot build it for {input_size}x{input_size}")
                self.min_size = input_size
            side = 1 if pooled else output_side(layers, input_size)
            self.head = nn.HybridSequential(prefix="head_")
            with self.head.name_scope():
                if dropout:
                    self.head.add(nn.Dropout(dropout))
                units = channels * side * side
                for width in hidden:
                    self.head.add(nn.Dense(width, activation="relu", in_units=units))
                    units = width
                self.head.add(nn.Dense(classes, in_units=units))
            self.aux_names = []
            for i, prefix_layers in enumerate(tap_points, 1):
                tapped = prefix_layers + (aux_head.pool,)
                self.min_size = max(self.min_size, min_side(tapped))
                setattr(self, f"aux{i}", _aux_head(aux_head, channels_after(prefix_layers, in_channels),
                                                   output_side(tapped, input_size), classes, batch_norm, i))
                self.aux_names.append(f"aux{i}")
        self._training_graph = _Ref(_TrainingGraph(self)) if self.aux_names else None

    def stages(self):
        """(name, block) pairs in forward order, the head last (aux heads not included)."""
        return [(name, getattr(self, name)) for name in self.stage_names] + [("head", self.head)]

    def hybridize(self, active=True, *args, **kwargs):
        super().hybridize(active, *args, **kwargs)
        if self._training_graph:
            self._training_graph.obj.hybridize(active, *args, **kwargs)

    def forward(self, x, *args):
        if isinstance(x, nd.NDArray):
            check_input_shape(x.shape, self.in_channels, self.min_size, self.model_name, self.fixed_size)
            if self._training_graph and autograd.is_training():
                main, *aux = self._training_graph.obj(x)
                return TrainOutputs(main, tuple(aux))
        if not self.aux_names:
            return super().forward(x, *args)
        with warnings.catch_warnings():  # the inference graph leaves the aux heads out on purpose
            warnings.filterwarnings("ignore", message=r"Parameter .* is not used by any computation")
            return super().forward(x, *args)

    def run(self, F, x, with_aux=False):
        """Forward through stages and head; with_aux: [main, aux1, ...] (aux heads read at taps)."""
        if self.input_transform:  # x_c * scale_c + shift_c, channel by channel
            channels = F.split(x, num_outputs=len(self.input_transform), axis=1)
            x = F.concat(*[c * scale + shift for c, (scale, shift) in zip(channels, self.input_transform)],
                         dim=1)
        aux = []
        for name in self.stage_names:
            stage = getattr(self, name)
            taps = self._taps.get(name) if with_aux else None
            if not taps:
                x = stage(x)
                continue
            for i in range(len(stage)):
                if i in taps:
                    aux.append(getattr(self, self.aux_names[len(aux)])(x))
                x = stage[i](x)
        out = self.head(x)
        return [out] + aux if with_aux else out

    def hybrid_forward(self, F, x):
        return self.run(F, x)


def _aux_head(spec, in_channels, pooled_side, classes, batch_norm, index):
    head = nn.HybridSequential(prefix=f"aux{index}_")
    with head.name_scope():
        head.add(build_layer(spec.pool, in_channels)[0],
                 conv_relu(spec.conv, 1, in_channels=in_channels, batch_norm=batch_norm),
                 nn.Dense(spec.hidden, activation="relu", in_units=spec.conv * pooled_side ** 2),
                 nn.Dropout(spec.dropout),
                 nn.Dense(classes, in_units=spec.hidden))
    return head


class _Ref:
    """Holds a block without registering it as a child (no parameter or summary duplicates)."""

    def __init__(self, obj):
        self.obj = obj


class _TrainingGraph(HybridBlock):
    """The net's own blocks, returning [main, aux1, ...]; hybridizes into its own graph."""

    def __init__(self, net):
        super().__init__(prefix=net.prefix)
        self._net = _Ref(net)
        for name, block in net.stages():
            setattr(self, name, block)
        for name in net.aux_names:
            setattr(self, name, getattr(net, name))

    def hybrid_forward(self, F, x):
        return self._net.obj.run(F, x, with_aux=True)


def staged_model(name, stages, classes, in_channels, dropout=0.0, batch_norm=True, **kwargs):
    """A registered StagedNet: parameter names start with ``name_``, errors name the model."""
    return StagedNet(stages, classes, in_channels, batch_norm, dropout=dropout, model_name=name,
                     prefix=f"{name}_", **kwargs)
