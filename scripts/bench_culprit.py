"""Culprit search (issue 32): is the op it names the one that broke the cell? Prints a Markdown table and writes
it into docs/benchmarks.md (scripts/doc_tables.py).

Each real model of scripts/fetch_test_models.py is run, on seeded synthetic inputs, through
tests/data/one_op_delegate.c once per op type it can corrupt in that model (ADD, MUL, SUB: it computes the op
right and flips the sign of its output), with --find-culprits. A cell is named right when its culprit is the
first node the delegate corrupts, in execution order (tests/support/one_op.py). Goal: named right in >= 95 %
of the cells that are wrong_output. The table also gives what a cell costs with the search and without it.

    .venv/bin/python scripts/bench_culprit.py [--samples 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import tempfile
import time
from pathlib import Path

from doc_tables import publish

from device_runner.engines import Incompatible
from device_runner.sweep import run_plan
from edgebench_records import CellResult, Measurement, Status
from tests.support import one_op
from tests.support.model_plans import host_outputs, stage, synthetic
from tests.support.real_models import MODELS, real_model

QUICK = Measurement(runs=5, min_s=0.0, warmup_runs=1, warmup_min_s=0.0, cell_timeout_s=300.0)


@dataclasses.dataclass(frozen=True)
class Cell:
    model: str
    op: str
    expected: int  # the first node the delegate corrupts
    result: CellResult
    seconds: float  # the cell with its culprit search
    plain_seconds: float  # the same cell without

    @property
    def named_right(self) -> bool:
        found = self.result.culprit.found if self.result.culprit else None
        return found is not None and found.index == self.expected and found.op == self.op


def measure(tmp: Path, model: Path, library: Path, op: str, samples: int, search: bool) -> tuple[CellResult, float]:
    folder = tmp / f"{model.stem}-{op}-{search}"
    folder.mkdir()
    inputs = synthetic(model, samples)
    settings = dataclasses.replace(QUICK, delegates=[one_op.delegate(library, op)], find_culprits=search)
    plan = stage(folder, model, inputs, host_outputs(model, inputs.inputs, "cpu"), settings)
    start = time.perf_counter()
    (result,) = run_plan(plan, folder / "results")
    return result, time.perf_counter() - start


def cells(tmp: Path, library: Path, samples: int) -> list[Cell]:
    found = []
    for name in sorted(MODELS):
        path = real_model(name)
        try:
            host_outputs(path, synthetic(path, 1).inputs, "cpu")
        except Incompatible as exc:  # no reference kernels for it here: nothing to corrupt against
            print(f"{name}: skipped, {exc}", flush=True)
            continue
        for op in one_op.OPS:
            expected = one_op.first_corrupted(path, op)
            if expected is None:
                continue
            result, seconds = measure(tmp, path, library, op, samples, search=True)
            _, plain = measure(tmp, path, library, op, samples, search=False)
            found.append(Cell(name, op, expected, result, seconds, plain))
            print(f"{name} {op}: {result.status}; {result.culprit.line if result.culprit else ''}", flush=True)
    return found


def table(found: list[Cell]) -> str:
    wrong = [c for c in found if c.result.status == Status.WRONG_OUTPUT]
    right = [c for c in wrong if c.named_right]
    lines = [
        "| model | op corrupted | first corrupted node | status | culprit named | drift | s with search / without |",
        "|---|---|---:|---|---|---:|---:|",
    ]
    for c in found:
        culprit = c.result.culprit.found if c.result.culprit else None
        named = f"{culprit.index} {culprit.op}" if culprit else "none"
        drift = f"{culprit.drift:.3g}" if culprit else "—"
        mark = " ✓" if c.named_right else ""
        lines.append(
            f"| {c.model} | {c.op} | {c.expected} | {c.result.status} | {named}{mark} | {drift} | "
            f"{c.seconds:.1f} / {c.plain_seconds:.1f} |"
        )
    share = f"{len(right) / len(wrong):.0%}" if wrong else "—"
    lines += [
        "",
        f"Culprit named right in **{share} of {len(wrong)} wrong_output cells** (goal ≥ 95 %); "
        f"{len(found) - len(wrong)} of {len(found)} corrupted cells stayed within the numerics check's tolerance.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=4, help="synthetic inputs per cell")
    args = parser.parse_args()
    gcc = shutil.which("gcc")
    if gcc is None:
        raise SystemExit("bench_culprit: gcc not found (apt-get install gcc)")
    with tempfile.TemporaryDirectory() as tmp:
        library = one_op.build(gcc, Path(tmp))
        found = cells(Path(tmp), library, args.samples)
    publish("bench_culprit", table(found), packages=["ai-edge-litert", "numpy"])


if __name__ == "__main__":
    main()
