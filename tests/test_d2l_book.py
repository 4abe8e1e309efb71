"""The book's own code runs our nets: d2l==1.0.3 (its own venv, scripts/setup_d2l.sh) prints the
stage table through Classifier.layer_summary on get_model("googlenet_d2l"), and the book's
GoogleNet class with our Inception trains one short epoch with d2l.Trainer on d2l.FashionMNIST
(tests/reference/d2l_book.py)."""
import os
import subprocess

import pytest
from conftest import D2L_SHAPES, ROOT


@pytest.fixture(scope="session")
def d2l_python():
    """Python of the d2l venv; skipped where it is absent (failed where the test command set it up)."""
    python = os.environ.get("GLUON_GOOGLENET_D2L_PYTHON") or os.path.join(ROOT, ".venv-d2l", "bin", "python")
    probe = [python, "-c", "import d2l, mxnet, gluon_googlenet"]
    if not (os.path.isfile(python) and subprocess.run(probe, capture_output=True).returncode == 0):
        message = f"no d2l venv at {python} (bash scripts/setup_d2l.sh)"
        if os.environ.get("GLUON_GOOGLENET_REQUIRE_D2L"):
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.mark.slow
def test_the_books_code_prints_our_stage_table_and_trains_with_our_inception(d2l_python, fashion_dir, tmp_path):
    script = os.path.join(ROOT, "tests", "reference", "d2l_book.py")
    result = subprocess.run([d2l_python, script, fashion_dir], capture_output=True, text=True, timeout=600,
                            cwd=tmp_path, env=dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=""))
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    ours = lines[lines.index("== layer_summary") + 1:][:6]
    assert ours == [f"HybridSequential output shape:\t {shape}" for _, shape in D2L_SHAPES]
    books = lines[lines.index("== GoogleNet().layer_summary") + 1:][:6]
    assert [line.split("\t ")[1] for line in books] == [str(shape) for _, shape in D2L_SHAPES]
    epoch = lines[-1]
    assert epoch.startswith("epoch 1: 1024 images at 32x32, 16 batches, val loss ")
    loss = float(epoch.split("val loss ")[1].split(",")[0])
    moved = float(epoch.split("classifier moved ")[1])
    assert 0 < loss < 10 and moved > 0  # it trained: finite loss, the classifier's weights changed
