"""Flags that belong together reach a command as one record, as the measurement and conversion flags do:
a command function takes a handful of records rather than one parameter per flag."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def grouped(record: type[Any], name: str) -> Callable[[F], F]:
    """The flags whose parameter names are ``record``'s fields (declared with click as usual, in the order
    ``--help`` lists them) are handed to the command as one argument ``name``. Apply it below the flags."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def parse(*args: Any, **kwargs: Any) -> Any:
            kwargs[name] = record(**{field.name: kwargs.pop(field.name) for field in dataclasses.fields(record)})
            return command(*args, **kwargs)

        return parse  # type: ignore[return-value]

    return decorate


@dataclasses.dataclass(frozen=True)
class Output:
    """Where a command's result goes: ``--json`` on stdout, and whether progress is drawn on stderr."""

    as_json: bool
    quiet: bool


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What is converted: ``--model``, ``--data`` (None: the defaults resolve_inputs gives) and ``--variants``."""

    model: Path | None
    data: Path | None
    variants: str
