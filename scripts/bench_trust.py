"""Numbers you can trust (issue 17): one row per check, measured, with its goal. Prints a Markdown table and
writes it into docs/benchmarks.md (scripts/doc_tables.py).

  flag rate, quiet / loaded - the bundled example's int8 x xnnpack cell, N times with the machine as it is
                              and N times with a spinning process on every core (goal: >= 95 % flagged
                              loaded, <= 5 % quiet; on a shared machine "quiet" is whatever else runs)
  memory spread             - the same cell's peak RSS at --min-secs 1, 10 and 60 (goal <= 2 MB)
  corrupting delegate       - cells run through tests/data/corrupting_delegate.c (claims every node, returns
                              noise), fp32 and int8, one seed a cell: wrong_output (goal 100 %)
  honest cells              - xnnpack and cpu x interpreter and compiled x 1 and 2 threads, fp32 and int8,
                              checked against the same variant on reference kernels: not flagged (goal 0 %)
  real models               - every model of scripts/fetch_test_models.py (mediapipe and the new real ones), its
                              given file and the variants ai-edge-quantizer makes, and the MobileNetV2 benchmark
                              model (scripts/make_bench_model.py) and its --bench-variants, under xnnpack and cpu:
                              honest cells flagged (goal 0 %), the corrupting delegate caught (goal 100 %), and
                              the honest cells' largest error for their tolerance
  subtle corruptions        - tests/data/one_op_delegate.c on each real model with a float op it can take: one op
                              type's outputs replaced by its first input (every node of it), one channel's sign
                              flipped (the first node), the first node's output scaled by 1 + x for x on LADDER:
                              which of the numerics check's tests catch each, and the smallest x each catches

    .venv/bin/python scripts/bench_trust.py [--cells 20] [--min-secs 1,10,60]
        [--checks noise,memory,numerics,real,subtle] [--models iris_landmark,okay_nabu] [--variants int8]
        [--bench-variants fp32,int8]   # small: --checks real,subtle --models iris_landmark --bench-variants ''
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path

import numpy as np
from bench_compression import trained_model
from bench_culprit import QUICK, reference, synthetic
from busy import spinning
from doc_tables import publish
from fetch_test_models import DEST, MODELS

import edgebench_records as schema
from device_runner import noise
from device_runner.engines import Incompatible
from device_runner.inputs import InputSet
from device_runner.sweep import run_plan
from edgebench.cli import invoke
from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.plan import build_plan, stage
from edgebench_records import CellKey, CellResult, Manifest, Measurement, Status
from tests.support import one_op
from tests.support.model_plans import stage as stage_model
from tests.support.one_op import Mode

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".edgebench" / "bench"
CELL = CellKey("int8", "xnnpack", 1)
Row = tuple[str, str, str]  # check, measured, goal


@functools.cache
def converted() -> tuple[Manifest, Path]:
    return convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["int8"], WORK)


def measure(tmp: Path, settings: Measurement, name: str) -> CellResult:
    """One cell in its own process, as the sweep runs it."""
    manifest, manifest_dir = converted()
    plan_path = stage(build_plan("bench-trust", manifest, settings), manifest_dir, tmp / name)
    out = tmp / f"{name}.json"
    command = [sys.executable, "-m", "device_runner", "cell", str(plan_path), CELL.id, "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=600)
    return schema.read(CellResult, out)


def flagged_share(tmp: Path, cells: int, loaded: bool) -> float:
    settings = Measurement(delegates=["xnnpack"], runs=50, min_s=0.5, warmup_min_s=0.1)
    with spinning(len(noise.usable_cpus()) if loaded else 0):
        time.sleep(0.3 * loaded)
        results = [measure(tmp, settings, f"{'loaded' if loaded else 'quiet'}{i}") for i in range(cells)]
    return sum(bool(r.conditions and r.conditions.contended) for r in results) / cells


def noise_rows(tmp: Path, cells: int) -> list[Row]:
    quiet, loaded = flagged_share(tmp, cells, False), flagged_share(tmp, cells, True)
    return [
        ("noise guard: cells flagged, busy loops on every core", f"{loaded:.0%} of {cells}", ">= 95 %"),
        ("noise guard: cells flagged, machine as it is", f"{quiet:.0%} of {cells}", "<= 5 %"),
    ]


def memory_rows(tmp: Path, seconds: list[float]) -> list[Row]:
    base = Measurement(delegates=["xnnpack"], runs=50, warmup_min_s=0.2)
    peaks = {}
    for s in seconds:
        cell = measure(tmp, dataclasses.replace(base, min_s=s), f"mem{s:g}")
        assert cell.memory and cell.memory.peak_rss_mb and cell.timing
        peaks[s] = (cell.memory.peak_rss_mb, len(cell.timing.samples_ms))
    spread = max(p for p, _ in peaks.values()) - min(p for p, _ in peaks.values())
    shown = ", ".join(f"{s:g} s: {p:.1f} MB ({n} runs)" for s, (p, n) in peaks.items())
    return [(f"peak RSS spread over --min-secs {'/'.join(f'{s:g}' for s in seconds)}", f"{spread:.2f} MB", "<= 2 MB"),
            ("  peaks", shown, "")]  # fmt: skip


def numerics_rows(tmp: Path, cells: int) -> list[Row]:
    """The numerics check: every corrupting-delegate cell caught, no honest cell flagged."""
    library = tmp / "libcorrupting_delegate.so"
    source = ROOT / "tests" / "data" / "corrupting_delegate.c"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    both = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "int8"], WORK)
    quick = Measurement(runs=5, min_s=0.0, warmup_min_s=0.0)
    seeds = [f"external:{library};seed={seed}" for seed in range(1, (cells + 1) // 2 + 1)]
    corrupt = sweep(tmp / "corrupt", both, dataclasses.replace(quick, delegates=seeds))
    honest = sweep(
        tmp / "honest",
        both,
        dataclasses.replace(quick, delegates=["xnnpack", "cpu"], apis=["interpreter", "compiled"], threads=[1, 2]),
    )
    caught = sum(r.status == Status.WRONG_OUTPUT for r in corrupt)
    flagged = [r for r in honest if r.status != Status.OK]
    worst = max(honest, key=_used)  # the honest cell nearest its tolerance, the corrupt one least past it
    closest = min(corrupt, key=_used)
    return [
        ("numerics: corrupting delegate cells caught (wrong_output)", f"{caught / len(corrupt):.0%} of {len(corrupt)}",
         "100 %"),
        ("numerics: honest cells flagged", f"{len(flagged) / len(honest):.0%} of {len(honest)}", "0 %"),
        ("  closest corrupt / worst honest cell",
         f"{_figures(closest)} / {_figures(worst)} ({worst.key.id})", ""),
    ]  # fmt: skip


def _figures(result: CellResult) -> str:
    n = result.numerics
    if n is None:
        return "not checked"
    agreement = f"{n.agreement:.1%}, " if n.agreement is not None else ""  # only for class distributions
    cosine = f"cosine {n.cosine:.4f}, " if n.cosine is not None else ""  # none for an output of a few values
    return f"{agreement}{cosine}{_used(result):.0%} of its error tolerance"


def real_cells(tmp: Path, model: Sequence[str], variants: str, delegates: str) -> list[CellResult]:
    """``edgebench run`` on one real model (``--model M`` and its flags), briefly: every cell's result (the table
    itself is not wanted)."""
    work = tmp / Path(model[1]).stem
    argv = ["run", *model, "--variants", variants, "--delegates", delegates, "--quiet"]
    argv += ["--runs", "3", "--min-secs", "0", "--warmup-secs", "0.05", "--workdir", str(work)]
    invoke([*argv, "--store", str(work / "h.sqlite")])
    return [schema.read(CellResult, p) for p in sorted(work.glob("runs/*/results/*.json"))]


def real_model_rows(tmp: Path, models: list[str], variants: str, bench_variants: str) -> list[Row]:
    """The numerics check on real models: honest cells (xnnpack, cpu) never flagged, corrupted ones caught."""
    library = tmp / "libcorrupting_delegate.so"
    source = ROOT / "tests" / "data" / "corrupting_delegate.c"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    runs = [(["--model", str(DEST / f"{name}.tflite")], variants) for name in models]
    if bench_variants:
        mobilenet = trained_model(WORK)
        runs.append((["--model", str(mobilenet.model), "--data", str(mobilenet.data)], bench_variants))
    honest: list[CellResult] = []
    corrupt: list[CellResult] = []
    corrupting = f"external:{library};seed=1"
    for model, asked in runs:  # one run a model, so its variants are made once
        cells = real_cells(tmp, model, asked, f"xnnpack,cpu,{corrupting}")
        honest += [r for r in cells if r.delegate != corrupting]
        corrupt += [r for r in cells if r.delegate == corrupting]
        print(f"real: {model[1]} done", file=sys.stderr, flush=True)
    checked = [r for r in honest if r.numerics is not None]
    flagged = [r for r in checked if r.status == Status.WRONG_OUTPUT]
    caught = [r for r in corrupt if r.status == Status.WRONG_OUTPUT]
    judged = [r for r in corrupt if r.numerics is not None]
    worst = max(checked, key=_used, default=None)
    where = f"{worst.variant} × {worst.delegate} ({_used(worst):.0%} of its tolerance)" if worst else "—"
    flagged_names = ", ".join(f"{r.variant} × {r.delegate}: {r.message}" for r in flagged[:3])
    return [
        (f"numerics, {len(runs)} real models: honest cells flagged", f"{len(flagged)} of {len(checked)}"
         + (f" ({flagged_names})" if flagged else ""), "0"),
        ("numerics, real models: corrupting delegate caught", f"{len(caught)} of {len(judged)}", "100 %"),
        ("  honest cell nearest its tolerance", where, ""),
    ]  # fmt: skip


LADDER = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)  # the first node's output scaled by 1 + x
SUBTLE_SAMPLES = 8  # synthetic inputs a cell


class Test(StrEnum):
    """The numerics check's tests, each of which can fail a cell on its own (docs/trust.md)."""

    RMS = "RMS error"  # against the spread, or in output steps
    COSINE = "cosine"
    AGREEMENT = "top-1 agreement"


