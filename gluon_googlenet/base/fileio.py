"""Atomic file writes (write beside the target, fsync, rename over it) and run-folder locks."""
import fcntl
import json
import os
import socket
import sys
import tempfile
import time
from contextlib import contextmanager

from .errors import OutputDirError, RunFolderBusyError

LOCK_NAME = ".lock"


def _umask():
    """The process umask, read without changing it where Linux reports it (/proc, 4.7+)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def _unwritable(folder, err):
    return OutputDirError(f"cannot write to output folder {folder}: {err.strerror or err}")


def ensure_writable_dir(folder):
    """Create ``folder`` if needed; OutputDirError unless files can be written in it."""
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise _unwritable(folder, err) from None
    return folder


@contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success fsync it and rename it to ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path, data):
    """Write ``data`` as indented JSON, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")


@contextmanager
def lock_run_folder(folder):
    """Hold an exclusive lock on ``folder`` (created and checked writable, as
    ensure_writable_dir) while the block runs.

    The lock is ``flock`` on ``folder/.lock``: the OS drops it when the process ends, however it
    ends, so a killed run never blocks a resume. RunFolderBusyError names the process holding it.
    """
    ensure_writable_dir(folder)
    try:
        fd = os.open(os.path.join(folder, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as err:
        raise _unwritable(folder, err) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            raise RunFolderBusyError(f"output folder {folder} is in use by another run ({holder}); "
                                     "wait for it to finish or choose another --out") from None
        os.ftruncate(fd, 0)
        command = " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:2]) if sys.argv else "python"
        os.pwrite(fd, (f"pid {os.getpid()} on {socket.gethostname()}, {command}, started "
                       f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n").encode(), 0)
        yield folder
    finally:
        os.close(fd)  # releases the lock
