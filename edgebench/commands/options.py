"""Options shared by several commands, defined once: the conversion and measurement flags are derived from their
declarations on ``Options`` and ``Measurement`` (``edgebench_records.options``)."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from device_runner.delegates import DelegateSpecError, parse_delegate
from edgebench.output_files import write_output
from edgebench.tune.limits import Limits, parse_duration
from edgebench_records import Measurement
from edgebench_records.catalogue import Options
from edgebench_records.options import OptionSpec, Shape, declared
from edgebench_records.tune import Search

F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
quiet_option = click.option(
    "--quiet", "-q", is_flag=True, help="No progress on stderr (bars on a terminal, a line per step in a CI log)."
)
store_option = click.option(
    "--store",
    metavar="PATH|URL",
    envvar="EDGEBENCH_STORE",
    show_envvar=True,
    help="History store: an SQLite file path or a database URL (postgresql://…). [default: .edgebench/history.sqlite]",
)
inventory_option = click.option(
    "--inventory",
    metavar="PATH",
    envvar="EDGEBENCH_INVENTORY",
    show_envvar=True,
    help="Device inventory (TOML). [default: ./edgebench.toml, then ~/.config/edgebench/devices.toml]",
)
accept_host_key_option = click.option(
    "--accept-new-host-key",
    is_flag=True,
    help="Trust an SSH host key seen for the first time and remember it in known_hosts (refused otherwise).",
)


def output_file(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Callback for flags naming a file to write: checked before the work, not after it ('-' is stdout)."""
    if value is None or str(value) == "-":
        return value
    path = Path(value)
    if path.is_dir():
        raise click.BadParameter(f"{path} is a folder; give a file name", ctx, param)
    if not path.parent.is_dir():
        raise click.BadParameter(f"folder {path.parent} does not exist", ctx, param)
    return value


markdown_option = click.option(
    "--markdown",
    "markdown_path",
    metavar="PATH|-",
    callback=output_file,
    help="Also write Markdown, e.g. for a CI job summary ('-': stdout).",
)


def model_explorer_option(writes: str) -> Callable[[F], F]:
    """``--model-explorer DIR`` (into ``explorer_dir``) for a command that draws what it ``writes`` on the graph."""
    return click.option(
        "--model-explorer",
        "explorer_dir",
        type=click.Path(path_type=Path, file_okay=False),
        metavar="DIR",
        help=f"{writes} (the [explorer] extra).",
    )


workdir_option = click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=str),
    default=".edgebench",
    show_default=True,
    help="Where variants, plans, results and logs are kept.",
)


def csv_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def unique_list(value: str, flag: str, *, allow_empty: bool = False) -> list[str]:
    """A comma-separated list that must name something, each item once: an empty sweep would store an
    empty run that hides the real history, and a repeated item would measure the same cell twice."""
    items = csv_list(value)
    if not items and not allow_empty:
        raise click.BadParameter(f"{value!r} names nothing; give at least one", param_hint=flag)
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise click.BadParameter(f"{', '.join(repeated)} given more than once", param_hint=flag)
    return items


# No sweep or CPU set has more entries: a range beyond it is a typo, refused before it is expanded.
MAX_LIST_ENTRIES = 1024


def int_list(value: str, flag: str, *, allow_empty: bool = False) -> list[int]:
    """``1,2,4`` or ranges ``0-3`` as integers, each once; a bad value names the flag."""
    numbers: list[int] = []
    for item in unique_list(value, flag, allow_empty=allow_empty):
        low, dash, high = item.partition("-")
        try:
            first, last = int(low), int(high if dash else low)
        except ValueError:
            raise click.BadParameter(f"{item!r} is not a number or a range like 0-3", param_hint=flag) from None
        if last < first:
            raise click.BadParameter(f"{item!r} is an empty range (write {last}-{first})", param_hint=flag)
        if len(numbers) + last - first + 1 > MAX_LIST_ENTRIES:
            raise click.BadParameter(
                f"{value!r} names {len(numbers) + last - first + 1:,} values; at most {MAX_LIST_ENTRIES}",
                param_hint=flag,
            )
        numbers.extend(range(first, last + 1))
    repeated = sorted(n for n, times in Counter(numbers).items() if times > 1)
    if repeated:
        raise click.BadParameter(f"{', '.join(map(str, repeated))} given more than once", param_hint=flag)
    return numbers