def failed_tests(result: CellResult) -> set[Test]:
    """Which of the check's tests the cell's worst outputs fail, read from the figures the cell records."""
    n = result.numerics
    if n is None:
        return set()
    found = {Test.RMS} if _used(result) > 1 else set()
    for o in n.outputs:
        if o.cosine is not None and n.min_cosine_allowed is not None and o.cosine < n.min_cosine_allowed:
            found.add(Test.COSINE)
        if o.agreement is not None and o.agreement < n.min_agreement_allowed:
            found.add(Test.AGREEMENT)
    return found


@dataclasses.dataclass
class Subtle:
    """One real model under the one-op delegate's subtle corruptions."""

    model: str
    op: str
    replaced: CellResult
    channel: CellResult
    scaled: dict[float, CellResult]  # by x

    def smallest(self, test: Test | None) -> float | None:
        """The smallest x whose scaled cell ``test`` fails (None: the cell's status, wrong_output)."""
        return next((x for x, r in sorted(self.scaled.items()) if _caught(r, test)), None)


def _caught(result: CellResult, test: Test | None) -> bool:
    return result.status == Status.WRONG_OUTPUT if test is None else test in failed_tests(result)


def corrupted_cell(tmp: Path, model: Path, inputs: InputSet, expected: list[np.ndarray], delegate: str,
                   amount: float = 0.0) -> CellResult:  # fmt: skip
    """One cell of ``model`` on ``inputs``, held to their ``expected`` reference-kernel outputs, under ``delegate``,
    the scale mode's fraction ``amount`` in the cell process's environment."""
    folder = Path(tempfile.mkdtemp(dir=tmp))
    plan = stage_model(folder, model, inputs, expected, dataclasses.replace(QUICK, delegates=[delegate]))
    os.environ[one_op.AMOUNT_ENV] = f"{amount:g}"
    try:
        (result,) = run_plan(plan, folder / "results")
    finally:
        del os.environ[one_op.AMOUNT_ENV]
    return result


