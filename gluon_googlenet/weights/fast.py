"""Faster CPU inference paths on MXNet's own engines: fused graph, bfloat16, INT8.

All three take a trained, initialised HybridBlock and an example input shape and return a
block to call like the original (outputs float32 logits, except bf16 which gives bfloat16:
cast with ``.astype('float32')``).
"""
import warnings

import mxnet as mx

from ..base.amx import refuse_amx
from ..base.cpu import require_bf16
from ..base.errors import ConfigError
from ..base.gluon_internals import calibration_counts, tolerant_calibration


def fused(net, input_shape, ctx=None):
    """The net's graph with MKLDNN (oneDNN) operator fusion (conv + ReLU, ...), hybridized."""
    x = mx.nd.zeros(input_shape, ctx=ctx or mx.cpu())
    net.optimize_for(x, backend="MKLDNN", static_alloc=True, static_shape=True)
    return net


def bfloat16(net, input_shape, ctx=None):
    """A SymbolBlock computing in bfloat16 where MXNet's AMP lists allow (AVX512_BF16 CPUs).

    CpuFeatureError (one line) on a CPU whose oneDNN has no bfloat16 kernels. Where AMP leaves a
    Concat with inputs of both types (the Inception-ResNet nets' residual branches), Concat
    stays float32."""
    from mxnet.contrib import amp
    ctx = ctx or mx.cpu()
    if ctx.device_type == "cpu":
        require_bf16("fast.bfloat16")
    net.hybridize(static_alloc=True, static_shape=True)
    x = mx.nd.zeros(input_shape, ctx=ctx)
    net(x)

    def convert(fp32_ops=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            block = amp.convert_hybrid_block(net, target_dtype="bfloat16", fp32_ops=fp32_ops, ctx=ctx)
        block.hybridize(static_alloc=True, static_shape=True)
        block(x)
        return block

    try:
        return convert()
    except mx.base.MXNetError as err:
        if "Non-uniform data type in Concat" not in str(err):
            raise
        return convert(fp32_ops=["Concat"])


class Float32Outputs(mx.gluon.Block):
    """``block`` (a bfloat16 one) whose outputs come back as float32, for code that reads logits."""

    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        """The block's computation on ``x`` (see the class docstring)."""
        out = self.block(x)
        return [o.astype("float32") for o in out] if isinstance(out, (list, tuple)) else out.astype("float32")


def int8(net, calib_images, batch_size=64, calib_mode="naive", ctx=None, to_input=None):
    """Post-training INT8 quantisation with calibration on ``calib_images`` (uint8 NCHW numpy),
    through ``mxnet.contrib.quantization.quantize_net_v2``; ``to_input`` maps a uint8 batch
    to the net's float input (default: scale to [0, 1]).

    ``block.calibration`` is (quantised layers with their calibrated range, quantised layers that
    need one; gluon_internals.calibration_counts): every range comes from the calibration images
    (gluon_internals.tolerant_calibration); ConfigError, one line, should one be missed."""
    from mxnet.contrib.quantization import quantize_net_v2
    refuse_amx("INT8 quantisation")
    if calib_mode not in ("naive", "entropy"):
        raise ConfigError(f"calib_mode must be naive or entropy, got {calib_mode!r}")
    ctx = ctx or mx.cpu()
    to_input = to_input or (lambda b: b.astype("float32") / 255)
    images = to_input(mx.nd.array(calib_images, dtype="uint8"))
    loader = mx.gluon.data.DataLoader(
        mx.gluon.data.ArrayDataset(images, mx.nd.zeros((len(images),))), batch_size=batch_size)
    net.hybridize(static_alloc=True, static_shape=True)
    net(images[:batch_size].as_in_context(ctx))
    with warnings.catch_warnings(), tolerant_calibration():
        warnings.simplefilter("ignore")
        block = quantize_net_v2(net, quantized_dtype="auto", calib_mode=calib_mode, calib_data=loader,
                                num_calib_examples=len(images), ctx=ctx)
    block.calibration = calibration_counts(block)
    if block.calibration[0] < block.calibration[1]:
        raise ConfigError(f"INT8 calibration gave {block.calibration[0]} of {block.calibration[1]} quantised layers "
                          "their range; the others would quantise at run time")
    block.hybridize(static_alloc=True, static_shape=True)
    return block
