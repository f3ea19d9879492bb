"""Placement forecast (issue 32): how often does the forecast of `edgebench forecast` say right which ops fall off
a delegate? Prints a Markdown table and writes it into docs/benchmarks.md (scripts/doc_tables.py).

The history: every real model of scripts/fetch_test_models.py measured by `edgebench run` on `local` with the
default delegates (XNNPACK and plain kernels), as given and as each variant a .tflite can be made into here
(fp16, int8, where they apply), a few timed runs each: placement does not depend on timing. Then leave one model
out: each model's placements (all its variants) are forecast from the other models' alone and compared with
what was measured, node by node. Three times: with the keys stored with each placement (the store alone), with
the keys read from the variants' files instead (which this machine still has: how results stored before the
keys were are read), and with the op type and version alone (such a result once its files are gone).

    .venv/bin/python scripts/bench_forecast.py [--history DIR]   # DIR kept: a second run only re-scores
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from doc_tables import publish
from fetch_test_models import MODELS

from edgebench import forecast
from edgebench.cli import invoke
from edgebench.forecast import KeySource, Placed
from edgebench.store import Store, store_url
from edgebench_records import CellResult, StoredRun
from tests.support.real_models import real_model

VARIANTS = "fp16,int8"  # besides the model as given; what a .tflite can be made into without its source
DEVICE = "local"


def build(history: Path) -> float:
    """Measure every real model not yet in the history's store; the seconds measuring the history took, over
    every run of this script that added to it (kept beside it)."""
    spent = history / "measured_s.txt"
    earlier = float(spent.read_text()) if spent.is_file() else 0.0
    started = time.monotonic()
    url = store_url(str(history / "history.sqlite"))
    with Store(url) as store:
        done = {run.model_name for run in store.list_runs(device=DEVICE)}
    for name in sorted(MODELS):
        if name in done:
            continue
        args = ["run", "--device", DEVICE, "--model", str(real_model(name)), "--variants", VARIANTS]
        args += ["--runs", "3", "--min-secs", "0", "--warmup-secs", "0", "--quiet"]
        code = invoke([*args, "--workdir", str(history / "work"), "--store", url])
        print(f"{name}: edgebench run exited {code}")
    total = earlier + time.monotonic() - started
    spent.write_text(f"{total:.0f}")
    return total


def stored_runs(history: Path) -> list[StoredRun]:
    with Store(store_url(str(history / "history.sqlite"))) as store:
        return [store.load_run(r.run_id) for r in store.list_runs(device=DEVICE)]


def keyless(cell: CellResult) -> CellResult:
    """The cell as a runner before cell result 1.8 stored it: each node's op, no key."""
    if cell.placement is None:
        return cell
    return dataclasses.replace(cell, placement=dataclasses.replace(cell.placement, node_keys=[]))


def placements(runs: list[StoredRun], workdir: Path | None, cells: Callable[[CellResult], CellResult]) -> list[Placed]:
    return [
        p
        for run in runs
        for p in forecast.placements_of(dataclasses.replace(run, cells=[cells(c) for c in run.cells]), workdir)
    ]


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def rows(found: list[Placed], label: str, full_keys: bool = True) -> list[str]:
    out = []
    for delegate, s in sorted(forecast.leave_one_model_out(found, full_keys).items()):
        levels = ", ".join(f"{level} {n}" for level, n in sorted(s.by_level.items(), key=lambda kv: -kv[1]))
        # what "everything is delegated" would score on the same covered nodes: the forecast's bar to clear
        naive = s.covered - s.fell_off
        out.append(
            f"| {delegate} | {label} | {s.nodes} | {percent(s.covered, s.nodes)} | **{percent(s.right, s.covered)}** "
            f"| {percent(naive, s.covered)} | {s.fell_off_caught} of {s.fell_off} | "
            f"{s.fell_off_caught} of {s.forecast_off} | {levels} |"
        )
    return out


def count(found: list[Placed], source: KeySource) -> int:
    return sum(p.source is source for p in found)


def table(runs: list[StoredRun], workdir: Path, build_s: float) -> str:
    stored = placements(runs, None, lambda cell: cell)  # the store alone: no variant file read
    from_files = placements(runs, workdir, keyless)  # as results from before the keys are read
    models = sorted({p.model for p in stored})
    keyed, filed = count(stored, KeySource.STORED), count(from_files, KeySource.FILE)
    lines = [
        f"Leave one model out over {len(stored)} measured placements of {len(models)} real models on `{DEVICE}` "
        f"(as given, {VARIANTS} where they apply), plain-kernel cells left out: {keyed} of them keyed by the keys "
        f"stored with them and, with those keys set aside, {filed} by their variant files; the history took "
        f"{build_s:.0f} s to measure on a machine shared with other work.",
        "",
        "| delegate | key | nodes | with history | forecast right | all-delegated right | fell off: caught "
        "| forecast off: right | key level used |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
        *rows(stored, "op, version, dtypes, shapes: stored with each placement (the store alone)"),
        *rows(from_files, "op, version, dtypes, shapes: read from the variant files"),
        *rows(stored, "op, version (a result stored before the keys, its files gone)", full_keys=False),
        "",
        "*forecast right*: of the nodes with some history, the share whose forecast (delegated or falls off) matched "
        "the measured placement; *all-delegated right*: the same nodes scored as if every op were delegated, the bar "
        "a forecast must clear; *fell off: caught*: nodes measured off the delegate that were forecast so; "
        "*forecast off: right*: nodes forecast to fall off that did.",
        "",
        f"Models: {', '.join(models)}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--history", type=Path, help="keep the measured history here (reused when run again)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        history = args.history or Path(tmp)
        history.mkdir(parents=True, exist_ok=True)
        build_s = build(history)
        text = table(stored_runs(history), history / "work", build_s)
    publish("bench_forecast", text, packages=["ai-edge-litert", "ai-edge-quantizer"])


if __name__ == "__main__":
    main()