def subtle_cells(tmp: Path, models: list[str]) -> list[Subtle]:
    gcc = shutil.which("gcc")
    if gcc is None:
        raise SystemExit("bench_trust: gcc not found (apt-get install gcc)")
    library = one_op.build(gcc, tmp)
    found = []
    for name in models:
        model = DEST / f"{name}.tflite"
        op = next((op for op in one_op.OPS if one_op.first_corrupted(model, op) is not None), None)
        if op is None:
            continue
        inputs = synthetic(model, SUBTLE_SAMPLES)
        try:
            expected = reference(model, inputs)
        except (Incompatible, RuntimeError) as exc:  # no reference kernels for it here: nothing to judge against
            print(f"subtle: {name} skipped, {exc}", file=sys.stderr, flush=True)
            continue
        cell = functools.partial(corrupted_cell, tmp, model, inputs, expected)
        scaled = {x: cell(one_op.delegate(library, op, Mode.SCALE, count=1), x) for x in LADDER}
        replaced = cell(one_op.delegate(library, op, Mode.REPLACE))
        channel = cell(one_op.delegate(library, op, Mode.CHANNEL, count=1))
        found.append(Subtle(name, op, replaced, channel, scaled))
        print(f"subtle: {name} {op}: replace {replaced.status}, channel {channel.status}", file=sys.stderr, flush=True)
    return found


def _tests_text(result: CellResult) -> str:
    """Which tests caught the cell, or why it was not caught."""
    if result.status == Status.WRONG_OUTPUT:
        return " + ".join(sorted(failed_tests(result))) or "caught"
    if result.status == Status.OK:
        return f"missed ({_used(result):.0%} of its RMS tolerance)"
    return str(result.status)


