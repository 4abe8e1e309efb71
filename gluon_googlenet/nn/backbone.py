"""The backbone interface every registered model has (timm's, in Gluon) and its feature pyramid.

``net.forward_features(x)``: the last feature map before global pooling; ``net.forward_head(f,
pre_logits=False)``: pooling, dropout and classifier on it (``pre_logits``: the pooled, dropped
features the classifier reads), so ``net(x)`` equals ``forward_head(forward_features(x))``;
``net.num_features``; ``net.reset_classifier(num_classes)``. ``FeatureNet(net, out_indices)``: one
graph with a feature map per level (``net.feature_info``: channels, reduction, layer of each).
"""
import warnings

import mxnet as mx
from mxnet import nd
from mxnet.gluon import nn
from mxnet.gluon.nn import HybridBlock

from ..base import ops
from ..base.errors import ConfigError, InputShapeError


def _ops(x):
    """MXNet's operator namespace for ``x``: nd for arrays, sym for graph symbols."""
    return mx.nd if isinstance(x, nd.NDArray) else mx.sym


def check_input_shape(shape, net):
    """InputShapeError unless ``shape`` is (N, net.in_channels, H, W) with H, W >= net.min_size
    (or H = W = net.fixed_size for nets whose classifier is sized for one input)."""
    name, channels = net.model_name, net.in_channels
    if len(shape) != 4:
        raise InputShapeError(f"{name} expects a 4-D input (batch, {channels}, height, width), "
                              f"got shape {tuple(shape)}")
    if shape[1] != channels:
        raise InputShapeError(f"{name} was built for {channels} input channel(s), got {shape[1]} "
                              f"(input shape {tuple(shape)}); build it with in_channels={shape[1]}")
    if net.fixed_size and tuple(shape[2:]) != (net.fixed_size, net.fixed_size):
        raise InputShapeError(f"{name} takes {net.fixed_size}x{net.fixed_size} inputs only (its Dense "
                              f"layer is sized for them), got {shape[2]}x{shape[3]}")
    if min(shape[2], shape[3]) < net.min_size:
        raise InputShapeError(f"{name} needs inputs of at least {net.min_size}x{net.min_size} pixels, "
                              f"got {shape[2]}x{shape[3]}")


class Backbone:
    """The backbone interface, mixed into a net that holds, as plain attributes and methods:
    ``layers()`` ((name, block) in forward order, global pooling last where there is one),
    ``walk(F, x, count, taps)`` (``x`` through the first ``count`` layers), ``head`` (a
    HybridSequential ending in the classifier), ``aux_names``, ``feature_info``, ``num_features``,
    ``pooled`` (the layers end in global pooling), ``trunk_length`` (the layers
    ``forward_features`` runs), ``head_hidden_size`` (the width the classifier reads: the last
    hidden layer's, else the pooled features', else the flattened map's), ``aux_hidden_size`` (the
    aux classifiers' input width, or None) and ``classifier_prefix`` (the classifier's parameter
    prefix, which a classifier made anew takes, so saved files keep their names). StagedNet is one."""

    def get_classifier(self):
        """The classifier block (a Dense; a Flatten after ``reset_classifier(0)``), as timm's."""
        return self.head[-1]

    def forward_features(self, x):
        """The feature map before global pooling (the whole trunk for nets without it)."""
        if isinstance(x, nd.NDArray):
            check_input_shape(x.shape, self)
        return self.walk(_ops(x), x, self.trunk_length)[0]

    def forward_head(self, features, pre_logits=False):
        """Global pooling (where the net has it), dropout and the classifier on ``features``;
        ``pre_logits``: the vector the classifier reads, of ``num_features`` (or the last hidden
        width's) values."""
        x = self.layers()[-1][1](features) if self.pooled else features
        if not pre_logits:
            return self.head(x)
        x = ops.flatten(_ops(x), x)
        for block in list(self.head)[:-1]:  # all but the classifier (or its stand-in, a Flatten)
            x = block(x)
        return x

    def reset_classifier(self, num_classes, init=None):
        """A fresh classifier (and aux classifiers) for ``num_classes`` classes, initialised with
        ``init`` (Xavier) on the net's context; ``num_classes=0``: none, the net outputs pre-logits."""
        old = self.head
        self.head = _with_last(old, list(old)[:-1], nn.Dense(num_classes, in_units=self.head_hidden_size,
                                                             prefix=self.classifier_prefix)
                               if num_classes else nn.Flatten())
        self.num_classes, self.class_names = num_classes, None  # the old names no longer apply
        for name in self.aux_names if num_classes else ():
            aux = getattr(self, name)
            setattr(self, name, _with_last(aux, list(aux)[:-1],
                                           nn.Dense(num_classes, in_units=self.aux_hidden_size,
                                                    prefix=aux[-1].prefix)))
        contexts = _contexts(old) or _contexts(self)
        if contexts:
            for block in [self.head] + [getattr(self, n) for n in self.aux_names]:
                block[-1].initialize(init or mx.init.Xavier(), ctx=contexts, force_reinit=True)


def _with_last(sequence, keep, last):
    """A HybridSequential with ``sequence``'s prefix: the blocks ``keep``, then ``last``."""
    fresh = nn.HybridSequential(prefix=sequence.prefix)
    fresh.add(*keep, last)
    return fresh


def _contexts(block):
    """The contexts ``block``'s first initialised parameter lives on, or None."""
    for param in block.collect_params().values():
        try:
            return param.list_ctx()
        except RuntimeError:
            continue
    return None


class FeatureNet(HybridBlock):
    """The feature maps of a StagedNet at its levels ``out_indices`` (positions or level names such
    as 'inception4e'; all by default), as a list
    from one graph (timm's ``features_only``); ``feature_info`` says each map's channels,
    reduction and layer. It shares the net's layers and parameter names, so exported files and
    published weights fit both."""

    def __init__(self, net, out_indices=None):
        super().__init__(prefix=net.prefix)
        count = len(net.feature_info)
        indices = tuple(range(count)) if out_indices is None else tuple(
            net.feature_info.index(i) if isinstance(i, str) else i for i in out_indices)
        if not indices or any(not -count <= i < count for i in indices):
            raise ConfigError(f"out_indices {indices} out of range: {net.model_name} has {count} feature levels "
                              f"(0..{count - 1})")
        self.model_name, self.in_channels, self.min_size, self.fixed_size = \
            net.model_name, net.in_channels, net.min_size, net.fixed_size
        self.feature_info = type(net.feature_info)(net.feature_info[i] for i in indices)
        self._levels = [net.feature_levels[i] for i in indices]
        self._walk = net.walk  # a bound method, not a Block: the net is not made a child
        for name, block in net.stages()[:-1]:
            setattr(self, name, block)

    def forward(self, x, *args):
        """The block's computation on ``x`` (see the class docstring)."""
        if isinstance(x, nd.NDArray):
            check_input_shape(x.shape, self)
        with warnings.catch_warnings():  # levels before the last leave the later stages out on purpose
            warnings.filterwarnings("ignore", message=r"Parameter .* is not used by any computation")
            return super().forward(x, *args)

    def hybrid_forward(self, F, x):
        """The block's computation on ``x`` (see the class docstring)."""
        outs = self._walk(F, x, max(self._levels), taps=set(self._levels))[1]
        order = sorted(set(self._levels))
        return [outs[order.index(level)] for level in self._levels]
