"""Two test hosts on this machine: network namespaces joined by a bridge, an sshd in each.

Each host also has a mount namespace of its own in which ``run_root`` is a folder of its own
(``host_dirs[i]``): a run folder under it is not shared between the hosts, as on real machines.
The launcher's machine is the root namespace, at ``gateway`` on the bridge. ssh uses a key made
here through an ``ssh`` first on ``PATH`` (``env``); nothing of the user's ~/.ssh is read or written.
Needs root, iproute2 and Debian's openssh-server (scripts/setup.sh installs it when root).
"""
import contextlib
import os
import shutil
import socket
import subprocess
import time
from types import SimpleNamespace

SSHD = "/usr/sbin/sshd"


def missing():
    """Why two hosts cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "unshare", "ssh", "ssh-keygen"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    if not os.path.exists(SSHD):
        return "sshd is not installed (Debian's openssh-server)"
    return None


def _run(*command):
    subprocess.run(command, check=True, capture_output=True, text=True)


def _wait_for_port(address, port, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((address, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"sshd on {address}:{port} did not start")


@contextlib.contextmanager
def two_hosts(folder, count=2):
    """``count`` hosts (SimpleNamespace: addresses, hostfile, env, run_root, host_dirs, gateway)."""
    tag = f"{os.getpid() % 10000}"
    subnet = f"10.{200 + os.getpid() % 50}.{os.getpid() % 250}"
    bridge, names = f"ggbr{tag}", [f"gg{tag}h{i}" for i in range(count)]
    folder = str(folder)
    keys, run_root = os.path.join(folder, "ssh"), os.path.join(folder, "run-root")
    os.makedirs(keys), os.makedirs(run_root)
    host_dirs = [os.path.join(folder, f"host{i}") for i in range(count)]
    for d in host_dirs:
        os.makedirs(d)
    for name in ("client", "host"):
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(keys, name))
    shutil.copy(os.path.join(keys, "client.pub"), os.path.join(keys, "authorized_keys"))
    os.makedirs("/run/sshd", exist_ok=True)
    wrapper = os.path.join(keys, "bin", "ssh")
    os.makedirs(os.path.dirname(wrapper))
    with open(wrapper, "w") as handle:
        handle.write(f"#!/bin/sh\nexec {shutil.which('ssh')} -F none -i {keys}/client -o IdentitiesOnly=yes "
                     f"-o UserKnownHostsFile={keys}/known_hosts -o StrictHostKeyChecking=no -o LogLevel=ERROR \"$@\"\n")
    os.chmod(wrapper, 0o755)
    addresses, daemons = [f"{subnet}.{11 + i}" for i in range(count)], []
    try:
        _run("ip", "link", "add", bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{subnet}.1/24", "dev", bridge)
        _run("ip", "link", "set", bridge, "up")
        for i, (name, address) in enumerate(zip(names, addresses)):
            _run("ip", "netns", "add", name)
            _run("ip", "link", "add", f"{name}v", "type", "veth", "peer", "name", "gg0", "netns", name)
            _run("ip", "link", "set", f"{name}v", "master", bridge, "up")
            _run("ip", "-n", name, "addr", "add", f"{address}/24", "dev", "gg0")
            _run("ip", "-n", name, "link", "set", "gg0", "up")
            _run("ip", "-n", name, "link", "set", "lo", "up")
            _run("ip", "-n", name, "route", "add", "default", "via", f"{subnet}.1")
            config = os.path.join(keys, f"sshd{i}.conf")
            with open(config, "w") as handle:
                handle.write(f"ListenAddress {address}\nPort 22\nHostKey {keys}/host\n"
                             f"AuthorizedKeysFile {keys}/authorized_keys\nPermitRootLogin prohibit-password\n"
                             f"StrictModes no\nUsePAM no\nPidFile {keys}/sshd{i}.pid\nAcceptEnv none\n")
            script = f"mount --bind {host_dirs[i]} {run_root} && exec {SSHD} -D -e -f {config}"
            daemons.append(subprocess.Popen(
                ["ip", "netns", "exec", name, "unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                stdout=subprocess.DEVNULL, stderr=open(os.path.join(keys, f"sshd{i}.log"), "w")))
            _wait_for_port(address, 22)
        hostfile = os.path.join(folder, "hosts")
        with open(hostfile, "w") as handle:
            handle.write("# two test hosts\n" + "".join(f"{a}\n" for a in addresses))
        env = dict(os.environ, PATH=f"{os.path.dirname(wrapper)}:{os.environ['PATH']}", DMLC_INTERFACE="gg0",
                   OMPI_MCA_plm_rsh_agent=wrapper)
        yield SimpleNamespace(addresses=addresses, hostfile=hostfile, env=env, run_root=run_root,
                              host_dirs=host_dirs, gateway=f"{subnet}.1", namespaces=names, bridge=bridge)
    finally:
        for daemon in daemons:
            daemon.terminate()
            daemon.wait(10)
        for name in names:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
