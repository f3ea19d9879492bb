"""``edgebench convert``: every compressed variant of a model, with the figures that decide which ships."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgebench.commands.groups import Inputs, Output, grouped
from edgebench.commands.options import (
    conversion_options,
    json_option,
    note_no_data,
    quiet_option,
    unique_list,
    workdir_option,
)
from edgebench.commands.progress import progress
from edgebench.errors import ExitCode
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench_records.catalogue import VARIANTS, Options


def resolve_inputs(model: Path | None, data: Path | None) -> tuple[Path, Path | None]:
    """The bundled example, with its data, by default; a user's model without --data gets synthetic inputs."""
    if model is None:
        model = EXAMPLE_MODEL
    if data is None and model == EXAMPLE_MODEL:
        data = EXAMPLE_DATA
    return model, data


def variant_names(value: str) -> list[str]:
    names = unique_list(value, "--variants")
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        raise click.BadParameter(f"unknown {', '.join(unknown)}; known: {', '.join(VARIANTS)}", param_hint="--variants")
    return names


model_option = click.option(
    "--model",
    type=click.Path(path_type=Path),
    default=None,
    help="Keras (.keras/.h5), SavedModel directory or .tflite. [default: the bundled digits example]",
)
data_option = click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=None,
    help=".npz with x_train, y_train, x_val, y_val, or a folder of images in one sub-folder per class. "
    "Without it (and --model given): seeded synthetic inputs made from the model's own input tensors, "
    "so no accuracy. [default: the example's data when --model is the example]",
)

EPILOG = (
    """\b
Examples:
  edgebench convert                                   # every variant of the bundled example
  edgebench convert --model m.keras --data photos/ --normalize unit --variants fp32,int8,qat_int8
  edgebench convert --model m.h5 --data d.npz --sparsity 0.75 --clusters 32 --epochs 5 --json
  edgebench convert --model m.tflite --data d.npz     # measure a finished .tflite as given
  edgebench convert --model face.tflite              # no --data: sizes and fidelity on synthetic inputs
  edgebench convert --model seq.keras --input-shape tokens:1x128   # a dynamic input's shape

\b
Variants: """
    + ", ".join(VARIANTS)
    + """
Image folders are read with OpenCV, resized (INTER_AREA) to the model's input, colour as RGB or
grayscale to match it, then scaled by --normalize: raw 0..255 (the model rescales itself), unit
0..1, symmetric -1..1. Without --data the converter makes --synthetic-samples seeded inputs from the
model's own input tensors (shape, dtype, quantisation): sizes and output fidelity against the host
fp32 outputs, but no accuracy. The same conversion flags are accepted by run, push and gate.
A re-run with the same model, data and options reuses the earlier output.
"""
)


@click.command(epilog=EPILOG)
@model_option
@data_option
@click.option(
    "--variants",
    default=",".join(VARIANTS),
    show_default=True,
    help="Comma-separated variants to make.",
)
@conversion_options
@click.option("--force", is_flag=True, help="Make every variant anew, even those made before with the same inputs.")
@workdir_option
@json_option
@quiet_option
@grouped(Inputs, "inputs")
@grouped(Output, "output")
def convert_command(inputs: Inputs, conversion: Options, force: bool, workdir: str, output: Output) -> int:
    """Make every compressed LiteRT variant of a model and compare accuracy, size and gzip size with fp32.

    Writes variants/*.tflite and a versioned variants.json (sizes, sparsity, unique weights, ops and
    versions, I/O quantisation, host accuracy, recipe and tool versions) under --workdir.
    Exit code: 0 all made, 1 a variant failed, 2 bad input.
    """
    model, data = resolve_inputs(inputs.model, inputs.data)
    from edgebench.conversion import ConvertRequest, conversion_failed, convert_reporting
    from edgebench.report import table, variants

    with progress(output.quiet, as_json=output.as_json) as listener:
        request = ConvertRequest(model, data, variant_names(inputs.variants), Path(workdir), conversion, force)
        manifest, directory = convert_reporting(request, listener)
    if data is None:
        note_no_data(conversion.synthetic_samples, "sizes and output fidelity")
    rows = variants.rows(manifest)
    if output.as_json:
        click.echo(
            json.dumps(
                {"model": manifest.model_name, "directory": str(directory), "variants": variants.as_json(rows)},
                indent=1,
            )
        )
    else:
        title = f"{manifest.model_name} — {directory}"
        variants.render(rows, title, table.console_for_stdout(), variants.data_notes(manifest))
    return int(ExitCode.FAILED if conversion_failed(manifest) else ExitCode.OK)


convert_command.name = "convert"
