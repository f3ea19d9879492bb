"""Does `edgebench tune` beat the best default variant within the same budget? (issue 33's benchmark)

For each model, two arms with the same wall-time --budget, each in a workdir of its own (no conversion shared):
  - defaults: fp32, then each recipe of --variants at its catalogue default, in the catalogue's order, while the
    budget lasts; made and measured by the tune's own bench (edgebench/tune/candidates.py), so both arms use
    the same converter, host scoring and device protocol;
  - tuned: `edgebench tune` over the same recipes (edgebench.tune.job.tune, in process).
Each arm's best ratio to fp32 on --objective (p50 speed-up, or size reduction) among candidates within
--max-accuracy-drop points of fp32's host top-1, the gain of the tuned arm over the defaults' (goal: >= 1.3x),
and each arm's wall time and device time (its cells' own time). Measured on `local` under XNNPACK, 1 thread.
For latency, the two arms' bests are then timed head to head, in one process on the device (interleaved
blocks, read block pair by block pair): the gain from one paired measurement, not from two arms each read
against its own fp32 minutes apart. That figure decides the goal.
Writes its table into docs/benchmarks.md (scripts/doc_tables.py).

Models: the bundled example (edgebench.example) and, with --mobilenet, keras.applications MobileNetV2 trained
by scripts/make_bench_model.py (~2 min); --models mobilenet measures it alone (a table of its own). The
emulated arm64 board (ranking only: its timings are emulated) is `scripts/board.py up --inventory
edgebench.toml`, then --device armpi (read from ./edgebench.toml):

    .venv/bin/python scripts/bench_tune.py [--budget 10m] [--objective size|latency] [--variants LIST]
        [--mobilenet | --models mobilenet] [--device local] [--epochs 1] [--work DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_compression import Model, trained_model  # noqa: E402
from doc_tables import publish  # noqa: E402

import edgebench_records as schema  # noqa: E402
from edgebench.devices import get_device  # noqa: E402
from edgebench.errors import EdgebenchError  # noqa: E402
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL  # noqa: E402
from edgebench.inventory import load_inventory  # noqa: E402
from edgebench.measure import new_run_id  # noqa: E402
from edgebench.plan import collect_results, link_or_copy  # noqa: E402
from edgebench.progress import Silent  # noqa: E402
from edgebench.report import speedup  # noqa: E402
from edgebench.report.speedup import Speedup  # noqa: E402
from edgebench.resume import RunFolder  # noqa: E402
from edgebench.tune.candidates import RunBench, Source, add_references, planned  # noqa: E402
from edgebench.tune.front import BASELINE, Point  # noqa: E402
from edgebench.tune.job import TuneRequest, device_seconds, tune  # noqa: E402
from edgebench.tune.limits import Limits, parse_duration, show_duration  # noqa: E402
from edgebench.tune.space import Candidate, SearchSpace  # noqa: E402
from edgebench_records import INPUT_SET_NAME, Measurement, Plan  # noqa: E402
from edgebench_records.catalogue import Options  # noqa: E402
from edgebench_records.tune import Search  # noqa: E402

PACKAGES = ["ai-edge-litert", "tensorflow", "tf-keras", "tensorflow-model-optimization", "optuna", "numpy"]
GOAL = 1.3  # the tuned front's best over the best default's, on the objective
# Channel pruning's ratio moves size (and latency) on any CPU; int8 draws the front it has to beat. Each candidate
# costs a conversion of minutes on a busy 2-core machine: two recipes are what a short budget reaches.
DEFAULT_VARIANTS = "int8,channel_pruned_int8"


@dataclass(frozen=True)
class Arm:
    """One arm's outcome: its best candidate within the drop (None: none beat fp32) and what it cost."""

    best: Point | None
    ratio: float | None  # fp32's figure / the best's
    drop: float | None  # points
    candidates: int
    wall_s: float
    device_s: float
    folder: RunFolder | None  # the arm's run: its files, input set and plan
    passed_over: int = 0  # candidates the search did not make: they could not beat its best within the drop


def best_within(points: list[Point], max_drop: float) -> tuple[Point | None, float | None, float | None]:
    base = next(p for p in points if p.name == BASELINE)
    within = [p for p in points if p.name != BASELINE and base.accuracy - p.accuracy <= max_drop]
    if not within:
        return None, None, None
    best = min(within, key=lambda p: p.value)
    return best, base.value / best.value, base.accuracy - best.accuracy


