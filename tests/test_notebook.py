"""examples/googlenet_d2l.ipynb: stored clean, and run top to bottom on a real ipykernel."""
import json
import os

import nbformat
import pytest
from conftest import D2L_SHAPES, ROOT

NOTEBOOK = os.path.join(ROOT, "examples", "googlenet_d2l.ipynb")


def read_notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def test_the_notebook_is_valid_and_stored_without_outputs():
    notebook = read_notebook()
    nbformat.validate(notebook)  # what Jupyter checks when it opens the file
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    dirty = [i for i, cell in enumerate(code) if cell.outputs or cell.execution_count is not None]
    assert not dirty, f"code cells {dirty} were saved with outputs: clear them before committing"
    assert code[0].source.splitlines()[0].startswith("BOOK = False"), "stored with the quick settings"


@pytest.mark.slow
def test_the_notebook_runs_with_quick_settings_and_draws_its_figures(executed_notebook):
    notebook, updates, tmp_path = executed_notebook
    code = [(i, cell) for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    assert all(cell.execution_count for _, cell in code)
    assert not [o for _, cell in code for o in cell.outputs if o.output_type == "error"]
    for i, cell in code:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        expected = 1 if "figure" in cell.metadata.get("tags", []) else 0
        assert len(images) == expected, f"cell {i}: {len(images)} figures, expected {expected}"
        assert all(len(o["data"]["image/png"]) > 5000 for o in images)
    train_index, train_cell = next((i, c) for i, c in code if "result = train(" in c.source)
    # one figure in the training cell, redrawn in place: 4 train points and a test point per epoch
    assert updates.get(train_index, 0) == 3 * 5 - 1
    # The run's own record, not a parse of printed text: every epoch learned (chance is 0.1).
    with open(tmp_path / "runs" / "googlenet_d2l_notebook" / "history.json", encoding="utf-8") as handle:
        history = json.load(handle)
    accuracies = [epoch["test_acc"] for epoch in history]
    # Measured on a Zen 3 (AVX2), seeds 0-2: epoch 1 0.634-0.696, epoch 3 0.711-0.763.
    assert len(accuracies) == 3 and min(accuracies) > 0.4 and accuracies[-1] > 0.55, accuracies
    text = "".join(o.get("text", "") for o in train_cell.outputs)
    assert f"test acc {accuracies[-1]:.3f}" in text.splitlines()[-1]  # the cell's last line: the last epoch
    shapes_cell = next(c for _, c in code if "stage_shapes(net" in c.source)
    shapes = "".join(o.get("text", "") for o in shapes_cell.outputs).splitlines()
    assert shapes == [f"{name:>4} output shape:\t{shape}" for name, shape in D2L_SHAPES]
    pictures = sorted(f for f in os.listdir(tmp_path / "runs" / "googlenet_d2l_notebook") if f.endswith(".png"))
    assert pictures[:2] == ["branches_b3.0.png", "curves.png"] and len(pictures) == 3
    assert pictures[2].startswith("gradcam_test")