def _x(value: float | None) -> str:
    return "not within +100 %" if value is None else f"+{value:.1%}"


def subtle_rows(tmp: Path, models: list[str]) -> list[Row]:
    """The smallest corruption each test of the numerics check catches, per real model."""
    found = subtle_cells(tmp, models)
    rows: list[Row] = []
    for s in found:
        by_test = ", ".join(f"{t}: {_x(s.smallest(t))}" for t in Test)
        rows += [
            (f"subtle, {s.model}: every float {s.op} skipped (its first input passed on)", _tests_text(s.replaced), ""),
            (f"subtle, {s.model}: one channel's sign flipped, first {s.op}", _tests_text(s.channel), ""),
            (
                f"subtle, {s.model}: first {s.op}'s output scaled, smallest caught",
                f"{_x(s.smallest(None))} ({by_test})",
                "",
            ),
        ]
    judged = [s for s in found if s.replaced.numerics is not None]
    caught = sum(s.replaced.status == Status.WRONG_OUTPUT for s in judged)
    flipped = sum(s.channel.status == Status.WRONG_OUTPUT for s in judged)
    smallest = sorted(x for s in judged if (x := s.smallest(None)) is not None)
    median = _x(smallest[len(smallest) // 2]) if smallest else "—"
    return [
        (
            f"subtle corruptions, {len(judged)} real models: one op type skipped caught",
            f"{caught} of {len(judged)}",
            "all",
        ),
        ("subtle corruptions: one channel's sign flipped caught", f"{flipped} of {len(judged)}", "all"),
        (
            "subtle corruptions: one op scaled, median smallest caught",
            f"{median} ({len(smallest)} caught within +100 %)",
            "",
        ),
        *rows,
    ]


def _used(result: CellResult) -> float:
    """The largest share of its RMS tolerance an output of the cell used (above 1: past it), from the figures the
    cell records: the spread is rms_diff / rel_error, the tolerance that spread's share or the steps allowed."""
    n = result.numerics
    if n is None or n.max_error_allowed is None:
        return 0.0
    used = []
    for o in n.outputs:
        if o.rms_diff is None or o.rel_error is None or o.rms_diff == 0:
            continue
        scale = o.rms_diff / o.rel_error if math.isfinite(o.rel_error) and o.rel_error else 0.0
        allowed = max(n.max_error_allowed * scale, (n.max_steps_allowed or 0.0) * (o.step or 0.0))
        used.append(o.rms_diff / allowed if allowed else math.inf)
    return max(used, default=0.0)


def sweep(tmp: Path, converted: tuple[Manifest, Path], settings: Measurement) -> list[CellResult]:
    manifest, manifest_dir = converted
    plan_path = stage(build_plan("bench-trust", manifest, settings), manifest_dir, tmp / "plan")
    return run_plan(plan_path, tmp / "results")


# Each check's table goes into its block of docs/benchmarks.md, so a long check can be rerun on its own.
BLOCKS = {
    "noise": "bench_trust",
    "memory": "bench_trust",
    "numerics": "bench_trust",
    "real": "bench_trust_real",
    "subtle": "bench_trust_subtle",
}


def table(rows: list[Row]) -> str:
    lines = ["| check | measured | goal |", "|---|---|---|", *(f"| {c} | {m} | {goal} |" for c, m, goal in rows)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--min-secs", default="1,10,60")
    parser.add_argument("--checks", default=",".join(BLOCKS))
    parser.add_argument("--models", default=",".join(MODELS), help="real models for the 'real' and 'subtle' checks")
    parser.add_argument("--variants", default="fp16,dynamic_int8,weight_int8,int8")
    parser.add_argument(
        "--bench-variants", default="fp32,fp16,dynamic_int8,int8", help="the MobileNetV2's ('' to leave it out)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        checks: dict[str, Callable[[], list[Row]]] = {
            "noise": lambda: noise_rows(Path(tmp), args.cells),
            "memory": lambda: memory_rows(Path(tmp), [float(s) for s in args.min_secs.split(",")]),
            "numerics": lambda: numerics_rows(Path(tmp), args.cells),
            "real": lambda: real_model_rows(Path(tmp), args.models.split(","), args.variants, args.bench_variants),
            "subtle": lambda: subtle_rows(Path(tmp), args.models.split(",")),
        }
        asked = args.checks.split(",")
        for block in dict.fromkeys(BLOCKS[name] for name in asked):
            rows = [row for name in asked if BLOCKS[name] == block for row in checks[name]()]
            publish(block, table(rows), packages=["ai-edge-litert", "numpy", "tensorflow"], script="bench_trust")


if __name__ == "__main__":
    main()
