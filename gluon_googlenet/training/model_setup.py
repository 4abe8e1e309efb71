"""A run's net and optimizer: built (fresh, from published weights or from a checkpoint), frozen
where asked, hybridized; the Gluon Trainer with its kvstore; MXNet's AMP for bf16 / fp16."""
import logging

import mxnet as mx
from mxnet import gluon

from ..base.amx import precision_advice
from ..base.cpu import require_bf16
from ..base.errors import ConfigError
from ..base.gluon_internals import freeze
from ..weights.factory import get_model
from ..weights.pretrained import pretrained_build_kwargs
from .checkpoint import check_compatible, load_states, load_weights

log = logging.getLogger("gluon_googlenet.train")

_AMP_DTYPE = None  # the low precision MXNet's AMP was switched on for in this process


def enable_amp(precision, ctxs):
    """Turn on MXNet AMP for ``precision`` ('bf16' on CPU, 'fp16' on GPU) in this process.

    AMP patches MXNet's operators for the whole process, before the net is built; a process
    can use one low precision only. bf16 is refused at once on a CPU whose oneDNN lacks it.
    """
    global _AMP_DTYPE
    from mxnet.contrib import amp
    on_gpu = all(c.device_type == "gpu" for c in ctxs)
    if precision == "fp16" and not on_gpu:
        raise ConfigError("--precision fp16 (float16 AMP) needs GPU contexts (--ctx gpu); "
                          "on a CPU use --precision bf16")
    if precision == "bf16" and on_gpu:
        raise ConfigError("--precision bf16 is MXNet's CPU path (oneDNN); on GPUs use fp16")
    if precision == "bf16":
        require_bf16("--precision bf16")
        note = precision_advice().note
        if note:
            log.warning("%s", note)
    target = "bfloat16" if precision == "bf16" else "float16"
    if _AMP_DTYPE is not None:
        if _AMP_DTYPE != target:
            raise ConfigError("AMP is already on for another precision in this process")
        return
    amp.init(target_dtype=target)
    _AMP_DTYPE = target


def make_trainer(net, run, states=None):
    """Gluon Trainer for ``run``'s optimizer over the trainable parameters (frozen ones and BN
    running statistics get no optimizer state); kvstore 'device' aggregates across contexts,
    a distributed kvstore across processes. Adds AMP's loss scaler for fp16 runs and the
    optimizer ``states`` of a checkpoint (not on a distributed kvstore: its servers hold them)."""
    config = run.config
    params = {"learning_rate": config.lr, "wd": config.wd}
    if config.optimizer == "nag":
        params["momentum"] = config.momentum
    kvstore = run.kv or config.kvstore or ("device" if len(run.ctxs) > 1 else None)
    trainable = {name: p for name, p in net.collect_params().items() if p.grad_req != "null"}
    trainer = gluon.Trainer(trainable, config.optimizer, params, kvstore=kvstore)
    if config.precision == "fp16":  # bf16 has fp32's exponent range: no loss scaler, no overflow check
        from mxnet.contrib import amp
        amp.init_trainer(trainer)
    if states is not None and not run.distributed:
        load_states(trainer, states)
    return trainer


def build_net(run, num_classes, resumed=None):
    """The run's net for ``num_classes`` classes, hybridized, and the keyword arguments it was
    built with: Xavier-initialised from the run's seed, or started from published weights
    (``pretrained``), or the checkpoint's weights (``resumed``: a trainer.Resumed); the stages in
    ``freeze`` kept fixed."""
    config = run.config
    model_kwargs = {"num_classes": num_classes, "in_channels": run.channels, "input_size": run.size}
    if config.aux_logits:
        model_kwargs["aux_logits"] = True
    if config.pretrained:
        model_kwargs.update(pretrained_build_kwargs(config.model, config.pretrained))
    if resumed:
        check_compatible(resumed.meta, resumed.path, model=config.model, model_kwargs=model_kwargs)
        net = get_model(config.model, **model_kwargs)
        load_weights(net, resumed.params, run.ctxs, resumed.path)
    elif config.pretrained:
        mx.random.seed(config.seed)  # the new classifier's initialisation
        weights = True if config.pretrained == "gluoncv" else config.pretrained
        net = get_model(config.model, pretrained=weights, ctx=list(run.ctxs), **model_kwargs)
    else:
        net = get_model(config.model, **model_kwargs)
        mx.random.seed(config.seed)
        net.initialize(mx.init.Xavier(), ctx=list(run.ctxs))
    for stage in _frozen_stages(net, config.freeze):
        freeze(getattr(net, stage))
    net.hybridize(static_alloc=True, static_shape=True)
    return net, model_kwargs


def _frozen_stages(net, freeze_list):
    """Stage names of ``--freeze`` (comma-separated), checked against the net's stages."""
    names = [n.strip() for n in (freeze_list or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in net.stage_names]
    if unknown:
        raise ConfigError(f"--freeze: {net.model_name} has no stage {unknown[0]!r}; its stages: "
                          f"{', '.join(net.stage_names)}")
    return names
