"""Variants made before, kept by what their bytes depend on, so that changing one option rebuilds only the
variants that read it (the catalogue's ``VariantSpec.reads``): ``--clusters 8`` re-clusters, it does not
fine-tune the pruned ones again.

An entry is the flatbuffer and what it cost to make; everything measured from it (figures, host accuracy,
references) is measured again, so a reused variant is scored exactly like a new one. A variant that failed or
did not apply is not kept: it is cheap to find out again, and a failure may be fixed by then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebench_records import sha256_tree, write_atomic
from edgebench_records.catalogue import Options
from edgebench_records.options import declared

# Options whose value is a file: the key holds the file's content hash, so editing it in place rebuilds.
FILE_OPTIONS = tuple(spec.name for spec in declared(Options) if spec.file)


def code_sha256(package: Path = Path(__file__).parent) -> str:
    """The hash of the converter's own sources (``package``'s .py files, never its bytecode): a changed recipe
    or default makes its variants again, even where the version number stayed (a development checkout, a
    patched install)."""
    digest = hashlib.sha256()
    for source in sorted(package.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def keyed_options(options: Any) -> dict[str, Any]:
    """``options`` as a dict, file options replaced by their content's hash (unreadable: the path, and the
    conversion names it when it reads it)."""
    values = dataclasses.asdict(options)
    for name in FILE_OPTIONS:
        if values.get(name):
            with contextlib.suppress(OSError):
                values[name] = sha256_tree(Path(values[name]))
    return values


@dataclass(frozen=True)
class Entry:
    flatbuffer: bytes
    convert_s: float
    finetune_s: float
    notes: tuple[str, ...]


@dataclass(frozen=True)
class VariantCache:
    root: Path
    # what every variant depends on: the model's and data's content, the converter's code and its tools' versions
    basis: dict[str, Any]
    reuse: bool = True  # False: every variant is made anew (``convert --force``), and kept for next time

    def key(self, variant: str, options: Any, reads: frozenset[str]) -> str:
        values = keyed_options(options)
        recipe = {**self.basis, "variant": variant, "options": {name: values[name] for name in sorted(reads)}}
        return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()

    def _paths(self, variant: str, key: str) -> tuple[Path, Path]:
        stem = self.root / f"{variant}-{key[:16]}"
        return stem.with_suffix(".tflite"), stem.with_suffix(".json")

    def load(self, variant: str, key: str) -> Entry | None:
        """The entry, or None when there is none or it is incomplete (its record is written last)."""
        if not self.reuse:
            return None
        flatbuffer_path, record_path = self._paths(variant, key)
        try:
            record = json.loads(record_path.read_text())
            flatbuffer = flatbuffer_path.read_bytes()
            if hashlib.sha256(flatbuffer).hexdigest() != record["sha256"]:
                return None  # a file changed or cut short since: make it again
            notes = record["notes"]
            if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
                return None
            return Entry(flatbuffer, float(record["convert_s"]), float(record["finetune_s"]), tuple(notes))
        # A damaged record (not JSON, not an object, a field missing or of another type) is a miss: made again.
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def store(self, variant: str, key: str, entry: Entry) -> None:
        flatbuffer_path, record_path = self._paths(variant, key)
        write_atomic(flatbuffer_path, entry.flatbuffer)
        record = {
            "sha256": hashlib.sha256(entry.flatbuffer).hexdigest(),
            "convert_s": entry.convert_s,
            "finetune_s": entry.finetune_s,
            "notes": list(entry.notes),
        }
        write_atomic(record_path, json.dumps(record).encode())
