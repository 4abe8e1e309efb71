"""The distributed kvstore: two local workers end with identical weights."""
import subprocess
import sys

from gluon_googlenet.training.checkpoint import read_checkpoint
from gluon_googlenet.training.distributed import dmlc_env, free_port

import numpy as np
import pytest


def test_dmlc_environment_for_loopback():
    env = dmlc_env("worker", 2, 1, "127.0.0.1", 9000)
    assert (env["DMLC_ROLE"], env["DMLC_NUM_WORKER"], env["DMLC_NUM_SERVER"]) == ("worker", "2", "1")
    assert env["DMLC_PS_ROOT_URI"] == env["DMLC_NODE_HOST"] == "127.0.0.1" and env["DMLC_INTERFACE"] == "lo"
    assert 0 < free_port() < 65536


@pytest.mark.slow
def test_two_workers_end_with_identical_weights(fashion_dir, tmp_path):
    out = tmp_path / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "gluon_googlenet", "launch", "--workers", "2", "--servers", "1",
         "--timeout", "240", "--", "--epochs", "2", "--resize", "32", "--limit-train", "256",
         "--limit-test", "64", "--batch-size", "32", "--out", str(out), "--no-progress",
         "--data-dir", fashion_dir], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "worker 0 of 2" in result.stdout and "worker 1 of 2" in result.stdout
    assert "128 train" in result.stdout  # each worker trains on its half of the 256 images
    meta0, w0, _ = read_checkpoint(str(out / "worker0" / "last.ckpt"))
    meta1, w1, _ = read_checkpoint(str(out / "worker1" / "last.ckpt"))
    assert meta0["epoch"] == meta1["epoch"] == 2
    assert w0.keys() == w1.keys()
    for name in w0:
        np.testing.assert_array_equal(w0[name].asnumpy(), w1[name].asnumpy(), err_msg=name)
    # the workers trained: nearly every weight array left the common Xavier start, by a real step
    from gluon_googlenet import get_model

    import mxnet as mx
    start = get_model("googlenet_d2l")
    mx.random.seed(0)
    start.initialize(mx.init.Xavier())
    start.save_parameters(str(tmp_path / "start.params"))  # structural names, as checkpoints hold
    initial = {k: v.asnumpy() for k, v in mx.nd.load(str(tmp_path / "start.params")).items()}
    assert initial.keys() == w0.keys()
    changed = [k for k in w0 if not np.array_equal(w0[k].asnumpy(), initial[k])]
    assert len(changed) >= 0.9 * len(w0)
    step = np.sqrt(sum(float(((w0[k].asnumpy() - initial[k]) ** 2).sum()) for k in w0))
    size = np.sqrt(sum(float((initial[k] ** 2).sum()) for k in w0))
    assert step > 1e-4 * size  # measured: 4.6e-4 after 8 SGD steps
    assert meta0["history"][1]["train_loss"] < meta0["history"][0]["train_loss"]
    for pattern in (str(out), "-c import mxnet"):  # workers; scheduler and server
        leftovers = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
        assert leftovers.strip() == "", pattern
