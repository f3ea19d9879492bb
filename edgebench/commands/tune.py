"""``edgebench tune``: parse the flags into a tune request, search, print the front and the recommendation."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from edgebench.commands.convert import data_option, model_option, resolve_inputs
from edgebench.commands.groups import Inputs, Output, grouped
from edgebench.commands.options import (
    accept_host_key_option,
    conversion_options,
    csv_list,
    flags_given,
    inventory_option,
    json_option,
    limit_options,
    measurement_options,
    output_file,
    parse_tags,
    quiet_option,
    search_options,
    store_option,
    unique_list,
    workdir_option,
)
from edgebench.commands.run import Lab
from edgebench.tune.limits import Limits
from edgebench_records import Measurement
from edgebench_records.catalogue import Options
from edgebench_records.options import declared
from edgebench_records.tune import Search

if TYPE_CHECKING:  # the work's modules load Optuna, SQLAlchemy and numpy: only when a tune starts
    from edgebench.tune.job import TuneOutcome, TuneRequest
    from edgebench.tune.space import SearchSpace

EPILOG = """\b
Examples:
  edgebench tune --max-accuracy-drop 1 --budget 10m          # the bundled example, on this machine
  edgebench tune --model m.keras --data d.npz --device pixel --max-accuracy-drop 1 --out best.tflite
  edgebench tune --model m.keras --data d.npz --objective size --variants int8,pruned_int8,clustered_int8
  edgebench tune --resume 20261206T151800Z-1a2b3c --budget 20m   # search on where a tune stopped

\b
Each candidate is a recipe at settings of its own (its search is declared beside it in the catalogue): made by
the converter (a setting made once is reused), measured on the device as `run` measures, kept in the run's
folder. A candidate wider than one already no better than the best within the drop is passed over, not made.
The run is stored in the history when the search ends with a candidate to ship; `edgebench report RUN`
shows its front. Exit code: 0 a candidate found, 1 none within --max-accuracy-drop, 2 bad input or
infrastructure (what was measured is kept: --resume).
"""


@dataclass(frozen=True)
class Target:
    """What the search keeps and where: --out, --resume, --tag."""

    out: Path | None
    resume: str | None
    tags: tuple[str, ...]


@click.command(epilog=EPILOG)
@model_option
@data_option
@click.option(
    "--device", "device_name", default="local", show_default=True, help="The device the candidates are measured on."
)
@click.option(
    "--variants",
    default="",
    metavar="LIST",
    help="Comma-separated recipes to search. [default: every recipe with a search declared that the model allows]",
)
@search_options
@limit_options
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    callback=output_file,
    metavar="FILE.tflite",
    help="Write the recommended candidate's .tflite here (e.g. for gate --candidate-model).",
)
@click.option("--resume", metavar="RUN_ID", help="Continue a tune that stopped: nothing measured is measured again.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE", help="Label the run in the history; repeatable.")
@measurement_options
@conversion_options
@inventory_option
@accept_host_key_option
@workdir_option
@store_option
@json_option
@quiet_option
@click.pass_context
@grouped(Inputs, "inputs")
@grouped(Lab, "lab")
@grouped(Target, "target")
@grouped(Output, "output")
def tune(
    ctx: click.Context,
    inputs: Inputs,
    lab: Lab,
    search: Search,
    limits: Limits,
    target: Target,
    measure: Measurement,
    conversion: Options,
    workdir: str,
    store: str | None,
    output: Output,
) -> int:
    """Search the recipes' settings for the best variant on a device within an accuracy drop of fp32.

    Optuna's multi-objective TPE asks for candidates (a recipe and its settings: sparsity, clusters, channel and
    stream ratios, low-rank energy, recovery length, or a quantisation scheme as it is); each is converted,
    measured on --device, and drawn on the Pareto front of accuracy (host top-1) × the objective (p50 or peak
    memory on the device, or file size). The recommendation is the best candidate within --max-accuracy-drop of
    fp32.
    """
    from edgebench.commands.progress import progress
    from edgebench.tune.job import tune as work

    drop = search.max_accuracy_drop if conversion.max_accuracy_drop is None else conversion.max_accuracy_drop
    search = replace(search, max_accuracy_drop=drop)
    request = _request(ctx, inputs, lab, (search, limits), target, measure, conversion, Path(workdir), store)
    _note_searched(ctx, request.space)
    with progress(output.quiet, as_json=output.as_json) as listener:
        outcome = work(request, listener)
    return render(outcome, output.as_json)


def _request(
    ctx: click.Context,
    inputs: Inputs,
    lab: Lab,
    aim: tuple[Search, Limits],
    target: Target,
    measure: Measurement,
    conversion: Options,
    workdir: Path,
    store: str | None,
) -> TuneRequest:
    """The work's request from the flags."""
    from edgebench.inventory import load_inventory
    from edgebench.tune.candidates import Source
    from edgebench.tune.job import TuneRequest
    from edgebench.tune.space import search_space

    model, data = resolve_inputs(inputs.model, inputs.data)
    recipes = unique_list(inputs.variants, "--variants") if csv_list(inputs.variants) else []
    given = _given_on_resume(ctx, inputs, lab, aim[0], measure, conversion) if target.resume else {}
    space = search_space(recipes, trains=model.suffix.lower() != ".tflite" and data is not None)
    return TuneRequest(
        Source(model, data, workdir, conversion, measure, aim[0]), lab.device_name, space, aim[1], store,
        load_inventory(lab.inventory), lab.accept_new_host_key, target.resume, parse_tags(target.tags), given,
        target.out,
    )  # fmt: skip


