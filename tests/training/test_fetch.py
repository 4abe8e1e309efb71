"""Data on first use: Fashion-MNIST downloaded where no folder has it, from the canonical address or
the mirrors after it, checked and written atomically, tried for real against loopback HTTP servers
that serve the Debian package's files (whole, truncated, or wrong) or do not answer at all."""
import http.server
import os
import shutil

from gluon_googlenet import cli
from gluon_googlenet.base.errors import DataError
from gluon_googlenet.training.data import datasets
from gluon_googlenet.training.data.fetch import MIRRORS_VAR, fetch_dataset

import pytest
from conftest import make_idx_dir

DEAD = "http://127.0.0.1:9/"  # the discard port: nothing listens


class _Truncating(http.server.SimpleHTTPRequestHandler):
    """Sends the full Content-Length and half the bytes."""

    def copyfile(self, source, outputfile):
        data = source.read()
        outputfile.write(data[:len(data) // 2])
        self.close_connection = True


@pytest.fixture
def mirror(fashion_dir, tmp_path):
    """A folder holding the real Fashion-MNIST .gz files, as the mirrors serve them."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    for name in os.listdir(fashion_dir):
        shutil.copy(os.path.join(fashion_dir, name), folder / name)
    return folder


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No folder holds Fashion-MNIST: the Debian folder hidden, MXNet's data set folder empty."""
    monkeypatch.setitem(datasets.DATASETS, "fashion-mnist",
                        datasets.FASHION_MNIST._replace(system_dir=str(tmp_path / "no-debian")))
    monkeypatch.delenv(datasets.FASHION_MNIST.env_var, raising=False)
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "mxnet_home"))
    monkeypatch.delenv("GLUON_GOOGLENET_NO_DOWNLOAD", raising=False)
    return tmp_path / "mxnet_home" / "datasets" / "fashion-mnist"


def _leftovers(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


@pytest.mark.slow
@pytest.mark.smoke
def test_train_downloads_the_data_on_first_use_past_a_dead_mirror(nowhere, mirror, serve, monkeypatch, tmp_path,
                                                                   capsys):
    monkeypatch.setenv(MIRRORS_VAR, f"{DEAD} {serve(mirror)}")
    assert cli.main(["train", "--model", "mnist_resnet", "--resize", "0", "--epochs", "1", "--limit-train", "64",
                     "--limit-test", "32", "--batch-size", "32", "--out", str(tmp_path / "run"),
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"fashion-mnist not found: downloading it into {nowhere}" in out
    assert sorted(os.listdir(nowhere)) == sorted(os.listdir(mirror))
    for name in os.listdir(mirror):  # the published files, byte for byte
        assert (nowhere / name).read_bytes() == (mirror / name).read_bytes()
    before = {name: os.stat(nowhere / name).st_mtime_ns for name in os.listdir(nowhere)}
    monkeypatch.setenv(MIRRORS_VAR, DEAD)  # intact files are kept, not fetched again
    assert fetch_dataset("fashion-mnist") == str(nowhere)
    assert before == {name: os.stat(nowhere / name).st_mtime_ns for name in os.listdir(nowhere)}


@pytest.mark.slow
def test_truncated_and_wrong_files_are_refused_and_the_next_mirror_used(nowhere, mirror, serve, monkeypatch,
                                                                        tmp_path):
    wrong = make_idx_dir(tmp_path / "wrong")  # right names, other images: their MD5s fail
    monkeypatch.setenv(MIRRORS_VAR, f"{serve(mirror, _Truncating)} {serve(wrong)} {serve(mirror)}")
    folder = fetch_dataset("fashion-mnist", progress=False)
    assert sorted(os.listdir(folder)) == sorted(os.listdir(mirror))
    assert all((nowhere / name).read_bytes() == (mirror / name).read_bytes() for name in os.listdir(mirror))


@pytest.mark.slow
def test_no_whole_file_anywhere_is_one_line_and_leaves_nothing(nowhere, mirror, serve, monkeypatch, tmp_path,
                                                               capsys):
    wrong = make_idx_dir(tmp_path / "wrong")
    addresses = [DEAD, "http://no-such-host.invalid/", serve(mirror, _Truncating), serve(wrong)]
    monkeypatch.setenv(MIRRORS_VAR, " ".join(addresses))
    assert cli.main(["data", "fetch", "fashion-mnist"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "cannot download fashion-mnist train-images-idx3-ubyte.gz: tried " in err[0]
    for address, why in zip(addresses, ("", "", "truncated: ", "not the published file: ")):
        assert f"{address}train-images-idx3-ubyte.gz ({why}" in err[0]
    assert "nothing was kept; offline, put the four files in" in err[0] and "dataset-fashion-mnist" in err[0]
    assert os.listdir(nowhere) == []


def test_no_download_is_one_line_naming_where_it_looked(nowhere, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(MIRRORS_VAR, DEAD)
    assert cli.main(["train", "--model", "mnist_resnet", "--resize", "0", "--epochs", "1", "--no-download",
                     "--out", str(tmp_path / "run"), "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fashion-mnist not found (looked in" in err[0], err
    assert err[0].endswith("(downloads are off: --no-download or $GLUON_GOOGLENET_NO_DOWNLOAD)")
    with pytest.raises(DataError, match="downloads are off"):
        from gluon_googlenet.training.data.run_data import load_dataset
        load_dataset("fashion-mnist", "test", download=False)
    assert not os.path.exists(nowhere)


def test_an_unreachable_mirror_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv(MIRRORS_VAR, DEAD)
    with pytest.raises(DataError, match=r"^cannot download mnist train-images-idx3-ubyte.gz: tried "
                                        r"http://127.0.0.1:9/train-images-idx3-ubyte.gz \("):
        fetch_dataset("mnist", str(tmp_path / "d"), timeout=5)
    assert os.listdir(tmp_path / "d") == []


def test_the_published_addresses_come_canonical_first(monkeypatch):
    from gluon_googlenet.training.data.fetch import base_urls
    monkeypatch.delenv(MIRRORS_VAR, raising=False)
    monkeypatch.setenv("MXNET_GLUON_REPO", "http://repo.example/")
    assert base_urls(datasets.FASHION_MNIST) == [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "http://repo.example/gluon/dataset/fashion-mnist/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"]
    assert base_urls(datasets.MNIST)[0] == "http://yann.lecun.com/exdb/mnist/"
