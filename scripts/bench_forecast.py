"""Placement forecast (issue 32): how often does the forecast of `edgebench forecast` say right which ops fall off
a delegate? Prints a Markdown table and writes it into docs/benchmarks.md (scripts/doc_tables.py).

The history: every real model of scripts/fetch_test_models.py measured by `edgebench run` on `local` with the
default delegates (XNNPACK and plain kernels), as given and as each variant a .tflite can be made into here
(fp16, int8, where they apply), a few timed runs each: placement does not depend on timing. Then leave one model
out: each model's placements (all its variants) are forecast from the other models' alone and compared with
what was measured, node by node. Twice: with the full key (dtypes and shapes read from the variants' files, which
this machine still has) and with what the store keeps on its own (op type and version).

    .venv/bin/python scripts/bench_forecast.py [--history DIR]   # DIR kept: a second run only re-scores
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from doc_tables import publish
from fetch_test_models import MODELS

from edgebench import forecast
from edgebench.cli import invoke
from edgebench.store import Store, store_url
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


def placements(history: Path) -> list[forecast.Placed]:
    with Store(store_url(str(history / "history.sqlite"))) as store:
        runs = [store.load_run(r.run_id) for r in store.list_runs(device=DEVICE)]
    return [p for run in runs for p in forecast.placements_of(run, history / "work")]


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def rows(found: list[forecast.Placed], full_keys: bool) -> list[str]:
    label = "op, version, dtypes, shapes" if full_keys else "op, version (the store alone)"
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


def table(found: list[forecast.Placed], build_s: float) -> str:
    models = sorted({p.model for p in found})
    with_files = sum(1 for p in found if any(k.dtypes for k in p.keys))
    lines = [
        f"Leave one model out over {len(found)} measured placements ({with_files} with their files) of "
        f"{len(models)} real models on `{DEVICE}` (as given, {VARIANTS} where they apply), plain-kernel cells left "
        f"out; the history took {build_s:.0f} s to measure on a machine shared with other work.",
        "",
        "| delegate | key | nodes | with history | forecast right | all-delegated right | fell off: caught "
        "| forecast off: right | key level used |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
        *rows(found, full_keys=True),
        *rows(found, full_keys=False),
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
        found = placements(history)
    publish("bench_forecast", table(found, build_s), packages=["ai-edge-litert", "ai-edge-quantizer"])


if __name__ == "__main__":
    main()