def defaults_arm(source: Source, recipes: list[str], device_name: str, budget_s: float, work: Path) -> Arm:
    """fp32 and each recipe at its defaults, in order, while the budget lasts."""
    started = time.monotonic()
    folder = RunFolder(work / "runs" / new_run_id())  # a run of its own on the device too, as the tuned arm's
    folder.path.mkdir(parents=True, exist_ok=True)
    device = get_device(device_name, load_inventory(None), False)
    bench = RunBench(source, folder, device, lambda note: None, None)
    points: list[Point] = []
    durations: list[float] = []
    for recipe in [BASELINE, *recipes]:
        expected = sum(durations) / len(durations) if durations else 0.0
        if points and time.monotonic() - started + expected > budget_s:
            break
        began = time.monotonic()
        measured = bench.measure(Candidate(recipe))
        durations.append(time.monotonic() - began)
        if measured.point is not None:
            points.append(measured.point)
        elif recipe == BASELINE:
            raise SystemExit(f"bench_tune: fp32: {measured.note}")
    best, ratio, drop = best_within(points, source.aim.max_accuracy_drop)
    cells = device_seconds(bench.cells())
    return Arm(best, ratio, drop, len(points) - 1, time.monotonic() - started, cells, folder)


def tuned_arm(source: Source, recipes: list[str], device_name: str, budget: str, work: Path) -> Arm:
    request = TuneRequest(
        source, device_name, SearchSpace(tuple(recipes)), Limits(budget=budget, trials=1000),
        str(work / "history.sqlite"), load_inventory(None),
    )  # fmt: skip
    started = time.monotonic()
    try:
        outcome = tune(request, Silent())
    except EdgebenchError as exc:  # none within the drop beat fp32: still a result of the arm
        print(f"bench_tune: tuned: {exc}", file=sys.stderr)
        return Arm(None, None, None, 0, time.monotonic() - started, 0.0, None)
    best, ratio, drop = best_within(outcome.front.points, source.aim.max_accuracy_drop)
    folder = RunFolder(source.workdir / "runs" / outcome.run_id)
    measured = len(outcome.front.points) - 1
    return Arm(best, ratio, drop, measured, outcome.wall_s, outcome.device_s, folder, outcome.passed_over)


DEFAULTS_PREFIX = "default-"  # the defaults' best in the head-to-head run (both bests may be int8)


def head_to_head(defaults: Arm, tuned: Arm, device_name: str, work: Path) -> Speedup | None:
    """The tuned best over the defaults' best, both files as their arms made them, timed in one process on the
    device (interleaved blocks) with the arms' own protocol and read block pair by block pair; None when an arm
    has no best."""
    if defaults.best is None or tuned.best is None or defaults.folder is None or tuned.folder is None:
        return None
    tuned_plan = schema.read(Plan, tuned.folder.plan_path)
    folder = RunFolder(work / "runs" / new_run_id())
    plan_dir = folder.plan_path.parent
    plan_dir.mkdir(parents=True)
    variants = []
    for arm, prefix in ((defaults, DEFAULTS_PREFIX), (tuned, "")):
        assert arm.best is not None and arm.folder is not None
        made = planned(schema.read(Plan, arm.folder.plan_path), arm.best.name)
        assert made is not None
        name = prefix + made.name
        link_or_copy(arm.folder.plan_path.parent / made.file, plan_dir / f"{name}.tflite")
        add_references(plan_dir / INPUT_SET_NAME, arm.folder.plan_path.parent / INPUT_SET_NAME, made.name, name)
        variants.append(dataclasses.replace(made, name=name, file=f"{name}.tflite"))
    plan = dataclasses.replace(tuned_plan, run_id=folder.run_id, variants=variants, tune=None)
    schema.write(folder.plan_path, plan)
    get_device(device_name, load_inventory(None), False).run(folder.plan_path, folder.results, lambda done: None)
    cells = collect_results(plan, folder.results, device_name)
    timed = {cell.variant: cell for cell in cells if cell.timing is not None and cell.timing.p50_ms}
    default_cell, tuned_cell = timed.get(variants[0].name), timed.get(variants[1].name)
    if default_cell is None or tuned_cell is None:
        print(f"bench_tune: head to head: no timing ({', '.join(f'{c.key.id} {c.status}' for c in cells)})")
        return None
    return speedup.of_cells(tuned_cell, default_cell)


def _cell(arm: Arm) -> str:
    if arm.best is None or arm.ratio is None or arm.drop is None:
        return "none beat fp32"
    return f"{arm.best.name}: {arm.ratio:.2f}x at {-arm.drop:+.1f} points"


