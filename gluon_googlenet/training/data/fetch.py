"""Fashion-MNIST and MNIST on first use, as Gluon's own data sets get them.

Where no folder holds a data set (find_data_dir), ``locate_dataset`` downloads it into MXNet's data
set folder (``$MXNET_HOME/datasets/NAME``, where ``gluon.data.vision`` and d2l keep theirs): each
``.gz`` file from its canonical address first, then the mirrors (DatasetSpec.urls; the environment
variable GLUON_GOOGLENET_DATA_MIRRORS, space-separated base URLs, replaces them), checked against
its published size and MD5 (of the uncompressed bytes, as every load checks it) and written
atomically (base.download). ``--no-download`` or GLUON_GOOGLENET_NO_DOWNLOAD=1 forbid it.
"""
import logging
import os

import mxnet as mx

from ...base.download import NO_DOWNLOAD_VAR, DownloadError, download, downloads_allowed
from ...base.errors import DataError
from ...base.fileio import ensure_writable_dir
from .datasets import get_dataset_spec
from .idx_files import DataNotFound, find_data_dir, read_idx

log = logging.getLogger("gluon_googlenet.data")
MIRRORS_VAR = "GLUON_GOOGLENET_DATA_MIRRORS"


def default_folder(spec):
    """The MXNet data set folder of ``spec``, the last place find_data_dir looks."""
    return os.path.join(mx.base.data_dir(), "datasets", spec.name)


def base_urls(spec):
    """The base URLs ``spec``'s files are downloaded from, in order."""
    given = os.environ.get(MIRRORS_VAR, "").split()
    repo = mx.gluon.utils._get_repo_url()  # noqa: SLF001 ($MXNET_GLUON_REPO with its default)
    return [url if url.endswith("/") else url + "/" for url in given] or [
        url.format(mxnet_repo=repo) for url in spec.urls]


def _checker(spec, key):
    """check(path, headers) for download(): the IDX header's size and the MD5 of the data."""
    base, md5 = spec.files[key]

    def check(path, _headers):
        data = read_idx(path, md5)
        if data.size + 4 + 4 * data.ndim != spec.sizes[key]:
            raise DataError(f"{path}: {data.size} bytes of data, {spec.name}'s {base} has "
                            f"{spec.sizes[key] - 4 - 4 * data.ndim}")
    return check


def fetch_dataset(name, folder=None, progress=None, timeout=60):
    """Download data set ``name`` ('fashion-mnist' or 'mnist') into ``folder`` (default: MXNet's
    data set folder, where the package looks); files already there and intact are kept. Returns
    the folder; DataError, one line naming each address tried and the manual routes, when a file
    cannot be had (nothing of it is kept)."""
    spec = get_dataset_spec(name)
    folder = ensure_writable_dir(folder or default_folder(spec))
    for key, (base, _) in spec.files.items():
        path, check = os.path.join(folder, base + ".gz"), _checker(spec, key)
        if os.path.isfile(path):
            try:
                check(path, None)
                continue
            except DataError:
                pass  # damaged: fetched again, replaced atomically
        try:
            download([url + base + ".gz" for url in base_urls(spec)], path, check, f"{spec.name} {base}.gz",
                     progress, timeout)
        except DownloadError as err:
            raise DataError(f"{err}; offline, put the four files in {folder} by hand, or "
                            f"{spec.install_hint}") from None
    return folder


def locate_dataset(spec, data_dir=None, download=True):
    """The folder holding ``spec``'s four files (find_data_dir); where none does and downloads are
    allowed (``download``, GLUON_GOOGLENET_NO_DOWNLOAD), the folder they were just downloaded into."""
    try:
        return find_data_dir(spec, data_dir)
    except DataNotFound as err:
        if not downloads_allowed(download):
            raise DataError(f"{err} (downloads are off: --no-download or ${NO_DOWNLOAD_VAR})") from None
    folder = default_folder(spec)
    log.info("%s not found: downloading it into %s", spec.name, folder)
    return fetch_dataset(spec.name, folder)
