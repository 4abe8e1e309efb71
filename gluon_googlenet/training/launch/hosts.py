"""Where the processes of a distributed run go: host files, this machine's address toward a
host, the scheduler's port, Open MPI's host file."""
import os
import socket
from collections import namedtuple

from ...base.errors import ConfigError

Host = namedtuple("Host", "address port")


def read_hosts(path):
    """Hosts of a host file: one ``host[:port]`` per line (port: ssh's, default 22); blank
    lines and ``#`` comments are skipped. ConfigError, one line, for a missing or bad file."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as err:
        raise ConfigError(f"host file {path}: {err.strerror}") from None
    hosts = []
    for number, line in enumerate(lines, 1):
        text = line.split("#")[0].strip()
        if not text:
            continue
        address, _, port = text.partition(":")
        if not address or (port and not port.isdigit()) or " " in text:
            raise ConfigError(f"host file {path}, line {number}: {line.strip()!r} is not host[:port]")
        hosts.append(Host(address, int(port or 22)))
    if not hosts:
        raise ConfigError(f"host file {path} names no host")
    return hosts


def address_toward(host):
    """This machine's address on the route to ``host`` (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((host, 9))
        except OSError as err:
            raise ConfigError(f"no route to {host} ({err.strerror}); give --scheduler-host") from None
        return sock.getsockname()[0]


def scheduler_port(host, port=None):
    """``port`` (or a free one when None) after checking that the scheduler can bind it on
    ``host``: ConfigError, one line, at once, when it cannot (ps-lite would abort later)."""
    try:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as ZeroMQ binds: TIME_WAIT is no obstacle
            sock.bind((host, port or 0))
            return sock.getsockname()[1]
    except OSError as err:
        if port:
            raise ConfigError(f"the scheduler cannot listen on {host}:{port} (--port): {err.strerror}") from None
        raise ConfigError(f"--scheduler-host {host} is not an address of this machine ({err.strerror})") from None


def mpi_hostfile(hosts, slots, folder):
    """Open MPI's host file for ``hosts`` (``host slots=N``), written in ``folder``; its path.
    ConfigError for a host file port: Open MPI reaches hosts through its own ssh settings."""
    if any(h.port != 22 for h in hosts):
        raise ConfigError("--launcher mpi reaches hosts through Open MPI's ssh: a host file port is for "
                          "--launcher ssh (set ssh's port in ~/.ssh/config)")
    path = os.path.join(folder, "hostfile.mpi")
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(f"{h.address} slots={slots}\n" for h in hosts)
    return path