def _verdict(gain: float) -> str:
    return f"{'meets' if gain >= GOAL else 'below'} {GOAL}x"


def row(model: Model, defaults: Arm, tuned: Arm, head: Speedup | None) -> str:
    """The table's row; the goal is judged on the head-to-head where there is one (latency), else on the two arms'
    ratios (size: the same figure wherever it is read)."""
    gain = tuned.ratio / defaults.ratio if tuned.ratio and defaults.ratio else None
    arms = "" if gain is None else f"{gain:.2f}x" + ("" if head else f" ({_verdict(gain)})")
    together = "" if head is None else f"{head.text().replace('×', 'x')} ({_verdict(head.ratio)})"
    costs = [
        f"{a.candidates}{f' ({a.passed_over} passed over)' if a.passed_over else ''} / {show_duration(a.wall_s)} / "
        f"{show_duration(a.device_s)}"
        for a in (defaults, tuned)
    ]
    return f"| {model.name} | {_cell(defaults)} | {costs[0]} | {_cell(tuned)} | {costs[1]} | {arms} | {together} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="10m", help="each arm's wall time, per model")
    # size by default: a deterministic figure, which a shared machine's load cannot move (latency: the lead's run)
    parser.add_argument("--objective", choices=["latency", "size"], default="size")
    parser.add_argument("--max-accuracy-drop", type=float, default=1.0)
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help="the recipes both arms measure")
    parser.add_argument("--epochs", type=int, default=1, help="fine-tuning epochs (structural: x recovery factor)")
    parser.add_argument("--device", default="local")
    parser.add_argument("--mobilenet", action="store_true", help="also the MobileNetV2 benchmark model")
    parser.add_argument("--models", choices=["example", "mobilenet"], help="one model alone, in a table of its own")
    parser.add_argument("--work", type=Path, help="keep the runs here (default: a temporary folder)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-tune-") as tmp:
        work = args.work or Path(tmp)
        models = (
            []
            if args.models == "mobilenet"
            else [Model("bundled example (digits_mobilenet)", EXAMPLE_MODEL, EXAMPLE_DATA)]
        )
        models += [trained_model(work)] if args.mobilenet or args.models == "mobilenet" else []
        lines = [bench(model, args, work / f"m{index}") for index, model in enumerate(models)]
    header = [
        "| model | best default within the drop | defaults: candidates / wall / device | tuned front's best "
        "within the drop | tuned: candidates / wall / device | tuned over default, from the arms | head to head |",
        "|---|---|---|---|---|---|---|",
    ]
    note = (
        f"Objective {args.objective}, at most {args.max_accuracy_drop:g} point(s) below fp32's host top-1; each arm "
        f"a {args.budget} budget on `{args.device}` (XNNPACK, 1 thread), recipes {args.variants}, "
        f"--epochs {args.epochs}; two cores, 1-minute load average {load_before:.2f} at the start and "
        f"{os.getloadavg()[0]:.2f} at the end (the bench's own work counts). Ratios are to fp32 measured in the "
        "same arm; head to head: the tuned best's speed-up over the defaults' best, timed together in one process "
        "after both arms (95 % interval), which decides the goal for latency."
    )
    # One table per objective and device (and model measured alone), so a latency run on a board does not replace
    # the size run on `local`.
    block = (
        "bench_tune"
        if (args.objective, args.device, args.models) == ("size", "local", None)
        else f"bench_tune_{args.objective}_{args.device}" + (f"_{args.models}" if args.models else "")
    )
    publish(block, "\n".join([*header, *lines, "", note]), PACKAGES, script="bench_tune")


def bench(model: Model, args: argparse.Namespace, work: Path) -> str:
    recipes = [name.strip() for name in args.variants.split(",") if name.strip()]
    options = Options(epochs=args.epochs)
    measure = Measurement(delegates=["xnnpack"], runs=50, min_s=0.5, warmup_min_s=0.2)
    aim = Search(objective=args.objective, max_accuracy_drop=args.max_accuracy_drop)
    source = Source(model.model, model.data, work / "defaults", options, measure, aim)
    defaults = defaults_arm(source, recipes, args.device, parse_duration(args.budget), work / "defaults")
    source = dataclasses.replace(source, workdir=work / "tuned")  # no conversion shared with the defaults
    tuned = tuned_arm(source, recipes, args.device, args.budget, work / "tuned")
    head = head_to_head(defaults, tuned, args.device, work / "head") if args.objective == "latency" else None
    return row(model, defaults, tuned, head)


if __name__ == "__main__":
    main()
