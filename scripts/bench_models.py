"""Real pre-trained models as users bring them: a .tflite and nothing else (no data set, no Keras source).

For each model unpacked by scripts/fetch_test_models.py, `edgebench run` on `local` with no --data: the given
file and the variants ai-edge-quantizer makes from it, under XNNPACK and plain CPU kernels. Prints one table
row per variant: its p50 under each delegate or why the cell is not ok, size against the given file, its worst
output head against the given model (RMS error as a share of that output's spread, on synthetic inputs, from
the XNNPACK cell) or why the variant was not made, and the wall time of conversion + measuring. Then one row
per model class: cells ok of those measured, variants made of those asked. Both tables go into
docs/benchmarks.md at the end (scripts/doc_tables.py).

    .venv/bin/python scripts/bench_models.py [MODEL ...] [--runs 50] [--min-secs 0.5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from doc_tables import BENCHMARKS, write_block  # noqa: E402
from fetch_test_models import DEST, MODELS  # noqa: E402

from edgebench.cli import invoke  # noqa: E402
from edgebench_records import VariantState, read_manifest  # noqa: E402

VARIANTS = "fp16,dynamic_int8,weight_int8,int8"
DELEGATES = ("xnnpack", "cpu")
# What each model stands for (tests/support/real_models.py says why each is in the set).
CLASSES = {
    "okay_nabu": "stateful streaming",
    "hey_jarvis": "control flow (IF)",
    "melspectrogram": "dynamic-length audio",
    "speech_embedding": "free batch",
    "face_detection_full_range_sparse": "sparse weights",
    "pose_detection": "sparse weights",
    "face_detection_back": "multi-head detector",
    "face_detection_short_range": "multi-head detector",
    "palm_detection_lite": "multi-head detector",
}
OTHER = "landmarks, segmentation, custom ops"
# A dynamic input needs its size: the front-end's 1280 samples are 80 ms of 16 kHz audio.
EXTRA_ARGS = {"melspectrogram": ["--input-shape", "input:1x1280"]}


def _shortened(text: str, width: int = 70) -> str:
    """``text`` cut to ``width`` characters from its start, where a message says what it is about."""
    return text if len(text) <= width else text[: width - 1] + "…"


def measure(model: Path, work: Path, runs: int, min_secs: float) -> tuple[dict[str, object], float]:
    argv = ["run", "--model", str(model), "--variants", VARIANTS, "--delegates", ",".join(DELEGATES)]
    argv += ["--runs", str(runs), "--min-secs", str(min_secs), "--workdir", str(work)]
    argv += ["--store", str(work / "history.sqlite"), "--json", "--quiet", *EXTRA_ARGS.get(model.stem, [])]
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        invoke(argv)
    elapsed = time.perf_counter() - start
    if not out.getvalue().strip():
        raise SystemExit(f"bench_models: {model.name}: {err.getvalue().strip().splitlines()[-1]}")
    report: dict[str, object] = json.loads(out.getvalue())["runs"][0]
    return report, elapsed


@dataclass
class Tally:
    """One model class's counts: cells ok of those measured, variants made of those asked."""

    cells_ok: int = 0
    cells: int = 0
    made: int = 0
    asked: int = 0


def _cell_figure(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "—"
    if cell["status"] == "ok":
        return f"{cell['p50_ms']:.2f}"
    return f"{cell['status']}: {_shortened(str(cell.get('message') or ''), 40)}"


def _worst_head(cell: dict[str, Any] | None) -> str:
    if cell is None or cell.get("worst_head_error") is None:
        return "—"
    return f"{cell['worst_head']} {100 * cell['worst_head_error']:.1f} %"


def rows_for(name: str, model: Path, runs: int, min_secs: float, tally: Tally) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        report, elapsed = measure(model, Path(tmp), runs, min_secs)
        # the conversion's folder, beside variants/made (each variant kept by its inputs for reuse)
        (manifest_dir,) = (Path(tmp) / "variants").glob(f"{model.stem}-*")
        manifest = read_manifest(manifest_dir)
    cells = {(r["variant"], r["delegate"]): r for r in report["rows"]}  # type: ignore[attr-defined]
    given = manifest.variant("given")
    given_bytes = given.size_bytes if given and given.size_bytes else None
    lines = []
    for variant in manifest.variants:  # the given file and the variants asked for
        measured = [cells.get((variant.name, delegate)) for delegate in DELEGATES]
        tally.cells += sum(cell is not None for cell in measured)
        tally.cells_ok += sum(cell is not None and cell["status"] == "ok" for cell in measured)
        if variant.name != "given":
            tally.asked += 1
            tally.made += variant.status == VariantState.OK
        timings = [_cell_figure(cell) for cell in measured]
        if variant.status != VariantState.OK:
            size, head = str(variant.status), _shortened(variant.message.split(": ", 1)[-1])
        else:
            size = f"{variant.size_bytes / given_bytes:.2f}×" if given_bytes and variant.size_bytes else "—"
            head = _worst_head(measured[0])
        outputs = len(variant.outputs) if variant.outputs else "—"
        lines.append(f"| {name} | {outputs} | {variant.name} | {' | '.join(timings)} | {size} | {head} |")
    lines[0] += f" {elapsed:.1f} s |"
    return [line if line.endswith("s |") else line + " |" for line in lines]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=list(MODELS))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--min-secs", type=float, default=0.5)
    args = parser.parse_args()
    table = ["| model | outputs | variant | p50 ms xnnpack | p50 ms cpu | size vs given | worst head vs given | time |"]
    table.append("|---|---:|---|---:|---:|---:|---:|---:|")
    print("\n".join(table))
    tallies: dict[str, Tally] = {}
    for name in args.models:
        model = DEST / f"{name}.tflite"
        if not model.is_file():
            raise SystemExit(f"bench_models: {model} missing: run scripts/fetch_test_models.py")
        tally = tallies.setdefault(CLASSES.get(name, OTHER), Tally())
        for line in rows_for(name, model, args.runs, args.min_secs, tally):
            print(line, flush=True)  # each row as it is measured: the whole run takes minutes
            table.append(line)
    table += ["", "| model class | cells ok / measured | variants made / asked |", "|---|---:|---:|"]
    table += [f"| {c} | {t.cells_ok} / {t.cells} | {t.made} / {t.asked} |" for c, t in tallies.items()]
    print("\n".join(table[-len(tallies) - 3 :]))
    write_block(BENCHMARKS, "bench_models", "\n".join(table), packages=["ai-edge-litert", "ai-edge-quantizer", "numpy"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