def delegate_list(value: str) -> list[str]:
    """``--delegates``: each entry must name a delegate; whether the device has it is the device's answer."""
    return delegate_entries(unique_list(value, "--delegates"))


def delegate_entries(delegates: list[str]) -> list[str]:
    for delegate in delegates:
        try:
            parse_delegate(delegate)
        except DelegateSpecError as exc:
            raise click.BadParameter(str(exc), param_hint="--delegates") from None
    return delegates


def flags_given(ctx: click.Context) -> list[str]:
    """The flags the user set (on the command line or through an environment variable), by their long name."""
    given = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)
    return [p.opts[0] for p in ctx.command.params if p.name and ctx.get_parameter_source(p.name) in given]


def parse_tags(values: tuple[str, ...]) -> dict[str, str]:
    """``--tag release=4.2`` (repeatable) as a dict; a value without ``=`` names the flag."""
    tags = {}
    for value in values:
        key, sep, tag = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--tag")
        tags[key] = tag
    return tags


def write_markdown(target: str | None, text: str) -> None:
    """``--markdown``: to a file, or to stdout for ``-`` (then nothing else goes to stdout)."""
    if target == "-":
        click.echo(text, nl=False)
    elif target:
        write_output(target, text)


def _declared(kind: click.ParamType[Any, Any], spec: OptionSpec, value: Any, param: Any, ctx: Any) -> Any:
    """A number checked by its declaration (``OptionSpec.problem``: the range, and no nan or inf) rather than by
    click's range types, which are kept for the range they show in ``--help`` beside the default."""
    problem = spec.problem(value)
    if problem:
        kind.fail(problem, param, ctx)
    return value


class DeclaredFloat(click.FloatRange):
    name = "finite float"

    def __init__(self, spec: OptionSpec) -> None:
        low, high = spec.low, spec.high
        super().__init__(
            None if low is None else low.value, None if high is None else high.value, bool(low and low.open),
            bool(high and high.open),
        )  # fmt: skip
        self.spec = spec

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return _declared(self, self.spec, click.FLOAT.convert(value, param, ctx), param, ctx)


class DeclaredInt(click.IntRange):
    def __init__(self, spec: OptionSpec) -> None:
        low, high = spec.low, spec.high
        super().__init__(
            None if low is None else int(low.value), None if high is None else int(high.value),
            bool(low and low.open), bool(high and high.open),
        )  # fmt: skip
        self.spec = spec

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return _declared(self, self.spec, click.INT.convert(value, param, ctx), param, ctx)


def _click_type(spec: OptionSpec) -> Any:
    """The click type of a value option: its choices, its declared range, or click's own int or text."""
    if spec.choices:
        return click.Choice(spec.choices)
    if spec.item is float:
        return DeclaredFloat(spec)
    if spec.item is int:
        return click.INT if spec.low is None and spec.high is None else DeclaredInt(spec)
    return click.STRING


def _shows_default(default: Any) -> bool:
    """None, empty and off mean "not given": nothing to show (0 is a value, shown)."""
    return not (default is None or isinstance(default, bool) or default in ("", (), []))


def _flag(spec: OptionSpec) -> Callable[[F], F]:
    """The click option for a declared option, as the user types it."""
    names, help_text, metavar = [*spec.flags, spec.name], spec.help or None, spec.metavar or None
    if spec.shape is Shape.SWITCH:
        return click.option(*names, is_flag=True, help=help_text)
    if spec.shape is Shape.REPEATED:
        return click.option(*names, multiple=True, metavar=metavar, help=help_text)
    if spec.shape is Shape.COMMA_LIST:  # text, parsed into entries by the family's decorator (``_entries``)
        default = ",".join(map(str, spec.default))
        return click.option(*names, default=default, show_default=bool(default), metavar=metavar, help=help_text)
    return click.option(
        *names,
        type=_click_type(spec),
        default=spec.default,
        show_default=_shows_default(spec.default),
        metavar=metavar,
        help=help_text,
    )


