"""Converter process: ``python -m converter --model M [--data D] --out DIR [--variants …] [options]``.

Without ``--data`` the inputs are generated from the model's own input tensors (seeded, ``--synthetic-samples``
of them): latency and output fidelity are measured, accuracy is not, and fine-tuning does not apply.

Run by the host with TF_USE_LEGACY_KERAS=1 and stderr sent to a log file. Speaks to the host on
stdout, one JSON object a line: progress events (``{"event": "variant"|"epoch", …}``), then
``{"manifest": PATH}``, ``{"error": "one line"}`` (the user's to fix) or ``{"crash": "Exception: its line"}``.
Exit codes: 0 all variants made, 1 some variant failed, 2 the model, data or a flag is unusable.
"""

from __future__ import annotations

import argparse
import faulthandler
import sys
import traceback
from pathlib import Path
from typing import Any

import edgebench_records as schema
from converter.checks import first_line
from converter.events import emit
from converter.pipeline import ConversionRequest, convert
from converter.source import SourceError
from device_runner.lifecycle import bind_to_parent
from edgebench_records import MANIFEST_NAME, VariantState
from edgebench_records.catalogue import VARIANTS, Options
from edgebench_records.options import OptionError, OptionSpec, Shape, check, declared


def _add_option(parser: argparse.ArgumentParser, spec: OptionSpec) -> None:
    """A declared option as argparse reads it (the host writes it with ``as_flags``); ranges are ``check``'s."""
    how: dict[str, Any] = {"dest": spec.name, "help": spec.help or None}
    if spec.shape is Shape.SWITCH:
        how |= {"action": "store_true"}
    elif spec.shape is Shape.REPEATED:
        how |= {"action": "append", "default": [], "type": spec.item, "metavar": spec.metavar or None}
    else:
        how |= {"default": spec.default, "type": spec.item, "choices": spec.choices or None}
        how |= {"metavar": spec.metavar or None}
    parser.add_argument(*spec.flags, **how)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m converter", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument(
        "--data", type=Path, help=".npz (x_val[.<input>], x_train…, y_…) or image folder; none: synthetic"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    for spec in declared(Options):
        _add_option(parser, spec)
    parser.add_argument("--cache-key", default="", help="recorded in the manifest for reuse")
    parser.add_argument("--model-sha256", default="")
    parser.add_argument("--data-sha256", default="", help="the data's content hash (or 'synthetic'), for reuse")
    parser.add_argument("--variant-cache", type=Path, help="folder of variants made before, reused by their inputs")
    parser.add_argument("--rebuild", action="store_true", help="make every variant anew (and keep it)")
    parser.add_argument("--log", type=Path, help="where this process's stderr is kept, named in crash messages")
    return parser


def request_of(args: argparse.Namespace) -> ConversionRequest:
    """The parsed command line as a request, its options checked against their declarations."""
    values: dict[str, Any] = {}
    for spec in declared(Options):  # a repeated flag's entries come as a list; Options holds a tuple
        value = getattr(args, spec.name)
        values[spec.name] = tuple(value) if spec.shape is Shape.REPEATED else value
    options = Options(**values)
    check(options)
    return ConversionRequest(
        model=args.model,
        data=args.data,
        out=args.out,
        variants=[name.strip() for name in args.variants.split(",") if name.strip()],
        options=options,
        cache_key=args.cache_key,
        model_sha256=args.model_sha256,
        data_sha256=args.data_sha256,
        variant_cache=args.variant_cache,
        rebuild=args.rebuild,
        log=args.log,
    )


def main(argv: list[str] | None = None) -> int:
    bind_to_parent()  # a killed edgebench must not leave TensorFlow converting for minutes
    faulthandler.enable()  # a native crash leaves the Python stack that led to it in the log
    args = _parser().parse_args(argv)
    try:
        manifest = convert(request_of(args))
    except (SourceError, OptionError) as exc:
        emit({"error": str(exc)})
        return 2
    except Exception as exc:  # not the user's to fix: its last line for the host's message, its traceback logged
        traceback.print_exc()
        emit({"crash": f"{type(exc).__name__}: {first_line(exc)}"})
        return 1
    path = args.out / MANIFEST_NAME
    schema.write(path, manifest)
    emit({"manifest": str(path)})
    return 1 if any(v.status == VariantState.FAILED for v in manifest.variants) else 0


if __name__ == "__main__":
    sys.exit(main())
