"""Runs as one JSON file: exported from one machine's history, gated against on another.

    {"kind": "edgebench-runs", "schema_version": "1.1", "runs": [<StoredRun>, …]}

Each run carries its plan, manifest and every cell result (raw samples, per-sample correctness), so a
bundle is as good a baseline as the store it came from. The bundle, and each plan, manifest and result
inside it, is upgraded on read by its own record type's steps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from edgebench_records.manifest import Manifest
from edgebench_records.protocol import CellResult, Plan
from edgebench_records.versioning import RecordType, SchemaError, VersionError, build, to_dict, write_atomic

KIND = "edgebench-runs"

# 1.1 (bundles unchanged since 1.0, when one version covered every record).
BUNDLE_RECORD = RecordType("run bundle", "1.1")


@dataclass(frozen=True)
class StoredRun:
    """One run as the store keeps it and a bundle carries it."""

    run_id: str
    created_at: str
    device: str
    plan: Plan
    manifest: Manifest
    git_commit: str | None
    tags: dict[str, str]
    cells: list[CellResult]


@dataclass(frozen=True)
class Bundle:
    RECORD: ClassVar[RecordType] = BUNDLE_RECORD

    runs: list[StoredRun]
    kind: str = KIND
    schema_version: str = BUNDLE_RECORD.version


def write_bundle(path: Path, runs: list[StoredRun]) -> None:
    write_atomic(path, json.dumps(to_dict(Bundle(runs)), indent=1))


def read_bundle(path: Path) -> list[StoredRun]:
    """The runs in a bundle, upgraded; else one SchemaError naming ``path`` and what is wrong with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemaError(f"cannot read run bundle {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:  # a binary file given by mistake: bundles are UTF-8 JSON
        raise SchemaError(f"{path}: not a run bundle (binary, not JSON text: byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{path}: not a run bundle (invalid JSON at line {exc.lineno})") from exc
    except RecursionError as exc:  # nesting deeper than any bundle: hostile or corrupt
        raise SchemaError(f"{path}: not a run bundle (JSON nested too deeply)") from exc
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise SchemaError(f"{path}: not a run bundle (made by `edgebench history --export`)")
    try:
        return build(Bundle, document, str(path)).runs
    except VersionError:  # not damaged: written by a newer edgebench
        raise
    except SchemaError as exc:
        raise SchemaError(f"{path}: damaged run bundle: {exc}") from exc


def is_bundle_ref(ref: str) -> bool:
    """A gate REF naming a file rather than a run id or tag."""
    return ref.endswith(".json") or "/" in ref
