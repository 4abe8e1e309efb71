"""What a launched process learns from its environment beyond ps-lite's ``DMLC_*``: a worker's
local rank (its index among the workers of its host: set by spawn.py, or Open MPI's) and the
GPUs each worker takes, and so the devices of ``--ctx gpu`` for that worker."""
from ...base.errors import ContextError

LOCAL_RANK = "GLUON_GOOGLENET_LOCAL_RANK"
GPUS_PER_WORKER = "GLUON_GOOGLENET_GPUS_PER_WORKER"
MPI_LOCAL_RANK = "OMPI_COMM_WORLD_LOCAL_RANK"


def local_rank(env):
    """The worker's index among the workers of its host, or None outside ``launch``."""
    value = env.get(LOCAL_RANK, env.get(MPI_LOCAL_RANK))
    return int(value) if value is not None else None


def worker_devices(spec, env):
    """``--ctx`` for this worker: under ``launch``, local worker k with G GPUs each takes GPUs
    k*G .. k*G+G-1 of ``gpu`` (all GPUs) or the k-th G of a list ``gpu:a,b,...``; anything else
    (cpu, one process) as given. The spec is read by base.context.split_ctx, and the result is
    checked as any --ctx (parse_ctx)."""
    from ...base.context import split_ctx  # it loads MXNet; the launcher's side (spawn.py) needs none
    rank, (kind, listed) = local_rank(env), split_ctx(spec)
    if rank is None or kind != "gpu":
        return spec
    per = int(env.get(GPUS_PER_WORKER, "1"))
    mine = list(range(rank * per, (rank + 1) * per)) if listed is None else listed[rank * per:(rank + 1) * per]
    if len(mine) < per:
        raise ContextError(f"--ctx {spec} lists {len(listed)} GPU(s): too few for local worker {rank} "
                           f"with {per} GPU(s) each (--gpus-per-worker)")
    return "gpu:" + ",".join(str(i) for i in mine)
