"""Published weights on first use: the publisher's own file, in the cache its own library keeps.

- torchvision: ``https://download.pytorch.org/models/FILE`` into ``$TORCH_HOME/hub/checkpoints``
  (default ``~/.cache/torch/hub/checkpoints``, where ``torch.hub`` puts it); the hash prefix in the
  file's name is checked against the SHA-256 of its bytes, as ``torch.hub``'s ``check_hash`` does.
- timm: the Hugging Face hub's ``timm/MODEL.TAG`` ``model.safetensors`` into ``$HF_HUB_CACHE``
  (default ``$HF_HOME/hub``, ``~/.cache/huggingface/hub``) in the hub's own layout
  (``models--timm--MODEL.TAG/blobs/SHA256``, ``snapshots/COMMIT/model.safetensors``, ``refs/main``),
  its SHA-256 checked against the one the hub states for it (``X-Linked-Etag``). ``HF_ENDPOINT``
  names another hub.

A file already in the cache is used without the network. ``GLUON_GOOGLENET_TORCHVISION_URL``
replaces torchvision's address (a mirror); downloads follow base.download (atomic, one line
when they fail, off with GLUON_GOOGLENET_NO_DOWNLOAD=1).
"""
import hashlib
import os
import urllib.error
import urllib.request

from ..base.download import NO_DOWNLOAD_VAR, DownloadError, download, downloads_allowed
from ..base.errors import CheckpointError
from ..base.fileio import write_bytes

TORCHVISION_URL = "https://download.pytorch.org/models/"
HF_ENDPOINT = "https://huggingface.co"
# timm's default tag of each model (timm.create_model(name, pretrained=True) takes these)
TIMM_DEFAULT_TAGS = {"inception_v3": "tv_in1k", "inception_v4": "tf_in1k", "inception_resnet_v2": "tf_in1k"}


def sha256(path):
    """Hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _refuse_offline(what, where):
    if not downloads_allowed():
        raise CheckpointError(f"{what} is not in {where} and downloads are off (${NO_DOWNLOAD_VAR}); "
                              "download it there, or pass the file's path")


# --- torchvision -------------------------------------------------------------------------------
def torch_cache():
    """torch.hub's folder of downloaded weights."""
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "torch")
    return os.path.join(os.path.expanduser(torch_home), "hub", "checkpoints")


def _hash_prefix(file_name):
    """The hash prefix torchvision puts in a file name ('googlenet-1378be20.pth': '1378be20')."""
    stem = os.path.splitext(file_name)[0]
    return stem.rsplit("-", 1)[-1] if "-" in stem else ""


def _check_prefix(file_name):
    prefix = _hash_prefix(file_name)

    def check(path, _headers):
        digest = sha256(path)
        if not prefix or not digest.startswith(prefix):
            raise CheckpointError(f"{file_name}: SHA-256 {digest[:16]}... does not start with its name's {prefix}")
    return check


def torchvision_file(file_name, progress=None):
    """Path of torchvision's published ``file_name`` in torch.hub's cache, downloaded first where
    it is not there (or fails its hash check)."""
    folder, check = torch_cache(), _check_prefix(file_name)
    path = os.path.join(folder, file_name)
    if os.path.isfile(path):
        try:
            check(path, None)
            return path
        except CheckpointError:
            pass  # damaged: fetched again, replaced atomically
    _refuse_offline(f"torchvision's {file_name}", folder)
    base = os.environ.get("GLUON_GOOGLENET_TORCHVISION_URL") or TORCHVISION_URL
    try:
        download([base.rstrip("/") + "/" + file_name], path, check, f"torchvision {file_name}", progress)
    except DownloadError as err:
        raise CheckpointError(f"{err}; offline, put the file in {folder} by hand or pass its path") from None
    return path


# --- timm on the Hugging Face hub ------------------------------------------------------------
def hf_cache():
    """The Hugging Face hub's cache folder."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface")
    return os.path.join(os.path.expanduser(home), "hub")


def _cached_snapshot(repo_folder, file_name):
    """The file of the snapshot refs/main points at, or None."""
    try:
        with open(os.path.join(repo_folder, "refs", "main"), encoding="ascii") as handle:
            commit = handle.read().strip()
    except OSError:
        return None
    path = os.path.join(repo_folder, "snapshots", commit, file_name)
    return path if os.path.isfile(path) else None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # the hub's metadata sits on its redirect
        return None


def _hub_metadata(url):
    """(commit, SHA-256) the hub states for a file (a HEAD request, redirects not followed)."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "gluon-googlenet"})
    try:
        response = opener.open(request, timeout=60)
    except urllib.error.HTTPError as err:
        if err.code // 100 != 3:
            raise DownloadError(f"cannot download {url}: HTTP {err.code}") from None
        response = err  # the redirect: its headers hold the metadata
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise DownloadError(f"cannot download {url}: {getattr(err, 'reason', err)}") from None
    headers = response.headers
    commit = headers.get("X-Repo-Commit")
    etag = (headers.get("X-Linked-Etag") or headers.get("ETag") or "").strip('"').removeprefix("W/").strip('"')
    if not commit or len(etag) != 64:
        raise DownloadError(f"cannot download {url}: the hub states no commit and SHA-256 for it "
                            "(X-Repo-Commit, X-Linked-Etag)")
    return commit, etag


def timm_file(model, tag=None, file_name="model.safetensors", progress=None):
    """Path of timm's ``model.tag`` weights (``timm/MODEL.TAG`` on the hub) in the hub's cache,
    downloaded first where the cache has none; returns the path (the tag is in it, which tells
    the preprocessing: pretrained.timm_preprocessing)."""
    tag = tag or TIMM_DEFAULT_TAGS.get(model)
    repo = f"timm/{model}.{tag}"
    repo_folder = os.path.join(hf_cache(), "models--" + repo.replace("/", "--"))
    cached = _cached_snapshot(repo_folder, file_name)
    if cached:
        return cached
    _refuse_offline(f"timm's {repo} {file_name}", repo_folder)
    endpoint = (os.environ.get("HF_ENDPOINT") or HF_ENDPOINT).rstrip("/")
    url = f"{endpoint}/{repo}/resolve/main/{file_name}"
    try:
        commit, digest = _hub_metadata(url)

        def check(path, _headers):
            if sha256(path) != digest:
                raise CheckpointError(f"{file_name}: SHA-256 differs from the hub's {digest[:16]}...")
        blob = os.path.join(repo_folder, "blobs", digest)
        if not os.path.isfile(blob):
            download([url], blob, check, f"timm {repo} {file_name}", progress)
    except DownloadError as err:
        raise CheckpointError(f"{err}; offline, pass the file's path (timm's {repo})") from None
    snapshot = os.path.join(repo_folder, "snapshots", commit)
    os.makedirs(snapshot, exist_ok=True)
    link = os.path.join(snapshot, file_name)
    if not os.path.lexists(link):
        os.symlink(os.path.relpath(blob, snapshot), link)
    os.makedirs(os.path.join(repo_folder, "refs"), exist_ok=True)
    write_bytes(os.path.join(repo_folder, "refs", "main"), commit.encode("ascii"))
    return link
