"""Published weights on first use, tried against loopback servers standing in for the publishers:
torchvision's download folder (the file name's hash prefix checked) and the Hugging Face hub (its
HEAD metadata, the redirect, the SHA-256 it states), into the caches torch.hub and huggingface_hub
keep; a wrong file, an unreachable server and --no-download each one line, leaving nothing."""
import hashlib
import http.server
import os

from gluon_googlenet.base.errors import CheckpointError
from gluon_googlenet.weights import pretrained

import pytest

DEAD = "http://127.0.0.1:9/"


@pytest.fixture
def caches(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("GLUON_GOOGLENET_NO_DOWNLOAD", raising=False)
    return tmp_path


def _published_as(monkeypatch, folder, content):
    """A file named as torchvision names its files (hash prefix of its content) in ``folder``, made
    the published googlenet file; returns its name."""
    name = f"googlenet-{hashlib.sha256(content).hexdigest()[:8]}.pth"
    (folder / name).write_bytes(content)
    entry = pretrained.PUBLISHED[("googlenet", "torchvision")]
    monkeypatch.setitem(pretrained.PUBLISHED, ("googlenet", "torchvision"), entry._replace(file=name))
    return name


def test_torchvision_file_lands_in_torch_hubs_cache_checked(caches, serve, monkeypatch, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    name = _published_as(monkeypatch, served, b"weights" * 1000)
    monkeypatch.setenv("GLUON_GOOGLENET_TORCHVISION_URL", serve(served))
    path = pretrained.published_file("googlenet", "torchvision")
    assert path == str(caches / "torch" / "hub" / "checkpoints" / name)
    assert open(path, "rb").read() == b"weights" * 1000
    monkeypatch.setenv("GLUON_GOOGLENET_TORCHVISION_URL", DEAD)  # in the cache: no network needed
    assert pretrained.published_file("googlenet", "torchvision") == path


def test_a_torchvision_file_of_another_hash_is_refused_and_not_kept(caches, serve, monkeypatch, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    name = _published_as(monkeypatch, served, b"weights")
    (served / name).write_bytes(b"tampered")
    monkeypatch.setenv("GLUON_GOOGLENET_TORCHVISION_URL", serve(served))
    with pytest.raises(CheckpointError, match=rf"^cannot download torchvision {name}: tried .*{name} \(not the "
                                              r"published file: .*does not start with its name's .*offline, put"):
        pretrained.published_file("googlenet", "torchvision")
    folder = caches / "torch" / "hub" / "checkpoints"
    assert not folder.exists() or os.listdir(folder) == []


def test_offline_and_no_download_are_one_line(caches, monkeypatch):
    monkeypatch.setenv("GLUON_GOOGLENET_TORCHVISION_URL", DEAD)
    with pytest.raises(CheckpointError, match=r"^cannot download torchvision googlenet-1378be20.pth: tried "
                                              r"http://127.0.0.1:9/googlenet-1378be20.pth \("):
        pretrained.published_file("googlenet", "torchvision")
    monkeypatch.setenv("GLUON_GOOGLENET_NO_DOWNLOAD", "1")
    with pytest.raises(CheckpointError, match=r"timm's timm/inception_v3.tv_in1k model.safetensors is not in .* "
                                              r"and downloads are off"):
        pretrained.published_file("inception_v3", "timm")


class _Hub(http.server.SimpleHTTPRequestHandler):
    """The hub's answer to .../resolve/main/FILE: a redirect to the file's blob, with the commit and
    SHA-256 in its headers (as huggingface.co answers); ``digest`` may lie."""
    commit, digest = "0123456789abcdef0123456789abcdef01234567", None

    def _resolve(self, body):
        if "/resolve/main/" not in self.path:
            return super().do_GET() if body else super().do_HEAD()
        self.send_response(302)
        self.send_header("Location", "/blob")
        self.send_header("X-Repo-Commit", self.commit)
        self.send_header("X-Linked-Etag", f'"{self.digest}"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return None

    def do_HEAD(self):  # noqa: N802 (http.server's name)
        self._resolve(False)

    def do_GET(self):  # noqa: N802
        self._resolve(True)


def test_timm_file_lands_in_the_hubs_own_layout(caches, serve, monkeypatch, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "blob").write_bytes(b"safetensors bytes")
    digest = hashlib.sha256(b"safetensors bytes").hexdigest()
    monkeypatch.setenv("HF_ENDPOINT", serve(served, type("Hub", (_Hub,), {"digest": digest})))
    path = pretrained.published_file("inception_v3", "timm:gluon_in1k")
    repo = caches / "hf" / "hub" / "models--timm--inception_v3.gluon_in1k"
    assert path == str(repo / "snapshots" / _Hub.commit / "model.safetensors")
    assert os.path.realpath(path) == str(repo / "blobs" / digest)
    assert (repo / "refs" / "main").read_text() == _Hub.commit
    assert open(path, "rb").read() == b"safetensors bytes"
    monkeypatch.setenv("HF_ENDPOINT", DEAD)  # cached: found without the network
    assert pretrained.published_file("inception_v3", "timm:gluon_in1k") == path
    # the tag in the cached path tells the preprocessing (GluonCV's ImageNet mean and std)
    assert pretrained.timm_preprocessing("inception_v3", path).mean == pretrained.IMAGENET_MEAN


def test_a_timm_file_unlike_the_hubs_hash_is_refused(caches, serve, monkeypatch, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "blob").write_bytes(b"tampered")
    monkeypatch.setenv("HF_ENDPOINT", serve(served, type("Hub", (_Hub,), {"digest": "0" * 64})))
    with pytest.raises(CheckpointError, match=r"^cannot download timm timm/inception_v3.tv_in1k model.safetensors: "
                                              r"tried .*not the published file: .*SHA-256 differs"):
        pretrained.published_file("inception_v3", "timm")
    repo = caches / "hf" / "hub" / "models--timm--inception_v3.tv_in1k"
    assert not (repo / "snapshots").exists() and not (repo / "refs").exists()
    assert not (repo / "blobs").exists() or os.listdir(repo / "blobs") == []


@pytest.mark.slow
def test_pretrained_torchvision_downloads_and_loads_the_weights(torch_python, caches, serve, monkeypatch, tmp_path):
    """get_model(..., pretrained='torchvision') with the file served as torchvision serves it: the
    net computes what torchvision's does (the reference run in the PyTorch venv)."""
    from gluon_googlenet import get_model

    import mxnet as mx
    import numpy as np
    from test_pretrained import _reference
    x, ref = _reference(torch_python, tmp_path, "torchvision", "googlenet")
    content = (tmp_path / "weights.pth").read_bytes()
    served = tmp_path / "served"
    served.mkdir()
    _published_as(monkeypatch, served, content)
    monkeypatch.setenv("GLUON_GOOGLENET_TORCHVISION_URL", serve(served))
    net = get_model("googlenet", pretrained="torchvision")
    np.testing.assert_allclose(net(mx.nd.array(x)).asnumpy(), ref[0], rtol=1e-4, atol=1e-4)
