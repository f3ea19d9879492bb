"""``edgebench convert``: every compressed variant of a model, with the figures that decide which ships."""

from __future__ import annotations

import json
from pathlib import Path

import click

from converter.catalogue import NORMALISATIONS, VARIANTS, Options
from edgebench.commands.options import json_option, quiet_option, unique_list, workdir_option
from edgebench.commands.progress import progress
from edgebench.errors import ExitCode
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL


def resolve_inputs(model: Path | None, data: Path | None) -> tuple[Path, Path]:
    """The bundled example by default; a user's model needs its data."""
    if model is None:
        model = EXAMPLE_MODEL
    if data is None:
        if model != EXAMPLE_MODEL:
            raise click.UsageError("--data is required with --model (calibration, fine-tuning and accuracy need it)")
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
    "[default: the example's data when --model is the example]",
)

EPILOG = (
    """\b
Examples:
  edgebench convert                                   # every variant of the bundled example
  edgebench convert --model m.keras --data photos/ --normalize unit --variants fp32,int8,qat_int8
  edgebench convert --model m.h5 --data d.npz --sparsity 0.75 --clusters 32 --epochs 5 --json
  edgebench convert --model m.tflite --data d.npz     # measure a finished .tflite as given

\b
Variants: """
    + ", ".join(VARIANTS)
    + """
Image folders are read with OpenCV, resized (INTER_AREA) to the model's input, colour as RGB or
grayscale to match it, then scaled by --normalize: raw 0..255 (the model rescales itself), unit
0..1, symmetric -1..1. A re-run with the same model, data and options reuses the earlier output.
"""
)


@click.command(epilog=EPILOG)
@model_option
@data_option
@click.option(
    "--variants",
    "variant_list",
    default=",".join(VARIANTS),
    show_default=True,
    help="Comma-separated variants to make.",
)
@click.option(
    "--sparsity",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=Options.sparsity,
    show_default=True,
    help="Target sparsity of pruned variants.",
)
@click.option(
    "--clusters",
    type=click.IntRange(min=2),
    default=Options.clusters,
    show_default=True,
    help="Clusters per weight tensor for clustered variants.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=Options.epochs,
    show_default=True,
    help="Fine-tuning epochs for pruned, clustered and QAT variants.",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=Options.learning_rate,
    show_default=True,
    help="Fine-tuning learning rate.",
)
@click.option("--float-io", is_flag=True, help="Full-integer variants keep float32 inputs and outputs.")
@click.option("--keep-sparsity", is_flag=True, help="Store pruned_int8 sparse (EXPERIMENTAL_SPARSITY).")
@click.option(
    "--normalize",
    type=click.Choice(NORMALISATIONS),
    default=Options.normalize,
    show_default=True,
    help="Pixel scaling for image-folder data.",
)
@click.option(
    "--val-split",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=Options.val_split,
    show_default=True,
    help="Share of each image class kept for validation.",
)
@click.option("--seed", type=int, default=Options.seed, show_default=True, help="Same seed, same bytes.")
@click.option("--force", is_flag=True, help="Rebuild even when a cached conversion matches.")
@workdir_option
@json_option
@quiet_option
def convert_command(
    model: Path | None,
    data: Path | None,
    variant_list: str,
    sparsity: float,
    clusters: int,
    epochs: int,
    lr: float,
    float_io: bool,
    keep_sparsity: bool,
    normalize: str,
    val_split: float,
    seed: int,
    force: bool,
    workdir: str,
    as_json: bool,
    quiet: bool,
) -> int:
    """Make every compressed LiteRT variant of a model and compare accuracy, size and gzip size with fp32.

    Writes variants/*.tflite and a versioned variants.json (sizes, sparsity, unique weights, ops and
    versions, I/O quantisation, host accuracy, recipe and tool versions) under --workdir.
    Exit code: 0 all made, 1 a variant failed, 2 bad input.
    """
    model, data = resolve_inputs(model, data)
    options = Options(
        sparsity=sparsity,
        clusters=clusters,
        epochs=epochs,
        learning_rate=lr,
        float_io=float_io,
        keep_sparsity=keep_sparsity,
        seed=seed,
        normalize=normalize,
        val_split=val_split,
    )
    from edgebench.conversion import ConvertRequest, conversion_failed, convert_reporting
    from edgebench.report import table, variants

    with progress(quiet, as_json=as_json) as listener:
        request = ConvertRequest(model, data, variant_names(variant_list), Path(workdir), options, force)
        manifest, directory = convert_reporting(request, listener)
    rows = variants.rows(manifest)
    if as_json:
        click.echo(
            json.dumps(
                {"model": manifest.model_name, "directory": str(directory), "variants": variants.as_json(rows)},
                indent=1,
            )
        )
    else:
        variants.render(rows, f"{manifest.model_name} — {directory}", table.console_for_stdout())
    return int(ExitCode.FAILED if conversion_failed(manifest) else ExitCode.OK)


convert_command.name = "convert"
