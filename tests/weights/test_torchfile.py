"""The torch-free .pth reader: refuses a pickle that would run code; names a damaged file or a folder."""
import os
import pickle
import struct
import zipfile

from gluon_googlenet.base.errors import CheckpointError
from gluon_googlenet.weights.torchfile import read_torch_state_dict

import numpy as np
import pytest


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


def _pth(path, array):
    """A PyTorch zip file holding {'fc': array (float32, 2-D)}, the opcodes torch.save writes."""
    def text(value):
        data = value.encode()
        return b"X" + struct.pack("<I", len(data)) + data

    rows, cols = array.shape
    pickled = (b"\x80\x02ccollections\nOrderedDict\n)R" + text("fc") + b"ctorch._utils\n_rebuild_tensor_v2\n("
               + b"(" + text("storage") + b"ctorch\nFloatStorage\n" + text("0") + text("cpu")
               + b"K" + bytes([array.size]) + b"tQ"  # persistent id: the storage in data/0
               + b"K\x00K" + bytes([rows]) + b"K" + bytes([cols]) + b"\x86K" + bytes([cols]) + b"K\x01\x86\x89"
               + b"ccollections\nOrderedDict\n)RtRs.")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("m/data.pkl", pickled)
        archive.writestr("m/data/0", array.astype("<f4").tobytes())


def test_a_damaged_or_misplaced_weights_file_is_named(tmp_path):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    good = str(tmp_path / "w.pth")
    _pth(good, array)
    assert np.array_equal(read_torch_state_dict(good)["fc"], array)
    raw = bytearray(open(good, "rb").read())
    raw[raw.index(array.astype("<f4").tobytes()) + 5] ^= 0x10  # one bit of the tensor's bytes
    bad = tmp_path / "bad.pth"
    bad.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=rf"{bad} is damaged: Bad CRC-32 for file 'm/data/0'"):
        read_torch_state_dict(str(bad))
    with pytest.raises(CheckpointError, match=rf"weights file {tmp_path} is a folder"):
        read_torch_state_dict(str(tmp_path))
