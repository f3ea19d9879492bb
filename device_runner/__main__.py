"""Command line of the device runner (runs on the device).

python -m device_runner run plan.json --results results/   # the whole sweep, resumable
python -m device_runner cell plan.json CELL_ID… --out F…  # cells timed together (the sweep calls this)
python -m device_runner facts                              # this device's facts as JSON
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import edgebench_records as schema
from device_runner.flatbuffer import ModelFormatError
from device_runner.lifecycle import bind_to_parent
from device_runner.runtime import RuntimeMissing, load_runtime


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m device_runner", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run every cell of a plan (skips finished cells)")
    run.add_argument("plan", type=Path)
    run.add_argument("--results", type=Path, required=True, help="directory for one JSON file per cell")
    run.add_argument("--runtime", choices=["ai_edge_litert", "tflite_runtime"], help="force a runtime")
    cell = commands.add_parser("cell", help="measure one cell, or cells timed in alternating blocks, in this process")
    cell.add_argument("plan", type=Path)
    cell.add_argument("cell_ids", nargs="+", metavar="CELL_ID", help="one cell, or several timed side by side")
    cell.add_argument("--out", type=Path, action="append", required=True, help="one per CELL_ID")
    cell.add_argument("--runtime", choices=["ai_edge_litert", "tflite_runtime"])
    facts = commands.add_parser("facts", help="print this device's facts as JSON")
    facts.add_argument("--runtime", choices=["ai_edge_litert", "tflite_runtime"])
    return parser


def _run(args: argparse.Namespace) -> int:
    from device_runner.sweep import SweepStopped, progress_line, run_plan

    try:
        results = run_plan(args.plan, args.results, args.runtime, on_cell=lambda e: print(progress_line(e), flush=True))
    except SweepStopped as exc:
        print(f"device_runner: stopped, finished cells are kept: {exc}", file=sys.stderr)
        return 2
    return 1 if any(r.failed for r in results) else 0


def _cell(args: argparse.Namespace) -> int:
    from device_runner.cell import run_group

    plan = schema.read(schema.Plan, args.plan)
    known = {k.id: k for k in plan.cells()}
    missing = [cell_id for cell_id in args.cell_ids if cell_id not in known]
    if missing or len(args.out) != len(args.cell_ids):
        raise schema.SchemaError(f"{args.plan}: give cells of this plan, one --out each ({missing})")
    keys = tuple(known[cell_id] for cell_id in args.cell_ids)
    runtime = load_runtime(args.runtime or plan.measure.runtime)
    results = run_group(plan, args.plan.parent, keys, runtime)
    for out, result in zip(args.out, results, strict=True):
        schema.write(out, result)
    return 0


def _facts(args: argparse.Namespace) -> int:
    import json

    from device_runner.facts import device_facts, temperatures_c

    facts = schema.to_dict(device_facts(load_runtime(args.runtime)))
    print(json.dumps({"device": facts, "temperature_c": temperatures_c()}, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    bind_to_parent()
    args = _parser().parse_args(argv)
    command = {"run": _run, "cell": _cell, "facts": _facts}[args.command]
    try:
        return command(args)
    except (schema.SchemaError, RuntimeMissing, ModelFormatError, OSError) as exc:
        print(f"device_runner: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
