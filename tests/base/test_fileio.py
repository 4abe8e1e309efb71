"""Atomic writes, one-line write failures and run-folder locks, tried for real: a second
process, a killed holder, a file-size limit (RLIMIT_FSIZE), a full disk (a small tmpfs)."""
import json
import os
import re
import subprocess
import sys

from gluon_googlenet import TrainConfig, cli, train
from gluon_googlenet.training.run.checkpoint import read_checkpoint

import pytest
from conftest import SMALL, make_idx_dir, run_cli
from PIL import Image


@pytest.mark.slow
def test_a_second_run_into_a_locked_folder_stops_and_touches_nothing(fashion_dir, tmp_path):
    from gluon_googlenet.base.errors import RunFolderBusyError
    from gluon_googlenet.base.fileio import lock_run_folder
    out = tmp_path / "run"
    out.mkdir()
    (out / "history.json").write_text("[]\n")  # the first run's file
    with lock_run_folder(str(out)):
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        with pytest.raises(RunFolderBusyError, match=rf"output folder {out} is in use by another run "
                                                     rf"\(pid {os.getpid()} on .*\)"):
            train(TrainConfig(data_dir=fashion_dir, epochs=1, out=str(out), **SMALL))
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    train(TrainConfig(data_dir=fashion_dir, epochs=1, out=str(out), **SMALL))  # free again
    assert (out / "last.ckpt").exists()


@pytest.mark.slow
def test_two_cli_runs_into_one_folder_and_a_killed_holder(fashion_dir, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c",
                               "import sys, time\nfrom gluon_googlenet.base.fileio import lock_run_folder\n"
                               f"with lock_run_folder({str(out)!r}):\n"
                               "    print('locked', flush=True); time.sleep(120)\n"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        second = subprocess.run([sys.executable, "-m", "gluon_googlenet", "train", "--out", str(out),
                                 "--data-dir", fashion_dir, "--resize", "32", "--limit-train", "64",
                                 "--limit-test", "64", "--epochs", "1"],
                                capture_output=True, text=True, timeout=300)
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and f"is in use by another run (pid {holder.pid} on " in lines[0], lines
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    time.sleep(0.1)
    train(TrainConfig(data_dir=fashion_dir, epochs=1, out=str(out), **SMALL))  # the OS freed the lock
    assert (out / "last.ckpt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_atomic_files_get_the_usual_mode_and_the_umask_is_left_alone(tmp_path, mask):
    import subprocess
    import sys
    code = ("import os, sys; os.umask(int(sys.argv[1], 8)); import gluon_googlenet.base.fileio as f; "
            "f.write_json(sys.argv[2], [1]); print(oct(os.umask(0)))")
    path = tmp_path / "x.json"
    out = subprocess.run([sys.executable, "-c", code, oct(mask)[2:], str(path)], capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == [oct(mask)]  # importing and writing did not change the process umask
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask and json.loads(path.read_text()) == [1]


def _train_argv(data, out, epochs):
    return ["train", "--model", "mnist_resnet", "--data-dir", data, "--out", str(out), "--resize", "0",
            "--batch-size", "16", "--epochs", str(epochs), "--no-verify", "--no-progress"]


def _left_behind(out):
    """Temporary files and folders a failed write must not leave."""
    return [p.name for p in out.iterdir() if p.name.endswith((".tmp", ".link")) or p.name.startswith(".export-")]


def _assert_earlier_files_intact(out):
    meta, params, states, _ = read_checkpoint(str(out / "last.ckpt"))
    assert meta["epoch"] == 1 and params and states is not None
    assert [h["epoch"] for h in json.loads((out / "history.json").read_text())] == [1]
    assert not _left_behind(out)


@pytest.mark.slow
def test_a_file_size_limit_is_one_line_and_keeps_every_earlier_file(tmp_path):
    """RLIMIT_FSIZE, set in the training process itself (no root needed): epoch 2's checkpoint
    cannot be written; epoch 1's files stay whole and loadable, nothing temporary is left."""
    data = make_idx_dir(tmp_path / "data", n_train=64, n_test=16)
    out = tmp_path / "run"
    assert cli.main(_train_argv(data, out, 1)) == 0
    limit = 40_000  # history.json and config.json fit, a 120 kB checkpoint does not
    code = ("import resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
            "from gluon_googlenet.cli import main\n"
            f"sys.exit(main({_train_argv(data, out, 2) + ['--resume']!r}))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    err = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(err) == 1, result.stderr
    found = re.fullmatch(rf"gluon-googlenet train: error: cannot write {re.escape(str(out / 'last.ckpt'))}: "
                         r"file too large \(this process may write files of at most 40\.0 kB\); it needs "
                         r"(\d+\.\d) kB, .* free in .*", err[0])
    assert found, err[0]
    assert 1.0 <= float(found.group(1)) * 1000 / (out / "last.ckpt").stat().st_size < 1.2  # epoch 1's size
    _assert_earlier_files_intact(out)


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_keeps_every_earlier_file(tmp_path):
    """A real 300 kB tmpfs fills up during epoch 2: one line names the file; every file present
    is whole, nothing temporary is left, and with space freed the run resumes and finishes.
    Needs root to mount; skipped elsewhere."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    data = make_idx_dir(tmp_path / "data", n_train=64, n_test=16)
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        out = disk / "run"
        assert cli.main(_train_argv(data, out, 1)) == 0
        result = run_cli(*_train_argv(data, out, 2), "--resume")
        err = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(err) == 1, result.stderr
        assert re.fullmatch(rf"gluon-googlenet train: error: cannot write {re.escape(str(out))}/\S+: no space left "
                            r"on device; it needs .*, .* free in .*", err[0]), err[0]
        assert not _left_behind(out)
        for ckpt in out.glob("*.ckpt"):
            assert read_checkpoint(str(ckpt))[0]["epoch"] in (1, 2)
        assert json.loads((out / "history.json").read_text())[0]["epoch"] == 1
        Image.open(out / "curves.png").load()
        for exported in out.glob("mnist_resnet-*"):  # the user frees space
            exported.unlink()
        assert cli.main(_train_argv(data, out, 2) + ["--resume"]) == 0
        assert read_checkpoint(str(out / "last.ckpt"))[0]["epoch"] == 2
    finally:
        subprocess.run(["umount", str(disk)], check=True)