def _entries(spec: OptionSpec, text: str) -> list[Any]:
    """A comma list's entries, each once and each within the declaration; empty only where the default is."""
    allow_empty = not spec.default
    entries: list[Any] = (
        int_list(text, spec.flag, allow_empty=allow_empty)
        if spec.item is int
        else unique_list(text, spec.flag, allow_empty=allow_empty)
    )
    for entry in entries:
        problem = spec.problem(entry)
        if problem:
            raise click.BadParameter(problem, param_hint=spec.flag)
    return entries


def student_file(value: str) -> str:
    """``--student`` checked now (one line naming the flag and the file); kept as given for the converter."""
    from converter.checks import SourceError, check_student  # numpy: only when the flag is used, not for --help

    if value:
        try:
            check_student(Path(value))
        except SourceError as exc:
            raise click.UsageError(str(exc)) from None
    return value


def input_shapes(entries: tuple[str, ...]) -> tuple[str, ...]:
    """``--input-shape`` entries checked now (one line naming the entry); kept as given for the converter."""
    from device_runner.inputs import parse_input_shapes  # numpy: only when the flag is used, not for --help

    try:
        parse_input_shapes(entries)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    return tuple(entries)


def duration(text: str) -> str:
    """``--budget`` checked now (30m, 1h30m, 90s); kept as given, the tune reads it again."""
    try:
        parse_duration(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--budget") from None
    return text


# What a value must be beyond its declaration, in code the standard-library declaration cannot import: the
# runner's delegate grammar, the converter's checks of a file and of tensor shapes (numpy, loaded only then),
# a duration's grammar.
_FURTHER_CHECKS: dict[str, Callable[[Any], Any]] = {
    "budget": duration,
    "delegates": delegate_entries,
    "input_shapes": input_shapes,
    "student": student_file,
}


def _value(spec: OptionSpec, given: Any) -> Any:
    value = _entries(spec, given) if spec.shape is Shape.COMMA_LIST else given
    if spec.shape is Shape.REPEATED:
        value = tuple(value)
    check = _FURTHER_CHECKS.get(spec.name)
    return value if check is None else check(value)


def _family_flags(family: type, argument: str) -> Callable[[F], F]:
    """A decorator giving the command one flag per declared option of ``family``, parsed and checked into
    one ``argument: family`` parameter."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def parse(*args: Any, **kwargs: Any) -> Any:
            kwargs[argument] = family(**{spec.name: _value(spec, kwargs.pop(spec.name)) for spec in declared(family)})
            return command(*args, **kwargs)

        for spec in reversed(declared(family)):
            parse = _flag(spec)(parse)
        return parse  # type: ignore[return-value]

    return decorate


measurement_options = _family_flags(Measurement, "measure")  # the sweep and timing flags: ``measure``


def measurement_flag(name: str, default: Any = None) -> Callable[[F], F]:
    """One declared measurement option, for a command that takes a few of them (the gate's paired mode), with the
    command's own ``default`` where it differs from the declaration's."""
    (spec,) = (spec for spec in declared(Measurement) if spec.name == name)
    return _flag(spec if default is None else dataclasses.replace(spec, default=default))


conversion_options = _family_flags(Options, "conversion")  # the converter's options: ``conversion``
search_options = _family_flags(Search, "search")  # what a tune is after: ``search``
limit_options = _family_flags(Limits, "limits")  # how long one tune invocation searches: ``limits``


def note_no_data(samples: int, measured: str = "latency, memory and output fidelity") -> None:
    """What a command without ``--data`` measured, said once on stderr: accuracy is not among it."""
    note = f"no --data: {measured} on {samples} synthetic inputs; accuracy needs labelled data"
    click.echo(f"edgebench: note: {note}", err=True)
