"""A run's net: built (fresh, from published weights or from a checkpoint), frozen where asked,
hybridized; MXNet's AMP for bf16 / fp16."""
import logging

import mxnet as mx

from ..base.amx import precision_advice
from ..base.errors import ConfigError
from ..base.gluon_internals import freeze, load_structural
from ..weights.factory import get_model
from .run.checkpoint import check_compatible
from .whitening import whiten_first_conv

log = logging.getLogger("gluon_googlenet.train")

_AMP_DTYPE = None  # the low precision MXNet's AMP was switched on for in this process


def enable_amp(precision):
    """Turn on MXNet AMP for ``precision`` ('bf16' on CPU, 'fp16' on GPU; the devices are checked
    by base.context.check_precision) in this process.

    AMP patches MXNet's operators for the whole process, before the net is built; a process
    can use one low precision only. On a CPU where bf16 training is slower than fp32 (amx.py's
    precision_advice) a warning says so.
    """
    global _AMP_DTYPE
    from mxnet.contrib import amp
    note = precision_advice().note if precision == "bf16" else None
    if note:
        log.warning("%s", note)
    target = "bfloat16" if precision == "bf16" else "float16"
    if _AMP_DTYPE is not None:
        if _AMP_DTYPE != target:
            raise ConfigError("AMP is already on for another precision in this process")
        return
    amp.init(target_dtype=target)
    _AMP_DTYPE = target


def build_net(run, num_classes, resumed=None, train_images=None):
    """The run's net for ``num_classes`` classes, hybridized, and the keyword arguments it was
    built with: Xavier-initialised from the run's seed (with ``whiten``, its first convolution then
    set from ``train_images``, uint8 NCHW: whitening.py), or started from published weights
    (``pretrained``), or the checkpoint's weights (``resumed``: a run.folder.Resumed); the stages
    in ``freeze`` kept fixed (ConfigError, one line, for a stage the net has not)."""
    config = run.config
    model_kwargs = {"num_classes": num_classes, "in_channels": run.channels, "input_size": run.size}
    if config.aux_logits:
        model_kwargs["aux_logits"] = True
    model_kwargs.update(run.build)
    if resumed:
        check_compatible(resumed.meta, resumed.path, model=config.model, model_kwargs=model_kwargs)
    weights = None if resumed or not config.pretrained else (
        True if config.pretrained == "gluoncv" else config.pretrained)
    mx.random.seed(config.seed)  # the initialisation of a new net or of a new classifier
    net = get_model(config.model, pretrained=weights, ctx=list(run.ctxs), **model_kwargs)
    if resumed:
        load_structural(net, resumed.params if resumed.live is None else resumed.live, run.ctxs, resumed.path)
    elif not weights:
        net.initialize(mx.init.Xavier(), ctx=list(run.ctxs))
        if config.whiten:
            whiten_first_conv(net, train_images, *run.norm)
    frozen = [n.strip() for n in (config.freeze or "").split(",") if n.strip()]
    unknown = [n for n in frozen if n not in net.stage_names]
    if unknown:
        raise ConfigError(f"--freeze: {net.model_name} has no stage {unknown[0]!r}; its stages: "
                          f"{', '.join(net.stage_names)}")
    for stage in frozen:
        freeze(getattr(net, stage))
    net.hybridize(static_alloc=True, static_shape=True)
    return net, model_kwargs
