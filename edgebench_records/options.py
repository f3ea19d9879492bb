"""Options declared once, on the fields of the record that carries them.

A family of options is a frozen dataclass (the conversion ``Options``, the ``Measurement``) whose fields are
declared with ``option``: default, flag, help, range or choices, one line each::

    sparsity: float = option(0.5, above=0, below=1, help="Target sparsity of pruned variants.")

Everything else is derived from that line: the commands' click flags (``edgebench/commands/options.py``), the
converter's argparse and the command line the host hands it (``as_flags``), the flags a ``--resume`` must
agree with (``edgebench/resume.py``: every option is a setting kept with the run, so every one is compared) and
the docs. ``problem`` is the one range check, used by the click types and, through ``check``, by the converter.
A field declared without ``option`` is no flag (the plan's ``interleave``, the gate's ``blocks``).

Standard library only: the converter, the boards and ``--help`` read it without click or numpy.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

_KEY = "edgebench.option"


class Shape(StrEnum):
    """How an option is typed on a command line, from its field's type."""

    VALUE = "value"  # int, float, str: --flag VALUE
    SWITCH = "switch"  # bool: --flag alone sets it
    REPEATED = "repeated"  # tuple[str, ...]: --flag VALUE, once per entry
    COMMA_LIST = "comma list"  # list[int] or list[str]: --flag A,B (ints also as ranges 0-3)


class OptionError(ValueError):
    """A value its option's declaration refuses; the message is one line naming the flag."""


@dataclass(frozen=True)
class Bound:
    value: float
    open: bool  # the bound itself is outside the range


@dataclass(frozen=True)
class OptionSpec:
    """One option as declared (``option``), completed with its field's name, type and default."""

    help: str
    flag: str = ""  # as typed; "": --the-field-name
    aliases: tuple[str, ...] = ()  # further spellings the commands accept (--learning-rate beside --lr)
    low: Bound | None = None
    high: Bound | None = None
    choices: tuple[str, ...] = ()  # of the value, or of each entry of a list
    metavar: str = ""
    # Shapes the inputs every variant is made and scored with, so every variant's bytes depend on it
    # (the converter's per-variant cache); the options a variant reads besides are on its catalogue entry.
    data: bool = False
    file: bool = False  # names a file: a cache keys its content, not its path
    name: str = ""  # the rest: filled in from the field by ``declared``
    item: type = str  # the value's type, or each entry's (int in list[int])
    shape: Shape = Shape.VALUE
    default: Any = None

    @property
    def flags(self) -> tuple[str, ...]:
        return (self.flag, *self.aliases)

    def describe_range(self) -> str:
        """The range as click writes it beside the default in ``--help``: ``0<x<1``, ``x>=2``."""
        low, high = self.low, self.high
        if low is None:
            return "" if high is None else f"x{'<' if high.open else '<='}{high.value}"
        if high is None:
            return f"x{'>' if low.open else '>='}{low.value}"
        return f"{low.value}{'<' if low.open else '<='}x{'<' if high.open else '<='}{high.value}"

    def problem(self, value: Any) -> str | None:
        """Why one value (one entry of a list) is refused, or None: the one place ranges are checked."""
        if isinstance(value, float) and not math.isfinite(value):
            return f"{value!r} is not a finite number"
        if self.choices and value not in self.choices:
            return f"{value!r} is not one of {', '.join(self.choices)}"
        below = self.low is not None and (value <= self.low.value if self.low.open else value < self.low.value)
        above = self.high is not None and (value >= self.high.value if self.high.open else value > self.high.value)
        if below or above:
            return f"{value} is not in the range {self.describe_range()}"
        return None


def option(
    default: Any,
    *,
    help: str = "",
    flag: str = "",
    aliases: tuple[str, ...] = (),
    at_least: float | None = None,
    above: float | None = None,
    at_most: float | None = None,
    below: float | None = None,
    choices: tuple[str, ...] = (),
    metavar: str = "",
    data: bool = False,
    file: bool = False,
) -> Any:
    """A dataclass field declaring an option (``Any``: it stands where the field's default goes)."""
    low = Bound(above, True) if above is not None else None if at_least is None else Bound(at_least, False)
    high = Bound(below, True) if below is not None else None if at_most is None else Bound(at_most, False)
    spec = OptionSpec(help, flag, aliases, low, high, choices, metavar, data, file)
    if isinstance(default, list):  # a mutable default: each instance gets its own copy
        return dataclasses.field(default_factory=lambda: list(default), metadata={_KEY: spec})
    return dataclasses.field(default=default, metadata={_KEY: spec})


def declared(family: type) -> tuple[OptionSpec, ...]:
    """The options of a family, in declaration order (the order of the flags in ``--help``)."""
    if family not in _DECLARED:
        _DECLARED[family] = _declare(family)
    return _DECLARED[family]


_DECLARED: dict[type, tuple[OptionSpec, ...]] = {}  # read once per family: its type hints are slow to evaluate


def _declare(family: type) -> tuple[OptionSpec, ...]:
    hints = typing.get_type_hints(family)
    defaults = family()
    specs = []
    for field in dataclasses.fields(family):
        spec = field.metadata.get(_KEY)
        if spec is None:
            continue
        shape, item = _shape(hints[field.name])
        flag = spec.flag or "--" + field.name.replace("_", "-")
        specs.append(
            dataclasses.replace(
                spec, name=field.name, flag=flag, shape=shape, item=item, default=getattr(defaults, field.name)
            )
        )
    return tuple(specs)


def _shape(hint: Any) -> tuple[Shape, type]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        return Shape.SWITCH, bool
    if origin is tuple:
        return Shape.REPEATED, args[0]
    if origin is list:
        return Shape.COMMA_LIST, args[0]
    if origin in (typing.Union, types.UnionType):  # str | None: a value, None when not given
        (value,) = [arg for arg in args if arg is not type(None)]
        return Shape.VALUE, value
    return Shape.VALUE, hint


def check(options: Any) -> None:
    """Every declared option of ``options`` (an ``Options`` or a ``Measurement``) within its declaration."""
    for spec in declared(type(options)):
        value = getattr(options, spec.name)
        for entry in value if spec.shape in (Shape.REPEATED, Shape.COMMA_LIST) else [value]:
            if entry is not None and (problem := spec.problem(entry)):
                raise OptionError(f"{spec.flag} {problem}")


def as_flags(options: Any) -> list[str]:
    """The command line that sets ``options``: a switch when on, a repeated flag once per entry, lists joined
    by commas; each value as ``--flag=VALUE``, so a value starting with '-' is not read as a flag."""
    flags = []
    for spec in declared(type(options)):
        value = getattr(options, spec.name)
        if spec.shape is Shape.SWITCH:
            flags += [spec.flag] if value else []
        elif spec.shape is Shape.REPEATED:
            flags += [f"{spec.flag}={entry}" for entry in value]
        elif spec.shape is Shape.COMMA_LIST:
            flags.append(f"{spec.flag}={','.join(map(str, value))}")
        elif value is not None:
            flags.append(f"{spec.flag}={value}")
    return flags
