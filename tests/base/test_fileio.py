"""Atomic writes and run-folder locks, tried for real (a second process, a killed holder)."""
import json
import os

import pytest
from conftest import SMALL

from gluon_googlenet import TrainConfig, train


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
