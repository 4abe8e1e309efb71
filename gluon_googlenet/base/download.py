"""Files fetched on first use: tried at each address in turn, checked, written atomically.

``download(urls, path, check)`` is what data sets and published weights share: the first address
that gives a whole file that passes ``check`` wins; a refused connection, a broken or truncated
transfer or a file that fails ``check`` moves on to the next address; nothing half-written or
unchecked is ever left at ``path``. GLUON_GOOGLENET_NO_DOWNLOAD=1 forbids every download.
"""
import http.client
import os
import sys
import urllib.error
import urllib.request

from .errors import GluonGoogLeNetError
from .fileio import atomic_path, ensure_writable_dir

CHUNK = 1 << 16
NO_DOWNLOAD_VAR = "GLUON_GOOGLENET_NO_DOWNLOAD"


class DownloadError(GluonGoogLeNetError):
    """No address gave a whole, checked file (one line: each address tried and why)."""


class _Refused(Exception):
    """One address failed; the message says why."""


def downloads_allowed(download=True):
    """Whether a download may happen: ``download`` (a flag such as --no-download) and the
    environment variable GLUON_GOOGLENET_NO_DOWNLOAD unset or 0."""
    return bool(download) and os.environ.get(NO_DOWNLOAD_VAR, "0") in ("", "0")


def download(urls, path, check=None, what=None, progress=None, timeout=60):  # noqa: PLR0913
    """``path`` from the first of ``urls`` that gives a whole file ``check(tmp_path, headers)``
    accepts (it raises GluonGoogLeNetError to refuse one); returns (path, the url used, the
    response's headers). DownloadError, one line naming every address tried, when none does."""
    what = what or os.path.basename(path)
    ensure_writable_dir(os.path.dirname(os.path.abspath(path)))
    progress = sys.stderr.isatty() if progress is None else progress
    tried = []
    for url in urls:
        try:
            return path, url, _fetch(url, path, check, what, progress, timeout)
        except _Refused as why:
            tried.append(f"{url} ({why})")
    raise DownloadError(f"cannot download {what}: tried " + "; ".join(tried) + "; nothing was kept")


def _fetch(url, path, check, what, progress, timeout):  # noqa: PLR0913
    """One address into ``path`` atomically, or _Refused saying why (``path`` then untouched)."""
    from tqdm import tqdm
    request = urllib.request.Request(url, headers={"User-Agent": "gluon-googlenet"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http(s) URLs of our tables)
    except urllib.error.HTTPError as err:
        raise _Refused(f"HTTP {err.code}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as err:
        raise _Refused(str(getattr(err, "reason", err)) or type(err).__name__) from None
    expected = int(response.headers.get("Content-Length") or 0) or None
    with response, atomic_path(path, expected) as tmp:
        received = 0
        with open(tmp, "wb") as handle, tqdm(total=expected, unit="B", unit_scale=True, disable=not progress,
                                            desc=what, leave=False) as bar:
            try:
                while chunk := response.read(CHUNK):
                    handle.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (OSError, ValueError, http.client.HTTPException) as err:  # reset, IncompleteRead
                raise _Refused(f"broke off after {received} bytes: {type(err).__name__}") from None
        if expected is not None and received != expected:
            raise _Refused(f"truncated: {received} of {expected} bytes")
        if check is not None:
            try:
                check(tmp, response.headers)
            except GluonGoogLeNetError as err:
                raise _Refused(f"not the published file: {str(err).split(': ', 1)[-1]}") from None
    return response.headers
