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
                              given file and the variants ai-edge-quantizer makes, under xnnpack and cpu:
                              honest cells flagged (goal 0 %), the corrupting delegate caught (goal 100 %), and
                              the honest cells' largest error for their tolerance

    .venv/bin/python scripts/bench_trust.py [--cells 20] [--min-secs 1,10,60] [--checks noise,memory,numerics,real]
        [--models iris_landmark,okay_nabu] [--variants int8]     # small: two models, one variant, real models only
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from doc_tables import publish
from fetch_test_models import DEST, MODELS

import edgebench_records as schema
from device_runner import noise
from device_runner.sweep import run_plan
from edgebench.cli import invoke
from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.plan import build_plan, stage
from edgebench_records import CellKey, CellResult, Manifest, Measurement, Status

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
    spin = [sys.executable, "-c", "while True: pass"]
    spinners = [subprocess.Popen(spin) for _ in noise.usable_cpus()] if loaded else []
    try:
        time.sleep(0.3 * loaded)
        results = [measure(tmp, settings, f"{'loaded' if loaded else 'quiet'}{i}") for i in range(cells)]
    finally:
        for proc in spinners:
            proc.kill()
            proc.wait()
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


def real_cells(tmp: Path, model: Path, variants: str, delegates: str) -> list[CellResult]:
    """``edgebench run`` on one real .tflite, briefly: every cell's result (the table itself is not wanted)."""
    work = tmp / f"{model.stem}-{abs(hash(delegates))}"
    argv = ["run", "--model", str(model), "--variants", variants, "--delegates", delegates, "--quiet"]
    argv += ["--runs", "3", "--min-secs", "0", "--warmup-secs", "0.05", "--workdir", str(work)]
    invoke([*argv, "--store", str(work / "h.sqlite")])
    return [schema.read(CellResult, p) for p in sorted(work.glob("runs/*/results/*.json"))]


def real_model_rows(tmp: Path, models: list[str], variants: str) -> list[Row]:
    """The numerics check on real models: honest cells (xnnpack, cpu) never flagged, corrupted ones caught."""
    library = tmp / "libcorrupting_delegate.so"
    source = ROOT / "tests" / "data" / "corrupting_delegate.c"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    honest: list[CellResult] = []
    corrupt: list[CellResult] = []
    for name in models:
        model = DEST / f"{name}.tflite"
        honest += real_cells(tmp, model, variants, "xnnpack,cpu")
        corrupt += real_cells(tmp, model, variants, f"external:{library};seed=1")
    checked = [r for r in honest if r.numerics is not None]
    flagged = [r for r in checked if r.status == Status.WRONG_OUTPUT]
    caught = [r for r in corrupt if r.status == Status.WRONG_OUTPUT]
    judged = [r for r in corrupt if r.numerics is not None]
    worst = max(checked, key=_used, default=None)
    where = f"{worst.variant} × {worst.delegate} ({_used(worst):.0%} of its tolerance)" if worst else "—"
    flagged_names = ", ".join(f"{r.variant} × {r.delegate}: {r.message}" for r in flagged[:3])
    return [
        (f"numerics, {len(models)} real models: honest cells flagged", f"{len(flagged)} of {len(checked)}"
         + (f" ({flagged_names})" if flagged else ""), "0"),
        ("numerics, real models: corrupting delegate caught", f"{len(caught)} of {len(judged)}", "100 %"),
        ("  honest cell nearest its tolerance", where, ""),
    ]  # fmt: skip


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cells", type=int, default=20)
    parser.add_argument("--min-secs", default="1,10,60")
    parser.add_argument("--checks", default="noise,memory,numerics,real")
    parser.add_argument("--models", default=",".join(MODELS), help="real models for the 'real' check")
    parser.add_argument("--variants", default="fp16,dynamic_int8,weight_int8,int8")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        checks: dict[str, Callable[[], list[Row]]] = {
            "noise": lambda: noise_rows(Path(tmp), args.cells),
            "memory": lambda: memory_rows(Path(tmp), [float(s) for s in args.min_secs.split(",")]),
            "numerics": lambda: numerics_rows(Path(tmp), args.cells),
            "real": lambda: real_model_rows(Path(tmp), args.models.split(","), args.variants),
        }
        rows = [row for name in args.checks.split(",") for row in checks[name]()]
    lines = [
        "| check | measured | goal |",
        "|---|---|---|",
        *(f"| {c} | {measured} | {goal} |" for c, measured, goal in rows),
    ]
    publish("bench_trust", "\n".join(lines), packages=["ai-edge-litert", "numpy", "tensorflow"])


if __name__ == "__main__":
    main()
