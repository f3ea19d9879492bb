"""An .npz is a zip archive: members zip can store but not give back (encrypted, compressed with a method
Python lacks) are refused from the archive, in one line naming the file, before TensorFlow starts."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from edgebench.cli import invoke
from edgebench.example import EXAMPLE_MODEL

FLAG_ENCRYPTED = 0x1


def npz_member_patched(path: Path, *, flags: int = 0, method: int | None = None) -> Path:
    """A one-member .npz whose local and central headers say ``flags`` / compression ``method``."""
    array = io.BytesIO()
    np.save(array, np.zeros((4, 32, 32, 1), np.float32))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_val.npy", array.getvalue())
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    for flag_at, method_at in ((6, 8), (central + 8, central + 10)):  # local header, central directory entry
        data[flag_at] |= flags
        if method is not None:
            data[method_at : method_at + 2] = method.to_bytes(2, "little")
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    ("patch", "why"),
    [
        ({"flags": FLAG_ENCRYPTED}, "File 'x_val.npy' is encrypted, password required for extraction"),
        ({"method": 99}, "That compression method is not supported"),
    ],
    ids=["encrypted", "unknown-compression"],
)
def test_an_npz_member_zip_cannot_open_is_one_line_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, patch: dict[str, int], why: str
) -> None:
    data = npz_member_patched(tmp_path / "d.npz", **patch)
    argv = ["convert", "--model", str(EXAMPLE_MODEL), "--data", str(data), "--workdir", str(tmp_path / "w")]
    assert invoke([*argv, "--variants", "fp32"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == f"edgebench: cannot read data file {data}: {why}"
    assert not (tmp_path / "w" / "logs").exists()  # the converter (TensorFlow) never started
