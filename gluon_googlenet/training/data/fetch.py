"""Fetch Fashion-MNIST or MNIST where no Debian package brings them (macOS, Colab, other Linux).

The files come from the repository MXNet's own ``gluon.data.vision`` data sets download from
(their URLs: ``$MXNET_GLUON_REPO/gluon/dataset/NAME/FILE.gz``, MXNET_GLUON_REPO respected) into
the folder the package already looks in (MXNet's data set cache, ``$MXNET_HOME/datasets/NAME``).
Each file is checked against the MD5 of its uncompressed bytes, as every load checks it, and is
written atomically: a broken or truncated download leaves nothing behind.
"""
import http.client
import os
import sys
import urllib.error
import urllib.request

import mxnet as mx

from ...base.errors import DataError
from ...base.fileio import atomic_path, ensure_writable_dir
from .datasets import get_dataset_spec
from .idx_files import read_idx

CHUNK = 1 << 16


def default_folder(spec):
    """The MXNet cache folder of ``spec``, the last place find_data_dir looks."""
    return os.path.join(mx.base.data_dir(), "datasets", spec.name)


def file_url(spec, file_name):
    """Where MXNet's own data set of ``spec`` downloads ``file_name`` from."""
    return mx.gluon.utils._get_repo_file_url(f"gluon/dataset/{spec.name}", file_name)


def fetch_dataset(name, folder=None, progress=None, timeout=60):
    """Download data set ``name`` ('fashion-mnist' or 'mnist') into ``folder`` (default: MXNet's
    cache, where the package looks); files already there and intact are kept. Returns the folder;
    DataError, one line, for a failed, truncated or wrong download (nothing of it is kept)."""
    spec = get_dataset_spec(name)
    folder = ensure_writable_dir(folder or default_folder(spec))
    progress = sys.stderr.isatty() if progress is None else progress
    for base, md5 in spec.files.values():
        path = os.path.join(folder, base + ".gz")
        if os.path.isfile(path):
            try:
                read_idx(path, md5)
                continue
            except DataError:
                pass  # damaged: fetched again, replaced atomically
        _download(file_url(spec, base + ".gz"), path, md5, progress, timeout)
    return folder


def _download(url, path, md5, progress, timeout):
    """``url`` into ``path`` atomically, its content checked (read_idx with ``md5``)."""
    from tqdm import tqdm
    try:
        response = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 (http(s) URL of MXNET_GLUON_REPO)
    except (urllib.error.URLError, OSError) as err:
        raise DataError(f"cannot download {url} ({getattr(err, 'reason', err)}); check the network or "
                        "MXNET_GLUON_REPO, or pass --data-dir to files you have") from None
    expected = int(response.headers.get("Content-Length") or 0) or None
    with response, atomic_path(path, expected) as tmp:
        received = 0
        with open(tmp, "wb") as handle, tqdm(total=expected, unit="B", unit_scale=True, disable=not progress,
                                            desc=os.path.basename(path), leave=False) as bar:
            try:
                while chunk := response.read(CHUNK):
                    handle.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (OSError, ValueError, http.client.HTTPException) as err:  # reset, IncompleteRead
                raise DataError(f"download of {url} broke off after {received} bytes ({type(err).__name__}); "
                                "nothing was kept: fetch again") from None
        if expected is not None and received != expected:
            raise DataError(f"download of {url} stopped at {received} of {expected} bytes (truncated); nothing "
                            "was kept: fetch again")
        try:
            read_idx(tmp, md5)
        except DataError as err:
            raise DataError(f"{url} is not the expected file ({str(err).split(': ', 1)[-1]}); nothing was "
                            "kept") from None

