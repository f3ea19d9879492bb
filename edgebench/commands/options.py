"""Options shared by several commands, defined once."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from device_runner.delegates import APIS, DelegateSpecError, parse_delegate
from device_runner.runtime import RUNTIMES
from edgebench_records import Measurement
from edgebench_records.catalogue import LOSSES, NORMALISATIONS, TASKS, Options

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


def int_list(value: str, flag: str, *, minimum: int = 0, allow_empty: bool = False) -> list[int]:
    """``1,2,4`` or ranges ``0-3`` as integers, each at least ``minimum`` and once; a bad value names the flag."""
    numbers: list[int] = []
    for item in unique_list(value, flag, allow_empty=allow_empty):
        low, dash, high = item.partition("-")
        try:
            first, last = int(low), int(high if dash else low)
        except ValueError:
            raise click.BadParameter(f"{item!r} is not a number or a range like 0-3", param_hint=flag) from None
        if last < first:
            raise click.BadParameter(f"{item!r} is an empty range (write {last}-{first})", param_hint=flag)
        if first < minimum:
            raise click.BadParameter(f"{first} is below {minimum}", param_hint=flag)
        numbers.extend(range(first, last + 1))
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if repeated:
        raise click.BadParameter(f"{', '.join(map(str, repeated))} given more than once", param_hint=flag)
    return numbers


def delegate_list(value: str) -> list[str]:
    """``--delegates``: each entry must name a delegate; whether the device has it is the device's answer."""
    delegates = unique_list(value, "--delegates")
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


