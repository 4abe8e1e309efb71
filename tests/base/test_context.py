"""Device contexts: parse_ctx and its one-line errors."""
from gluon_googlenet.base.context import parse_ctx
from gluon_googlenet.base.errors import ContextError

import mxnet as mx
import pytest


def test_parse_cpu_contexts():
    assert parse_ctx("cpu") == [mx.cpu(0)]
    assert parse_ctx("cpu:0,1") == [mx.cpu(0), mx.cpu(1)]
    assert parse_ctx(" CPU ") == [mx.cpu(0)]


@pytest.mark.parametrize("spec", ["gpu", "gpu:0,1", "gpu:1"])
def test_gpu_without_gpus_is_a_clear_error(spec):
    with pytest.raises(ContextError, match="MXNet sees none"):
        parse_ctx(spec, gpus=0)


def test_gpu_lists_become_gpu_contexts_when_gpus_exist(monkeypatch):
    from gluon_googlenet.base import context
    monkeypatch.setattr(context, "gpu_capability", lambda index: 86)  # an Ampere card's answer
    assert parse_ctx("gpu", gpus=2) == [mx.gpu(0)]
    assert parse_ctx("gpu:0,1", gpus=2) == [mx.gpu(0), mx.gpu(1)]
    with pytest.raises(ContextError, match="GPU 2 does not exist"):
        parse_ctx("gpu:0,2", gpus=2)


@pytest.mark.parametrize("spec", ["tpu", "gpu:a", "cpu:0,0", "gpu:-1"])
def test_bad_context_strings(spec):
    with pytest.raises(ContextError):
        parse_ctx(spec, gpus=2)


@pytest.mark.parametrize("capability, runs", [(50, True), (61, True), (75, True), (80, True), (86, True),
                                              (89, True), (90, False), (100, False), (35, False)])
def test_gpus_are_told_the_truth_before_any_kernel(monkeypatch, capability, runs):
    """The capability query replaced: Maxwell..Ada run the wheels' sm_50..sm_86 kernels (Ada runs sm_86
    code); Hopper and newer (and Kepler) are refused in one line naming the capability."""
    from gluon_googlenet.base import context
    from gluon_googlenet.base.errors import ContextError
    monkeypatch.setattr(context, "gpu_capability", lambda index: capability)
    if runs:
        assert context.parse_ctx("gpu:0,1", gpus=2) == [mx.gpu(0), mx.gpu(1)]
        return
    with pytest.raises(ContextError) as err:
        context.parse_ctx("gpu", gpus=1)
    message = str(err.value)
    assert message.splitlines() == [message]
    assert message.startswith(f"GPU 0 has compute capability {capability // 10}.{capability % 10} (sm_{capability}); "
                              "MXNet 1.9.1's CUDA wheels carry kernels for sm_50..sm_86 only")
