"""What a worker of a distributed run (MXNet's ``dist_sync`` kvstore) agrees with the others on,
through the kvstore itself, since the hosts share no file system.

One worker writes the run folder (checkpoints, history, the export) on its host: rank 0 on a
fresh run; on ``--resume``, the worker whose host holds the newest checkpoint (ps-lite orders
ranks by address and a random port, so rank 0 may land on another host than the one before).
That worker's checkpoint goes to every worker (``share_weights``) before the Trainer starts.
Keys used here are far above the Trainer's (one per parameter, from 0).
"""
from collections import namedtuple

import mxnet as mx
import numpy as np

from ...base.errors import CheckpointError
from .joined import joined_line

_EPOCHS_KEY, _WEIGHTS_KEY = 1 << 24, (1 << 24) + 1
Start = namedtuple("Start", "writer epoch")
Start.__doc__ = "Rank of the worker that writes the run folder; epochs done by the checkpoint resumed (0: none)."


def join():
    """The dist_sync kvstore of this worker (ps-lite's ``DMLC_*`` variables, set by the launcher),
    once every process has connected; the joined line (joined.py) tells the launcher so."""
    kv = mx.kv.create("dist_sync")
    print(joined_line(kv.rank, kv.num_workers), flush=True)
    return kv


def _sum_over_workers(kv, key, value):
    """The sum of every worker's ``value`` (an NDArray): a server without an optimizer stores the
    sum of the pushes of one round (dist_sync), and a pull waits for it."""
    kv.init(key, mx.nd.zeros(value.shape))
    kv.push(key, value)
    total = mx.nd.zeros(value.shape)
    kv.pull(key, out=total)
    return total


def agree_on_start(kv, resumed):
    """Start of this run, agreed by all workers: each says the epochs of the checkpoint its host
    holds (``resumed``, or None); the newest wins, the lowest rank on a tie. CheckpointError, on
    every worker, when ``--resume`` finds a checkpoint on no host."""
    mine = np.zeros(kv.num_workers, dtype=np.float32)
    mine[kv.rank] = resumed.meta["epoch"] + 1 if resumed else 0
    epochs = _sum_over_workers(kv, _EPOCHS_KEY, mx.nd.array(mine)).asnumpy()
    if epochs.max() == 0:
        raise CheckpointError("--resume: no worker's host holds a checkpoint of this run (last.ckpt in --out)")
    writer = int(np.argmax(epochs))
    return Start(writer, int(epochs[writer]) - 1)


def share_weights(kv, net, start):
    """Every parameter of ``net`` (running statistics included) set to the writer's, whose net
    holds the resumed checkpoint; the others' are replaced."""
    params = list(net.collect_params().values())  # the same order on every worker: the same net
    own = kv.rank == start.writer
    flat = mx.nd.concat(*[p.data().reshape(-1) * (1 if own else 0) for p in params], dim=0)
    flat = _sum_over_workers(kv, _WEIGHTS_KEY, flat)
    offset = 0
    for p in params:
        size = int(np.prod(p.shape))
        p.set_data(flat[offset:offset + size].reshape(p.shape))
        offset += size
    mx.nd.waitall()  # every copy done before the Trainer's kvstore reads the parameters
