"""Versioned JSON records: each record type's version, the steps that upgrade older ones, and the I/O.

Each record type (plan, cell result, manifest, bundle, run record) carries its own ``schema_version``,
"MAJOR.MINOR". A reader first upgrades an older record one version at a time (``RecordType.step``: dict ->
dict), then accepts any minor of its own major (unknown fields from a newer minor are ignored) and refuses
any other major with a message that names the file and both versions.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import tempfile
import types
import typing
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar


class SchemaError(ValueError):
    """A record file (plan, cell result, manifest, bundle, run record) that this version cannot read."""


class VersionError(SchemaError):
    """A record of a major version this code has no upgrade from: a newer edgebench wrote it."""


Upgrade = Callable[[dict[str, Any]], dict[str, Any]]


def _major(version: str) -> str:
    return version.split(".", 1)[0]


class RecordType:
    """A record's name in messages, the version this code writes, and the steps that bring each older
    version up to the next (asv's ``update_to_N``), so stored history keeps loading. Not a dataclass: it
    is a registry beside a record, never part of one."""

    def __init__(self, name: str, version: str) -> None:
        self.name = name
        self.version = version
        self.steps: dict[str, tuple[str, Upgrade]] = {}  # from version -> (to version, step)

    def step(self, old: str, new: str) -> Callable[[Upgrade], Upgrade]:
        """Register ``upgrade`` as the step from version ``old`` to ``new`` (it need not set the version)."""

        def register(upgrade: Upgrade) -> Upgrade:
            self.steps[old] = (new, upgrade)
            return upgrade

        return register

    def upgrade(self, data: dict[str, Any], source: str) -> dict[str, Any]:
        """``data`` brought up to this code's major, or SchemaError naming ``source`` and both versions."""
        found = version = str(data.get("schema_version", ""))
        if not _major(found).isdigit():
            raise SchemaError(f"{source}: no schema_version; not an edgebench file")
        while version in self.steps:
            version, upgrade = self.steps[version]
            data = upgrade(data) | {"schema_version": version}
        ours = _major(self.version)
        if _major(version) != ours:
            raise VersionError(
                f"{source}: {self.name} schema version {found} cannot be read by this edgebench "
                f"(reads {ours}.x); use an edgebench release that writes {_major(found)}.x"
            )
        return data


class Versioned(Protocol):
    RECORD: ClassVar[RecordType]


T = TypeVar("T")
R = TypeVar("R", bound=Versioned)


def to_dict(record: Any) -> dict[str, Any]:
    return dataclasses.asdict(record)


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    return typing.get_type_hints(cls)  # slow (it evaluates annotations): once per record type


def from_dict(cls: type[T], data: dict[str, Any], source: str = "record") -> T:
    """Build ``cls`` from parsed JSON, recursing into nested records; unknown keys are ignored. A versioned
    record (the plan, a cell result, and any nested in a host record) is upgraded first."""
    record = getattr(cls, "RECORD", None)
    if isinstance(record, RecordType):
        data = record.upgrade(data, source)
    hints = _hints(typing.cast(Any, cls))  # a class is hashable; mypy cannot see it through type[T]
    kwargs = {
        f.name: _convert(hints[f.name], data[f.name], source)
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        if f.name in data
    }
    return cls(**kwargs)


def _convert(tp: Any, value: Any, source: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        if value is None or len(options) > 1:  # optional record, or a union of plain JSON scalars
            return value
        return _convert(options[0], value, source)
    if origin is list:
        (inner,) = typing.get_args(tp)
        if inner is float:  # raw samples: thousands of numbers, no records inside
            return [float(item) for item in value]
        if inner in (bool, int, str):
            return list(value)
        return [_convert(inner, item, source) for item in value]
    if origin is dict:
        _, inner = typing.get_args(tp)
        return {key: _convert(inner, item, source) for key, item in value.items()}
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, source)  # type: ignore[arg-type]
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)  # a value outside the vocabulary is a ValueError, reported as an invalid record
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def loads(cls: type[R], text: str, source: str) -> R:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise SchemaError(f"{source}: expected a JSON object")
    return build(cls, data, source)


def build(cls: type[R], data: dict[str, Any], source: str) -> R:
    """A versioned record from parsed JSON: upgraded, checked and built, or one SchemaError naming ``source``."""
    try:
        return from_dict(cls, data, source)
    except SchemaError:
        raise
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise SchemaError(f"{source}: not a valid {cls.__name__}: {exc}") from exc


def dumps(record: Any) -> str:
    return json.dumps(to_dict(record), indent=1, sort_keys=True)


def read(cls: type[R], path: Path) -> R:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{path}: not a JSON file (byte {exc.start} is not UTF-8 text)") from exc
    return loads(cls, text, str(path))


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write via a temp file in the same directory + rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(path: Path, record: Any) -> None:
    write_atomic(path, dumps(record))
