"""Runs as one JSON file: exported from one machine's history, gated against on another.

    {"kind": "edgebench-runs", "schema_version": "1.1", "runs": [<StoredRun>, …]}

Each run carries its plan, manifest and every cell result (raw samples, per-sample correctness), so a
bundle is as good a baseline as the store it came from. Read with the results schema's version rule.
"""

from __future__ import annotations

import json
from pathlib import Path

from device_runner import schema
from edgebench.errors import EdgebenchError
from edgebench.store import StoredRun

KIND = "edgebench-runs"


def write_bundle(path: Path, runs: list[StoredRun]) -> None:
    document = {"kind": KIND, "schema_version": schema.SCHEMA_VERSION, "runs": [schema.to_dict(r) for r in runs]}
    schema.write_atomic(path, json.dumps(document, indent=1))


def read_bundle(path: Path) -> list[StoredRun]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EdgebenchError(f"cannot read run bundle {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:  # a binary file given by mistake: bundles are UTF-8 JSON
        raise EdgebenchError(f"{path}: not a run bundle (binary, not JSON text: byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise EdgebenchError(f"{path}: not a run bundle (invalid JSON at line {exc.lineno})") from exc
    except RecursionError as exc:  # nesting deeper than any bundle: hostile or corrupt
        raise EdgebenchError(f"{path}: not a run bundle (JSON nested too deeply)") from exc
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise EdgebenchError(f"{path}: not a run bundle (made by `edgebench history --export`)")
    try:
        schema.check_version(document, str(path))
        return [schema.from_dict(StoredRun, run) for run in document["runs"]]
    except (schema.SchemaError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise EdgebenchError(f"{path}: damaged run bundle: {exc}") from exc


def is_bundle_ref(ref: str) -> bool:
    """A gate REF naming a file rather than a run id or tag."""
    return ref.endswith(".json") or "/" in ref
