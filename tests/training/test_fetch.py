"""Data without Debian: `data fetch` downloads from MXNet's data set repository, offline here: a
loopback HTTP server serves the Debian package's files as the repository (MXNET_GLUON_REPO)."""
import functools
import http.server
import os
import shutil
import threading

from gluon_googlenet import cli
from gluon_googlenet.base.errors import DataError
from gluon_googlenet.training.data.fetch import fetch_dataset

import pytest


class _Repository(http.server.SimpleHTTPRequestHandler):
    """Serves its folder; with ``truncate`` set, sends the full Content-Length and half the bytes."""
    truncate = False

    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        if not self.truncate:
            return super().copyfile(source, outputfile)
        data = source.read()
        outputfile.write(data[:len(data) // 2])
        self.close_connection = True
        return None


@pytest.fixture
def repository(fashion_dir, tmp_path, monkeypatch):
    """http://127.0.0.1:PORT/gluon/dataset/fashion-mnist/*.gz: the Debian package's files."""
    root = tmp_path / "repo"
    files = root / "gluon" / "dataset" / "fashion-mnist"
    files.mkdir(parents=True)
    for name in os.listdir(fashion_dir):
        shutil.copy(os.path.join(fashion_dir, name), files / name)
    handler = type("Handler", (_Repository,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("MXNET_GLUON_REPO", f"http://127.0.0.1:{server.server_address[1]}/")
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "mxnet_home"))
    yield handler
    server.shutdown()
    server.server_close()


@pytest.mark.slow
@pytest.mark.smoke
def test_fetch_puts_verified_files_where_the_package_looks(repository, tmp_path, capsys):
    from gluon_googlenet.training.data.run_data import load_dataset
    assert cli.main(["data", "fetch", "fashion-mnist"]) == 0
    folder = capsys.readouterr().out.strip()
    assert folder == str(tmp_path / "mxnet_home" / "datasets" / "fashion-mnist")
    assert sorted(os.listdir(folder)) == sorted(os.listdir(tmp_path / "repo" / "gluon" / "dataset" / "fashion-mnist"))
    images, labels = load_dataset("fashion-mnist", "test", data_dir=folder, resize=None, limit=5)
    assert images.shape == (5, 1, 28, 28) and labels.tolist() == [9, 2, 1, 1, 6]
    before = {name: os.stat(os.path.join(folder, name)).st_mtime_ns for name in os.listdir(folder)}
    assert fetch_dataset("fashion-mnist") == folder  # intact files are kept, not fetched again
    assert before == {name: os.stat(os.path.join(folder, name)).st_mtime_ns for name in os.listdir(folder)}


@pytest.mark.slow
def test_a_truncated_download_is_one_line_and_leaves_nothing(repository, tmp_path, capsys):
    repository.truncate = True
    folder = tmp_path / "data"
    assert cli.main(["data", "fetch", "fashion-mnist", "--dir", str(folder)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "(truncated); nothing was kept: fetch again" in err[0], err
    assert os.listdir(folder) == []


def test_an_unreachable_repository_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("MXNET_GLUON_REPO", "http://127.0.0.1:9/")  # the discard port: nothing listens
    with pytest.raises(DataError, match=r"^cannot download http://127.0.0.1:9/gluon/dataset/mnist/"):
        fetch_dataset("mnist", str(tmp_path / "d"), timeout=5)
    assert os.listdir(tmp_path / "d") == []
