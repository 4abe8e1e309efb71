"""Who runs where in a distributed run, and the command that starts each process, all known
before anything starts: ps-lite's scheduler on this machine; servers, then workers, over the
hosts in turn (dmlc's order); each with its role, index, host, local rank and the ``DMLC_*``
variables ps-lite reads. Local processes run as children, remote ones through ``ssh`` (the
command line quoted with shlex: any argument survives), or all of one role through one
``mpirun``. Every process runs ``role.py`` with this venv's Python by absolute path.
"""
import os
import re
import shlex
import sys
from collections import namedtuple

from ..workers.environment import GPUS_PER_WORKER, LOCAL_RANK

LAUNCHERS = ("local", "ssh", "mpi")
# variables every process gets as the launcher has them: threads, interface, libraries, ps-lite and ours
FORWARDED = re.compile(r"^(OMP_NUM_THREADS|KMP_AFFINITY|LD_LIBRARY_PATH|DMLC_INTERFACE|PS_[A-Z_]+|MXNET_[A-Z_]+|"
                       r"DNNL_[A-Z_]+|GLUON_GOOGLENET_[A-Z_]+)$")
SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5",
               "-o", "ServerAliveCountMax=3", "-o", "StrictHostKeyChecking=no")
ROLE_MODULE = "gluon_googlenet.training.launch.role"

Spawn = namedtuple("Spawn", "name role host argv env")
Spawn.__doc__ = ("One process to start: its name (``ROLE-INDEX@HOST``, ``ROLES@mpirun`` for one mpirun), "
                 "role, host, argv (no shell) and the variables it adds to this process's environment.")


def forwarded(env):
    """The variables of ``env`` every process gets (FORWARDED); one OpenMP thread unless set."""
    settings = {k: v for k, v in sorted(env.items()) if FORWARDED.match(k) and k != LOCAL_RANK}
    settings.setdefault("OMP_NUM_THREADS", "1")
    return settings


def role_argv(train_args, watch_stdin=True):
    """role.py's command line: this venv's Python by absolute path, then the train arguments."""
    return [sys.executable, "-m", ROLE_MODULE, *(["--watch-stdin"] if watch_stdin else []), *train_args]


def ssh_argv(host, variables, argv):
    """``ssh`` to ``host`` running ``argv`` with ``variables`` in the folder of this process (when
    the host has it, as dmlc's ssh submitter does): one remote line of shlex-quoted words."""
    words = ["env", *(f"{k}={v}" for k, v in variables.items()), *argv]
    remote = f"cd {shlex.quote(os.getcwd())} 2>/dev/null; exec {shlex.join(words)}"
    return ["ssh", *SSH_OPTIONS, "-p", str(host.port), host.address, remote]


def plan(launcher, train_args, workers, servers, scheduler, hosts=(), mpi_hostfile=None,  # noqa: PLR0913
         gpus_per_worker=1, env=None):
    """The processes of one run, the scheduler first: a list of Spawn. ``scheduler``: (address,
    port) on this machine; ``hosts``: Host list (ssh, mpi); ``mpi_hostfile``: Open MPI's."""
    env = os.environ if env is None else env
    address, port = scheduler
    common = dict(forwarded(env), DMLC_NUM_WORKER=str(workers), DMLC_NUM_SERVER=str(servers),
                  DMLC_PS_ROOT_URI=address, DMLC_PS_ROOT_PORT=str(port), **{GPUS_PER_WORKER: str(gpus_per_worker)})
    here = dict(common, DMLC_NODE_HOST=address, **({"DMLC_INTERFACE": "lo"} if address.startswith("127.") else {}))
    spawns = [Spawn(f"scheduler-0@{address}", "scheduler", address, role_argv(train_args),
                    dict(here, DMLC_ROLE="scheduler"))]
    if launcher == "mpi":  # Open MPI places the ranks and tells each its local rank
        root = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"} if os.geteuid() == 0 else {}
        for role, count in (("worker", workers), ("server", servers)):
            variables = dict(common, DMLC_ROLE=role)
            argv = ["mpirun", "-n", str(count), "--hostfile", mpi_hostfile,
                    *(w for k, v in variables.items() for w in ("-x", f"{k}={v}")),
                    *role_argv(train_args, watch_stdin=False)]  # mpirun gives stdin to rank 0 only
            spawns.append(Spawn(f"{role}s@mpirun", role + "s", "mpirun", argv, root))
        return spawns
    counts, on_host = {}, {}
    for i in range(servers + workers):
        role = "server" if i < servers else "worker"
        index = counts[role] = counts.get(role, -1) + 1
        host = hosts[i % len(hosts)] if launcher == "ssh" else None
        where = host.address if host else address
        variables = dict(common if host else here, DMLC_ROLE=role, DMLC_NODE_HOST=where)
        if role == "worker":
            variables[LOCAL_RANK] = str(on_host.setdefault(where, 0))
            on_host[where] += 1
        name = f"{role}-{index}@{where}"
        if host:
            spawns.append(Spawn(name, role, where, ssh_argv(host, variables, role_argv(train_args)), {}))
        else:
            spawns.append(Spawn(name, role, where, role_argv(train_args), variables))
    return spawns