def _note_searched(ctx: click.Context, space: SearchSpace) -> None:
    """A conversion flag the search sets itself is said to be only where it starts (never silently overridden)."""
    flags = {spec.name: spec.flag for spec in declared(Options)}
    searched = {r.option: recipe for recipe in space.recipes for r in space.ranges(recipe)}
    for option, recipe in searched.items():
        if flags[option] in flags_given(ctx):
            click.echo(f"edgebench: note: {flags[option]} is searched (for {recipe}): it starts there", err=True)


def _given_on_resume(
    ctx: click.Context, inputs: Inputs, lab: Lab, search: Search, measure: Measurement, conversion: Options
) -> dict[str, object]:
    """The flags given on the command line with their parsed values, for the resumed tune to check against its
    own (edgebench.resume): every one but --budget and --trials, which only say how long this invocation runs."""
    from edgebench.resume import settings
    from edgebench.tune.job import tune_settings
    from edgebench_records import RunRecord

    model, data = (str(Path(p or "").resolve()) for p in (inputs.model, inputs.data))
    record = RunRecord(lab.device_name, model, data, csv_list(inputs.variants), {}, conversion)
    parsed = {**settings(record, measure), **tune_settings(search), "--device": [lab.device_name]}
    return {flag: parsed[flag] for flag in flags_given(ctx) if flag in parsed}


def render(outcome: TuneOutcome, as_json: bool) -> int:
    """The front and the sentence (or JSON), how long it took, and where --out went."""
    from edgebench.report import tune_view
    from edgebench.report.table import console_for_stdout
    from edgebench.tune.limits import show_duration

    summary = (
        f"{outcome.measured_now} candidates measured in {show_duration(outcome.wall_s)} "
        f"({show_duration(outcome.device_s)} on the device over the run); stopped: {outcome.stop.value}"
    )
    if outcome.passed_over:
        summary += f"; {outcome.passed_over} passed over (they could not beat the best within the drop)"
    if as_json:
        payload = tune_view.as_json(outcome.front) | {"summary": summary, "run_id": outcome.run_id}
        click.echo(json.dumps(payload | {"out": None if outcome.out is None else str(outcome.out)}, indent=1))
    else:
        tune_view.render(outcome.front, console_for_stdout())
        click.echo(summary)
        click.echo(f"stored as run {outcome.run_id}: edgebench report {outcome.run_id}")
        if outcome.out is not None:
            click.echo(f"wrote {outcome.out}")
    for note in outcome.notes:
        click.echo(f"edgebench: note: {note}", err=True)
    return 0
