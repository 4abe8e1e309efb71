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


def test_gpu_lists_become_gpu_contexts_when_gpus_exist():
    assert parse_ctx("gpu", gpus=2) == [mx.gpu(0)]
    assert parse_ctx("gpu:0,1", gpus=2) == [mx.gpu(0), mx.gpu(1)]
    with pytest.raises(ContextError, match="GPU 2 does not exist"):
        parse_ctx("gpu:0,2", gpus=2)


@pytest.mark.parametrize("spec", ["tpu", "gpu:a", "cpu:0,0", "gpu:-1"])
def test_bad_context_strings(spec):
    with pytest.raises(ContextError):
        parse_ctx(spec, gpus=2)