class FiniteFloat(click.FloatRange):
    """A FloatRange that also refuses nan and inf (click lets both through: nan compares false with any bound)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


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
        Path(target).write_text(text, encoding="utf-8")


_MEASURE = Measurement()  # the defaults every measuring flag shows: the record's own, never a copy
_MEASUREMENT_FLAGS = (
    click.option(
        "--delegates",
        default=",".join(_MEASURE.delegates),
        show_default=True,
        help="Comma-separated: xnnpack, cpu, external:/path/lib.so[;key=value…]; on Android also "
        "nnapi[:accelerator], gpu; CompiledModel also gpu, npu.",
    ),
    click.option(
        "--threads",
        default=",".join(map(str, _MEASURE.threads)),
        show_default=True,
        help="Comma-separated thread counts (or ranges like 1-4) to sweep.",
    ),
    click.option(
        "--api",
        "apis",
        default=",".join(_MEASURE.apis),
        show_default=True,
        help=f"LiteRT API per cell: {', '.join(APIS)} (LiteRT 2.x CompiledModel), or both.",
    ),
    click.option(
        "--runtime",
        type=click.Choice([name for name, _, _ in RUNTIMES]),
        default=None,
        help="Force the device's runtime. [default: whichever is installed, ai_edge_litert first]",
    ),
    click.option("--cpus", default="", metavar="LIST", help="Pin each cell to these CPUs, e.g. 0-1 or 4,5,6,7."),
    click.option(
        "--cooldown-s",
        type=FiniteFloat(min=0),
        default=_MEASURE.cooldown_s,
        show_default=True,
        help="Pause between cells so one cell's heat does not slow the next.",
    ),
    click.option(
        "--runs",
        type=click.IntRange(min=1),
        default=_MEASURE.runs,
        show_default=True,
        help="Measured runs per cell (at least; see --min-secs).",
    ),
    click.option(
        "--min-secs",
        type=FiniteFloat(min=0),
        default=_MEASURE.min_s,
        show_default=True,
        help="Measure for at least this long per cell.",
    ),
    click.option("--warmup-runs", type=click.IntRange(min=0), default=_MEASURE.warmup_runs, show_default=True),
    click.option("--warmup-secs", type=FiniteFloat(min=0), default=_MEASURE.warmup_min_s, show_default=True),
    click.option(
        "--cell-timeout",
        type=FiniteFloat(min=1),
        default=_MEASURE.cell_timeout_s,
        show_default=True,
        help="Seconds before a cell is stopped and recorded as timeout.",
    ),
    click.option(
        "--numerics-min-agreement",
        type=FiniteFloat(min=0, max=1),
        default=_MEASURE.numerics_min_agreement,
        show_default=True,
        help="A cell whose top-1 agrees less often with the same variant on the host's reference kernels "
        "is wrong_output.",
    ),
    click.option(
        "--numerics-min-cosine",
        type=FiniteFloat(min=-1, max=1),
        default=_MEASURE.numerics_min_cosine,
        show_default=True,
        help="A cell whose outputs' mean cosine similarity with that reference is lower is wrong_output.",
    ),
)


def measurement_options(command: F) -> F:
    """The sweep and timing flags, parsed and checked into one ``measure: Measurement`` argument."""

    @functools.wraps(command)
    def parse(*args: Any, **kwargs: Any) -> Any:
        apis = unique_list(kwargs.pop("apis"), "--api")
        unknown = [api for api in apis if api not in APIS]
        if unknown:
            raise click.BadParameter(f"unknown API {', '.join(unknown)} (known: {', '.join(APIS)})", param_hint="--api")
        kwargs["measure"] = Measurement(
            apis=apis,
            runtime=kwargs.pop("runtime"),
            cpus=int_list(kwargs.pop("cpus"), "--cpus", allow_empty=True),
            cooldown_s=kwargs.pop("cooldown_s"),
            delegates=delegate_list(kwargs.pop("delegates")),
            threads=int_list(kwargs.pop("threads"), "--threads", minimum=1),
            warmup_runs=kwargs.pop("warmup_runs"),
            warmup_min_s=kwargs.pop("warmup_secs"),
            runs=kwargs.pop("runs"),
            min_s=kwargs.pop("min_secs"),
            cell_timeout_s=kwargs.pop("cell_timeout"),
            numerics_min_agreement=kwargs.pop("numerics_min_agreement"),
            numerics_min_cosine=kwargs.pop("numerics_min_cosine"),
        )
        return command(*args, **kwargs)

    for flag in reversed(_MEASUREMENT_FLAGS):
        parse = flag(parse)
    return parse  # type: ignore[return-value]


_CONVERT = Options()  # the defaults every conversion flag shows: the converter's own, never a copy
_CONVERSION_FLAGS = (
    click.option(
        "--sparsity",
        type=FiniteFloat(0, 1, min_open=True, max_open=True),
        default=_CONVERT.sparsity,
        show_default=True,
        help="Target sparsity of pruned variants.",
    ),
    click.option(
        "--clusters",
        type=click.IntRange(min=2),
        default=_CONVERT.clusters,
        show_default=True,
        help="Clusters per weight tensor for clustered variants.",
    ),
    click.option(
        "--epochs",
        type=click.IntRange(min=1),
        default=_CONVERT.epochs,
        show_default=True,
        help="Fine-tuning epochs for pruned, clustered and QAT variants.",
    ),
    click.option(
        "--lr",
        "--learning-rate",
        "learning_rate",
        type=FiniteFloat(min=0, min_open=True),
        default=_CONVERT.learning_rate,
        show_default=True,
        help="Fine-tuning learning rate.",
    ),
    click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        default=_CONVERT.batch_size,
        show_default=True,
        help="Fine-tuning and calibration batch size.",
    ),
    click.option("--float-io", is_flag=True, help="Full-integer variants keep float32 inputs and outputs."),
    click.option("--keep-sparsity", is_flag=True, help="Store pruned_int8 sparse (EXPERIMENTAL_SPARSITY)."),
    click.option(
        "--task",
        type=click.Choice(TASKS),
        default=_CONVERT.task,
        show_default=True,
        help="What the outputs mean, which decides how labels are scored (auto: guessed from the outputs).",
    ),
    click.option(
        "--loss",
        type=click.Choice(LOSSES),
        default=_CONVERT.loss,
        show_default=True,
        help="Fine-tuning loss (auto: the model's own compiled loss, else one that fits its outputs).",
    ),
    click.option(
        "--input-shape",
        "input_shapes",
        multiple=True,
        metavar="NAME:1x224x224x3",
        help="The shape to use for an input with a dynamic dimension; repeatable, once per input.",
    ),
    click.option(
        "--synthetic-samples",
        type=click.IntRange(min=1),
        default=_CONVERT.synthetic_samples,
        show_default=True,
        help="Without --data: how many seeded synthetic inputs are made from the model's input tensors.",
    ),
    click.option(
        "--normalize",
        type=click.Choice(NORMALISATIONS),
        default=_CONVERT.normalize,
        show_default=True,
        help="Pixel scaling for image-folder data: raw 0..255, unit 0..1, symmetric -1..1.",
    ),
    click.option(
        "--val-split",
        type=FiniteFloat(0, 1, min_open=True, max_open=True),
        default=_CONVERT.val_split,
        show_default=True,
        help="Share of each image class kept for validation.",
    ),
    click.option("--seed", type=int, default=_CONVERT.seed, show_default=True, help="Same seed, same bytes."),
    click.option(
        "--channel-ratio",
        type=FiniteFloat(0, 1, min_open=True),
        default=_CONVERT.channel_ratio,
        show_default=True,
        help="Share of the channels (filters) channel-pruned variants keep.",
    ),
    click.option(
        "--stream-ratio",
        type=FiniteFloat(0, 1, min_open=True),
        default=_CONVERT.stream_ratio,
        show_default=True,
        help="Share of a residual stream's channels (tied across its Adds) channel pruning keeps; 1: kept whole.",
    ),
    click.option(
        "--distill-temperature",
        type=FiniteFloat(min=0, min_open=True),
        default=_CONVERT.distill_temperature,
        show_default=True,
        help="Distillation temperature: how much the teacher's outputs are softened (channel_pruned, distilled).",
    ),
    click.option(
        "--distill-alpha",
        type=FiniteFloat(0, 1),
        default=_CONVERT.distill_alpha,
        show_default=True,
        help="Distillation: weight of the hard-label loss; 1 - alpha goes to the teacher's soft targets.",
    ),
    click.option(
        "--low-rank-energy",
        type=FiniteFloat(0, 1, min_open=True),
        default=_CONVERT.low_rank_energy,
        show_default=True,
        help="Share of the singular-value energy low_rank keeps in each factorised kernel.",
    ),
    click.option(
        "--student",
        metavar="PATH",
        default=_CONVERT.student,
        callback=lambda ctx, param, value: student_file(value),
        help="A Keras model (.keras/.h5) with the model's input and output shapes: the distilled variants train it "
        "from the model as teacher (without it they are not applicable).",
    ),
)


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


def conversion_options(command: F) -> F:
    """The converter's options, parsed and checked into one ``conversion: Options`` argument."""

    @functools.wraps(command)
    def parse(*args: Any, **kwargs: Any) -> Any:
        values = {field.name: kwargs.pop(field.name) for field in dataclasses.fields(Options)}
        values["input_shapes"] = input_shapes(values["input_shapes"])
        kwargs["conversion"] = Options(**values)
        return command(*args, **kwargs)

    for flag in reversed(_CONVERSION_FLAGS):
        parse = flag(parse)
    return parse  # type: ignore[return-value]


def note_no_data(samples: int, measured: str = "latency, memory and output fidelity") -> None:
    """What a command without ``--data`` measured, said once on stderr: accuracy is not among it."""
    note = f"no --data: {measured} on {samples} synthetic inputs; accuracy needs labelled data"
    click.echo(f"edgebench: note: {note}", err=True)
