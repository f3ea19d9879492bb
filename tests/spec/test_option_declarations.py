"""Each option is declared once (``edgebench_records.options``): the commands' click flags and the converter's
argparse are what the declaration says (spellings, defaults, ranges, choices), its ranges are checked in one
place, and the command line the host writes is the one the converter reads."""

from __future__ import annotations

import dataclasses
from typing import Any

import click
import pytest

from converter.__main__ import _parser, request_of
from device_runner.delegates import APIS
from device_runner.runtime import RUNTIMES
from edgebench.cli import cli
from edgebench_records import Measurement
from edgebench_records.catalogue import CATALOGUE, DATA_OPTIONS, FINE_TUNED, VARIANTS, Options
from edgebench_records.options import OptionError, OptionSpec, Shape, as_flags, check, declared

FAMILIES = {"conversion": (Options, ["convert", "run", "push", "gate"]), "measurement": (Measurement, ["run", "push"])}
EVERY = [
    pytest.param(family, command, spec, id=f"{command}-{spec.flag}")
    for family, commands in FAMILIES.values()
    for command in commands
    for spec in declared(family)
]


def click_option(command: str, spec: OptionSpec) -> click.Option:
    sub = cli.get_command(click.Context(cli), command)
    assert sub is not None
    (param,) = [p for p in sub.params if p.name == spec.name]
    assert isinstance(param, click.Option)
    return param


@pytest.mark.parametrize(("family", "command", "spec"), EVERY)
def test_each_commands_flag_is_the_declarations(family: type, command: str, spec: OptionSpec) -> None:
    param = click_option(command, spec)
    assert tuple(param.opts) == spec.flags
    if spec.shape is Shape.SWITCH:
        assert param.is_flag and spec.default is False  # off unless typed
    elif spec.shape is Shape.REPEATED:
        assert param.multiple
    elif spec.shape is Shape.COMMA_LIST:
        assert param.default == ",".join(map(str, spec.default))
    else:
        assert param.default == spec.default == getattr(family(), spec.name)
    if spec.choices and spec.shape is Shape.VALUE:
        assert isinstance(param.type, click.Choice) and tuple(param.type.choices) == spec.choices
    if isinstance(param.type, click.FloatRange | click.IntRange):
        low, high = spec.low, spec.high
        assert (param.type.min, param.type.min_open) == ((None, False) if low is None else (low.value, low.open))
        assert (param.type.max, param.type.max_open) == ((None, False) if high is None else (high.value, high.open))
    else:  # no range declared: none to check, other than choices
        assert (spec.low is None and spec.high is None) or spec.shape is Shape.COMMA_LIST


@pytest.mark.parametrize("spec", declared(Options), ids=lambda spec: spec.flag)
def test_the_converters_parser_is_the_declarations(spec: OptionSpec) -> None:
    (action,) = [a for a in _parser()._actions if a.dest == spec.name]
    assert tuple(action.option_strings) == spec.flags
    assert action.default == (list(spec.default) if spec.shape is Shape.REPEATED else spec.default)
    assert tuple(action.choices or ()) == spec.choices


def out_of_range(spec: OptionSpec) -> Any:
    """A value just past the declared range (or outside the choices), of the option's own type."""
    if spec.choices:
        return "no-such-choice"
    bound = spec.low or spec.high
    assert bound is not None
    step = 1 if spec.item is int else 0.001
    past = bound.value if bound.open else bound.value - step if bound is spec.low else bound.value + step
    return spec.item(past)


BOUNDED = [
    pytest.param(family, spec, id=spec.flag)
    for family, _ in FAMILIES.values()
    for spec in declared(family)
    if spec.low or spec.high or spec.choices
]


@pytest.mark.parametrize(("family", "spec"), BOUNDED)
def test_a_value_outside_the_declaration_is_refused_naming_the_flag(family: type, spec: OptionSpec) -> None:
    value = out_of_range(spec)
    entry = [value] if spec.shape is Shape.COMMA_LIST else value
    with pytest.raises(OptionError, match=f"^{spec.flag} "):
        check(dataclasses.replace(family(), **{spec.name: entry}))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("spec", [s for s in declared(Options) if s.item is float], ids=lambda spec: spec.flag)
def test_the_converter_refuses_a_value_its_declaration_refuses_naming_the_flag(spec: OptionSpec, value: str) -> None:
    args = _parser().parse_args(["--model", "m.keras", "--out", "o", f"{spec.flag}={value}"])
    with pytest.raises(OptionError, match=f"^{spec.flag} {value} is not a finite number$"):
        request_of(args)


def test_the_converter_reads_the_command_line_the_host_writes() -> None:
    options = Options(
        sparsity=0.75,
        clusters=8,
        learning_rate=0.002,
        float_io=True,
        keep_sparsity=True,
        task="other",
        input_shapes=("a:1x2", "b:1x3"),
        seed=-1,  # written --seed=-1, not read as a flag
        student="s.keras",
    )
    args = _parser().parse_args(["--model", "m.keras", "--out", "o", *options.as_flags()])
    assert request_of(args).options == options
    assert request_of(_parser().parse_args(["--model", "m.keras", "--out", "o"])).options == Options()


def test_a_measurements_command_line_names_every_flag_once() -> None:
    flags = as_flags(Measurement(cpus=[0, 1], runtime="tflite_runtime", find_culprits=True))
    assert [flag.split("=")[0] for flag in flags] == [spec.flag for spec in declared(Measurement)]
    assert "--cpus=0,1" in flags and "--runtime=tflite_runtime" in flags and "--find-culprits" in flags


def test_the_declared_vocabularies_are_the_runners() -> None:
    (apis,) = [spec for spec in declared(Measurement) if spec.name == "apis"]
    (runtime,) = [spec for spec in declared(Measurement) if spec.name == "runtime"]
    assert apis.choices == APIS and runtime.choices == tuple(name for name, _, _ in RUNTIMES)


def test_a_field_without_a_declaration_is_no_flag() -> None:
    names = {spec.name for spec in declared(Measurement)}
    assert {"blocks", "interleave", "stop_floor"} <= {f.name for f in dataclasses.fields(Measurement)} - names


def test_the_catalogue_declares_each_variant_once_and_what_it_reads() -> None:
    from converter.recipes import RECIPES

    assert tuple(RECIPES) == VARIANTS == tuple(spec.name for spec in CATALOGUE)
    assert all(RECIPES[spec.name].spec is spec for spec in CATALOGUE)
    assert {spec.name for spec in CATALOGUE if spec.trains} == FINE_TUNED
    read = set(DATA_OPTIONS).union(*(spec.reads for spec in CATALOGUE))
    assert read == {spec.name for spec in declared(Options)}  # every option changes some variant's bytes
