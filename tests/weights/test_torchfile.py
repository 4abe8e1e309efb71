"""The torch-free .pth reader refuses a pickle that would run code."""
import os
import pickle
import zipfile

import pytest

from gluon_googlenet.base.errors import CheckpointError
from gluon_googlenet.weights.torchfile import read_torch_state_dict


class _RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_pth_that_runs_code_is_refused_unrun(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("evil/data.pkl", pickle.dumps({"w": _RunsACommand(marker)}))
    with pytest.raises(CheckpointError, match="refusing to load (posix|os).system"):
        read_torch_state_dict(str(path))
    assert not marker.exists()
    (tmp_path / "legacy.pth").write_bytes(pickle.dumps(_RunsACommand(marker)))  # legacy layout
    with pytest.raises(CheckpointError, match="refusing to load (posix|os).system"):
        read_torch_state_dict(str(tmp_path / "legacy.pth"))
    assert not marker.exists()
    (tmp_path / "plain.pth").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match="not a PyTorch file"):
        read_torch_state_dict(str(tmp_path / "plain.pth"))
