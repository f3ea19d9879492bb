"""Content hashes: what makes a conversion reusable and a push skippable."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Raises OSError for anything but a regular file: a FIFO or a device would be read forever."""
    digest = hashlib.sha256()
    # O_NONBLOCK: opening a FIFO must not wait for a writer; the fstat below then refuses it
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_tree(path: Path) -> str:
    """A file's hash, or for a directory (SavedModel) the hash of its relative paths and contents."""
    if not path.is_dir():
        return sha256_file(path)
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(os.fsencode(item.relative_to(path)))  # a name's own bytes, valid UTF-8 or not
        digest.update(sha256_file(item).encode())
    return digest.hexdigest()


def altered_file(folder: Path, recorded: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    """The first (file name, its sha256 now) in ``folder`` whose bytes are not the sha256 recorded for it; a
    missing or unreadable file reads as ``"unreadable"``. A record without a hash (older ones) is not checked.
    No file is measured under a name it does not have: a variant replaced on disk is caught here."""
    for name, sha256 in recorded:
        if not sha256:
            continue
        try:
            now = sha256_file(folder / name)
        except OSError:
            now = "unreadable"
        if now != sha256:
            return name, now
    return None
