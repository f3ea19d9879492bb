"""Real pre-trained models as users bring them: a .tflite and nothing else (no data set, no Keras source).

For each model unpacked by scripts/fetch_test_models.py, `edgebench run` on `local` with no --data: the given
file and the variants ai-edge-quantizer makes from it, under XNNPACK and plain CPU kernels. Prints one table
row per variant: status under each delegate, p50, size against the given file, the worst output's cosine
similarity to the given model on the host (synthetic inputs), and the wall time of conversion + measuring;
the whole table goes into docs/benchmarks.md at the end (scripts/doc_tables.py).

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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from doc_tables import BENCHMARKS, write_block  # noqa: E402
from fetch_test_models import DEST, MODELS  # noqa: E402

from edgebench.cli import invoke  # noqa: E402
from edgebench_records import VariantState, read_manifest  # noqa: E402

VARIANTS = "fp16,dynamic_int8,weight_int8,int8"
DELEGATES = ("xnnpack", "cpu")


def _shortened(text: str, width: int = 70) -> str:
    """``text`` cut to ``width`` characters from its start, where a message says what it is about."""
    return text if len(text) <= width else text[: width - 1] + "…"


def measure(model: Path, work: Path, runs: int, min_secs: float) -> tuple[dict[str, object], float]:
    argv = ["run", "--model", str(model), "--variants", VARIANTS, "--delegates", ",".join(DELEGATES)]
    argv += ["--runs", str(runs), "--min-secs", str(min_secs), "--workdir", str(work)]
    argv += ["--store", str(work / "history.sqlite"), "--json", "--quiet"]
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        invoke(argv)
    elapsed = time.perf_counter() - start
    if not out.getvalue().strip():
        raise SystemExit(f"bench_models: {model.name}: {err.getvalue().strip().splitlines()[-1]}")
    report: dict[str, object] = json.loads(out.getvalue())["runs"][0]
    return report, elapsed


def rows_for(name: str, model: Path, runs: int, min_secs: float) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        report, elapsed = measure(model, Path(tmp), runs, min_secs)
        (manifest_dir,) = (Path(tmp) / "variants").iterdir()
        manifest = read_manifest(manifest_dir)
    cells = {(r["variant"], r["delegate"]): r for r in report["rows"]}  # type: ignore[attr-defined]
    given = manifest.variant("given")
    given_bytes = given.size_bytes if given and given.size_bytes else None
    lines = []
    for variant in manifest.variants:  # the given file and the variants asked for
        timings = []
        for delegate in DELEGATES:
            cell = cells.get((variant.name, delegate))
            if cell is None:
                timings.append("—")
            elif cell["status"] == "ok":
                timings.append(f"{cell['p50_ms']:.2f}")
            else:
                timings.append(str(cell["status"]))
        if variant.status != VariantState.OK:
            size, cosine = str(variant.status), _shortened(variant.message.split(": ", 1)[-1])
        else:
            size = f"{variant.size_bytes / given_bytes:.2f}×" if given_bytes and variant.size_bytes else "—"
            scored = variant.host_accuracy.outputs if variant.host_accuracy else []
            cosines = [o.cosine for o in scored if o.cosine is not None]  # none for an output of a few values
            cosine = f"{min(cosines):.4f}" if cosines else variant.host_reference or "—"
        outputs = len(variant.outputs) if variant.outputs else "—"
        lines.append(f"| {name} | {outputs} | {variant.name} | {' | '.join(timings)} | {size} | {cosine} |")
    lines[0] += f" {elapsed:.1f} s |"
    return [line if line.endswith("s |") else line + " |" for line in lines]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=list(MODELS))
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--min-secs", type=float, default=0.5)
    args = parser.parse_args()
    table = ["| model | outputs | variant | p50 ms xnnpack | p50 ms cpu | size vs given | worst output cosine | time |"]
    table.append("|---|---:|---|---:|---:|---:|---:|---:|")
    print("\n".join(table))
    for name in args.models:
        model = DEST / f"{name}.tflite"
        if not model.is_file():
            raise SystemExit(f"bench_models: {model} missing: run scripts/fetch_test_models.py")
        for line in rows_for(name, model, args.runs, args.min_secs):
            print(line, flush=True)  # each row as it is measured: the whole run takes minutes
            table.append(line)
    write_block(BENCHMARKS, "bench_models", "\n".join(table), packages=["ai-edge-litert", "ai-edge-quantizer", "numpy"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
