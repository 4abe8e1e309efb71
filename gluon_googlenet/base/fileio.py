"""Atomic file writes (write beside the target, fsync, rename over it, fsync the folder), one-line
errors for failed writes, and run-folder locks."""
import errno
import fcntl
import json
import os
import resource
import shutil
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


def format_bytes(count):
    """'512 B', '23.9 MB'."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{int(count)} B"


def is_write_failure(err):
    """OSError, or MXNet's own report of a short write (it gives no errno)."""
    return isinstance(err, OSError) or (type(err).__name__ == "MXNetError" and "Write" in str(err))


def write_failure(path, err, size=None):
    """OutputDirError, one line: ``path``, why the write failed, the space it needs and has.

    The errno says why where there is one; MXNet's own writers give none, so then the
    process's file-size limit (RLIMIT_FSIZE) and the folder's free space are compared with
    ``size``, the bytes the file needs."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    code = getattr(err, "errno", None)
    if code is None and size is not None and limit != resource.RLIM_INFINITY and size > limit:
        code = errno.EFBIG
    elif code is None and size is not None and free is not None and size > free:
        code = errno.ENOSPC
    if code == errno.EFBIG and limit != resource.RLIM_INFINITY:
        cause = f"file too large (this process may write files of at most {format_bytes(limit)})"
    elif code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES):
        cause = os.strerror(code).lower()
    else:
        cause = f"I/O error ({getattr(err, 'strerror', None) or str(err).splitlines()[0][:120]})"
    details = [f"it needs {format_bytes(size)}"] if size is not None else []
    if free is not None:
        details.append(f"{format_bytes(free)} free in {folder}")
    return OutputDirError(f"cannot write {path}: {cause}" + (f"; {', '.join(details)}" if details else ""))


def fsync_folder(folder):
    """Make a rename in ``folder`` durable (as databases do): fsync the folder itself."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path, size=None, previous=None):
    """Yield a temporary path beside ``path``; on success fsync it, rename it to ``path`` and
    fsync the folder, so ``path`` is the old file or the whole new one, even after a power cut.
    ``previous``: a name the old ``path`` keeps (a hard link) once the new one is written.

    A failed write (no space, file too large, I/O error) raises OutputDirError naming ``path``
    and, given ``size`` (the bytes it needs), the space; the temporary file is removed and an
    earlier ``path`` is left as it was."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    except OSError as err:
        raise write_failure(path, err, size) from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
    try:
        try:
            yield tmp
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            if previous and os.path.exists(path):
                link_atomically(path, previous)
            os.replace(tmp, path)
            fsync_folder(folder)
        except Exception as err:
            if is_write_failure(err):
                raise write_failure(path, err, size) from None
            raise
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_bytes(path, data):
    """Write ``data`` to ``path`` atomically (as atomic_path)."""
    with atomic_path(path, len(data)) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)


def link_atomically(source, target):
    """``target`` becomes another name of ``source``'s content, atomically: a hard link where the
    file system has them (no second copy), else a copy."""
    folder = os.path.dirname(os.path.abspath(target))
    tmp = os.path.join(folder, f".{os.path.basename(target)}.{os.getpid()}.link")
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        fsync_folder(folder)
    except OSError as err:
        raise write_failure(target, err, os.path.getsize(source)) from None
    finally:
        if os.path.lexists(tmp):
            os.remove(tmp)


def write_json(path, data):
    """Write ``data`` as indented JSON, atomically."""
    write_bytes(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


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
