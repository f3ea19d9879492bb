"""``edgebench forecast``: which ops of a model will fall off each delegate on a device, from its stored history."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgebench.commands.options import json_option, model_explorer_option, store_option, unique_list, workdir_option
from edgebench.errors import ExitCode

EPILOG = """\b
Examples:
  edgebench forecast --device pixel --model new_model.tflite
  edgebench forecast --device pi4 --model int8.tflite --delegates xnnpack --json
  edgebench forecast --device pixel --model new_model.tflite --model-explorer overlays/
"""


@click.command(epilog=EPILOG)
@click.option("--device", required=True, help="The device whose stored history to forecast from.")
@click.option(
    "--model",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The .tflite to forecast (a model or one of its variants).",
)
@click.option("--delegates", metavar="LIST", help="Comma-separated. [default: every delegate in the history]")
@model_explorer_option("Also write the forecast as Model Explorer node-data files, one per delegate")
@workdir_option
@store_option
@json_option
def forecast(
    device: str,
    model: Path,
    delegates: str | None,
    explorer_dir: Path | None,
    workdir: str,
    store: str | None,
    as_json: bool,
) -> int:
    """Predict which ops of MODEL fall off each delegate on DEVICE, before pushing it.

    Each op is matched by op type, version, dtypes and its shapes' class (ranks, static or dynamic) against
    the placements stored for DEVICE's cells, each node stored with its key (for results stored before 1.8:
    read from those runs' variant files where still under --workdir), backing off to fewer fields when the
    history has not seen the whole key. Shown as
    predicted, beside the placement measured for the same file where the store has one; never stored.
    """
    from edgebench.forecast import ForecastRequest, forecast_model
    from edgebench.report import forecast_view, model_explorer
    from edgebench.report.table import console_for_stdout
    from edgebench.store import store_url

    wanted = unique_list(delegates, "--delegates") if delegates is not None else []
    if explorer_dir is not None:
        model_explorer.require_model_explorer()  # before the work, not after it
    found = forecast_model(ForecastRequest(store_url(store), device, model, wanted, Path(workdir)))
    if explorer_dir is not None:
        written = model_explorer.write_forecast(found, explorer_dir)
        click.echo(f"wrote {len(written)} Model Explorer node-data files under {explorer_dir}", err=True)
    if as_json:
        click.echo(json.dumps(forecast_view.as_json(found), indent=1))
    else:
        forecast_view.render(found, console_for_stdout())
    return int(ExitCode.OK)
