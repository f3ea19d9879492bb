"""Do the compression variants hold issue 19's figures? Every variant, measured by edgebench, in one run.

Two models: the bundled example (edgebench.example) and keras.applications MobileNetV2 (width 0.35,
32x32 RGB, 10 classes, no downloaded weights) trained here on scikit-learn's digits by
scripts/make_bench_model.py in its own process (~2 min on 2 cores; kept in --work when one is given).
For each model, every variant of edgebench_records.catalogue.VARIANTS at the default options: `edgebench convert
--json` makes them, then `edgebench run --device local --delegates xnnpack --json` measures each on this
machine (1 thread) --rounds times, reusing that conversion. Figures: top-1 on the validation set from the
device's results (the host's score where the device gives none), p50 (the rounds' median), file and gzip
sizes from the manifest. Prints a Markdown table per model, then the two targets as PASS/FAIL lines, and
writes them into docs/benchmarks.md (scripts/doc_tables.py; with --only, the block holds that model alone):
  - the best int8 variant (name ending in int8) at <= 1.5 points top-1 drop: gzip >= 5x smaller than fp32's;
  - channel_pruned (float32) at <= 1 point drop: p50 <= 0.7x fp32's, measured in the same run.
With --only mixed, instead: issue 32's goal for mixed_int8, on tests/support/fragile_model.py's digits classifier
(trained here in its own process, ~1 min; one small layer that int8 ruins on purpose): fp32, int8 and mixed_int8
(--max-accuracy-drop 1) converted and measured as above, written into its own block of docs/benchmarks.md:
  - full int8 loses >= 2 points; mixed_int8 recovers at least half of that drop at <= 1.3x int8's file size, its
    p50 measured beside int8's in the same runs.
With --explore, instead: fp32 and the channel-pruned variants only, over a grid of --channel-ratio,
--epochs, --lr, --recovery-factor and --seed, to find defaults that hold both targets (--rounds 0: the host's
top-1 alone, no device runs), written into docs/benchmarks.md as its own block. One run of the benchmark took
32 min on this 2-core machine with nothing beside it (example 10 min, MobileNetV2 22 min, plus 2 min to train it).

    .venv/bin/python scripts/bench_compression.py [--work DIR] [--rounds 3] [--only example|mobilenet|mixed]
    .venv/bin/python scripts/bench_compression.py --explore --ratios 0.5,0.6 --epochs 3,9 --lrs 1e-4
        [--recovery 20,40] [--seeds 0,1,2] [--rounds 0] [--work DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from doc_tables import publish  # noqa: E402

from edgebench_records import read_manifest  # noqa: E402
from edgebench_records.catalogue import VARIANTS  # noqa: E402

BASELINE = "fp32"
CHANNEL_PRUNED = "channel_pruned"
# What the figures depend on, named in the block's stamp.
PACKAGES = ["ai-edge-litert", "tensorflow", "tf-keras", "tensorflow-model-optimization", "numpy"]
INT8_SUFFIX = "int8"
INT8_MAX_DROP = 1.5  # points of top-1
INT8_MIN_REDUCTION = 5.0  # fp32 gzip bytes / variant gzip bytes
PRUNED_MAX_DROP = 1.0
PRUNED_MAX_P50_RATIO = 0.7  # variant p50 / fp32 p50
DELEGATE = "xnnpack"
INT8 = "int8"
MIXED = "mixed_int8"
MIXED_MIN_INT8_DROP = 2.0  # points full int8 must lose for the model to test anything
MIXED_MIN_RECOVERY = 0.5  # share of int8's drop mixed_int8 must win back
MIXED_MAX_SIZE_RATIO = 1.3  # mixed_int8 bytes / int8 bytes
MIXED_FLAGS = ("--max-accuracy-drop", "1")


@dataclass(frozen=True)
class Result:
    """One variant of one model as measured: None where it was not made or not measured."""

    variant: str
    status: str  # the device cell's status, else the variant's (not_applicable, failed)
    top1: float | None  # 0..1
    top1_from: str  # "device" or "host"
    p50_ms: float | None  # the median of the rounds' p50s
    size_bytes: int | None
    gzip_bytes: int | None
    contended: int = 0  # of the rounds' cells, how many the noise guard saw other processes busy in
    # Each round's p50 (None where that round has none): a ratio to fp32 is taken within a round, whose cells
    # run one after the other, never across rounds a minute apart.
    round_p50s: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class Model:
    name: str
    model: Path
    data: Path


@dataclass(frozen=True)
class Check:
    target: str
    passed: bool
    figures: str


def _edgebench() -> str:
    return str(Path(sys.executable).parent / "edgebench")


def _edgebench_json(model: Model, command: str, variants: Sequence[str], flags: Sequence[str], work: Path) -> Any:
    """``edgebench COMMAND --json`` on ``model`` in ``work``, as a user runs it; its JSON reply."""
    argv = [_edgebench(), command, "--model", str(model.model), "--data", str(model.data)]
    argv += ["--variants", ",".join(variants), *flags, "--workdir", str(work), "--json", "--quiet"]
    if command == "run":
        argv += ["--device", "local", "--delegates", DELEGATE, "--store", str(work / "history.sqlite")]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    if not done.stdout.strip():
        raise SystemExit(f"bench_compression: {model.name}: {command}: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def measure(model: Model, variants: Sequence[str], flags: Sequence[str], work: Path, rounds: int) -> list[Result]:
    """``edgebench convert``, then ``edgebench run`` on ``local`` under XNNPACK ``rounds`` times (each reuses the
    conversion); one Result per variant, in the catalogue's order, p50 the median of the rounds' p50s."""
    work.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(Path(_edgebench_json(model, "convert", variants, flags, work)["directory"]))
    by_round: list[dict[str, float]] = []
    cells: dict[str, dict[str, Any]] = {}
    contended: dict[str, int] = {}
    for _ in range(rounds):
        (run,) = _edgebench_json(model, "run", variants, flags, work)["runs"]
        by_round.append({})
        for row in run.get("rows", []):
            cells.setdefault(row["variant"], row)
            contended[row["variant"]] = contended.get(row["variant"], 0) + bool(row.get("contended"))
            if row["p50_ms"] is not None:
                by_round[-1][row["variant"]] = row["p50_ms"]
    results = []
    for record in manifest.variants:
        cell = cells.get(record.name, {})
        device_top1 = cell.get("top1")
        timings = [p50s[record.name] for p50s in by_round if record.name in p50s]
        results.append(
            Result(
                variant=record.name,
                status=str(cell.get("status", record.status)),
                top1=device_top1 if device_top1 is not None else record.host_top1,
                top1_from="device" if device_top1 is not None else "host",
                p50_ms=statistics.median(timings) if timings else None,
                size_bytes=record.size_bytes,
                gzip_bytes=record.gzip_bytes,
                contended=contended.get(record.name, 0),
                round_p50s=tuple(p50s.get(record.name) for p50s in by_round),
            )
        )
    return results


def baseline(results: Sequence[Result]) -> Result:
    return next(r for r in results if r.variant == BASELINE)


def delta_points(result: Result, base: Result) -> float | None:
    """Top-1 against fp32's, in points (negative: worse)."""
    if result.top1 is None or base.top1 is None:
        return None
    return 100.0 * (result.top1 - base.top1)


def within(result: Result, base: Result, max_drop: float) -> bool:
    delta = delta_points(result, base)
    return delta is not None and -delta <= max_drop


def p50_ratio(result: Result, base: Result) -> float | None:
    """Variant p50 / fp32 p50: the median over the rounds of that ratio within each round (or of the p50s
    themselves when no round is known)."""
    pairs = [v / b for v, b in zip(result.round_p50s, base.round_p50s, strict=False) if v is not None and b]
    if pairs:
        return statistics.median(pairs)
    if result.p50_ms is None or not base.p50_ms:
        return None
    return result.p50_ms / base.p50_ms


def reduction(result: Result, base: Result) -> float | None:
    """fp32's gzip bytes / the variant's: how many times smaller its download is."""
    if not result.gzip_bytes or base.gzip_bytes is None:
        return None
    return base.gzip_bytes / result.gzip_bytes


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def table(title: str, results: Sequence[Result]) -> list[str]:
    """The seed-style Markdown table, with a caption saying where each top-1 comes from."""
    base = baseline(results)
    sources = sorted({r.top1_from for r in results if r.top1 is not None})
    contended = sum(r.contended for r in results)
    lines = [f"**{title}** — top-1 from the {' and '.join(sources)} results; p50 under XNNPACK, 1 thread"]
    lines[0] += f"; {contended} cells measured while other processes were busy (edgebench's noise guard)"
    lines.append("")
    lines += ["| variant | status | top-1 % | Δ pts | p50 ms | speed-up | bytes | gzip bytes | reduction |"]
    lines += ["|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        ratio = p50_ratio(r, base)
        cells = [
            r.variant,
            r.status,
            _fmt(None if r.top1 is None else 100.0 * r.top1, ".1f"),
            _fmt(delta_points(r, base), "+.1f"),
            _fmt(r.p50_ms, ".4f"),
            _fmt(None if ratio is None else 1.0 / ratio, ".2f", "×"),
            _fmt(r.size_bytes, ","),
            _fmt(r.gzip_bytes, ","),
            _fmt(reduction(r, base), ".2f", "×"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def int8_check(results: Sequence[Result]) -> Check:
    """The int8 variant with the smallest download among those within INT8_MAX_DROP points of fp32."""
    base = baseline(results)
    target = f"best int8 variant gzip >= {INT8_MIN_REDUCTION:g}x smaller than fp32 at <= {INT8_MAX_DROP:g} pts drop"
    int8 = [r for r in results if r.variant.endswith(INT8_SUFFIX) and reduction(r, base) is not None]
    accurate = [r for r in int8 if within(r, base, INT8_MAX_DROP)]
    if not accurate:
        return Check(target, False, f"no int8 variant within {INT8_MAX_DROP:g} points ({_summary(int8, base)})")
    best = max(accurate, key=lambda r: reduction(r, base) or 0.0)
    factor = reduction(best, base) or 0.0
    return Check(target, factor >= INT8_MIN_REDUCTION, _summary([best], base))


def pruned_check(results: Sequence[Result]) -> Check:
    base = baseline(results)
    target = f"{CHANNEL_PRUNED} p50 <= {PRUNED_MAX_P50_RATIO:g}x fp32's at <= {PRUNED_MAX_DROP:g} pts drop"
    pruned = next((r for r in results if r.variant == CHANNEL_PRUNED), None)
    if pruned is None:
        return Check(target, False, f"no {CHANNEL_PRUNED} variant")
    ratio = p50_ratio(pruned, base)
    passed = within(pruned, base, PRUNED_MAX_DROP) and ratio is not None and ratio <= PRUNED_MAX_P50_RATIO
    return Check(target, passed, _summary([pruned], base))


def mixed_check(results: Sequence[Result]) -> Check:
    """mixed_int8 against int8 on a model int8 hurts: the share of int8's drop it wins back, at what size."""
    target = (
        f"{MIXED} recovers >= {MIXED_MIN_RECOVERY:.0%} of int8's drop (>= {MIXED_MIN_INT8_DROP:g} pts) at "
        f"<= {MIXED_MAX_SIZE_RATIO:g}x int8's size"
    )
    base, by_name = baseline(results), {r.variant: r for r in results}
    int8, mixed = by_name.get(INT8), by_name.get(MIXED)
    if int8 is None or mixed is None:
        return Check(target, False, f"{INT8} or {MIXED} was not measured")
    int8_delta, mixed_delta = delta_points(int8, base), delta_points(mixed, base)
    if int8_delta is None or mixed_delta is None or not int8.size_bytes or mixed.size_bytes is None:
        return Check(target, False, f"no top-1 or size for {INT8} or {MIXED}")
    recovered = (mixed_delta - int8_delta) / -int8_delta if int8_delta < 0 else None
    size = mixed.size_bytes / int8.size_bytes
    latency = p50_ratio(mixed, int8)
    passed = (
        -int8_delta >= MIXED_MIN_INT8_DROP
        and recovered is not None
        and recovered >= MIXED_MIN_RECOVERY
        and size <= MIXED_MAX_SIZE_RATIO
        and latency is not None
    )
    share = _fmt(None if recovered is None else 100 * recovered, ".0f", "%")
    figures = (
        f"{INT8} {int8_delta:+.1f} pts, {MIXED} {mixed_delta:+.1f} pts: {share} of the drop recovered "
        f"at {size:.2f}× {INT8}'s size; p50 {_fmt(latency, '.2f', '×')} {INT8}'s"
    )
    return Check(target, passed, figures)


def _summary(results: Sequence[Result], base: Result) -> str:
    return "; ".join(
        f"{r.variant}: {_fmt(delta_points(r, base), '+.1f')} pts, "
        f"gzip {_fmt(reduction(r, base), '.2f', '×')} smaller, p50 {_fmt(p50_ratio(r, base), '.2f', '×')} fp32's"
        for r in results
    )


def check_lines(checks: Sequence[Check]) -> list[str]:
    return [f"{'PASS' if c.passed else 'FAIL'} {c.target}: {c.figures}" for c in checks]


def trained_model(work: Path) -> Model:
    """The MobileNetV2 trained by scripts/make_bench_model.py into ``work`` (its own process), reused if there."""
    out = work / "mobilenet_v2"
    if not (out / "model.keras").exists():
        env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
        script = ROOT / "scripts" / "make_bench_model.py"
        done = subprocess.run([sys.executable, str(script), str(out)], env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"bench_compression: training failed: {done.stderr.strip()[-2000:]}")
        print(done.stdout.strip().splitlines()[-1], file=sys.stderr)
    return Model("keras.applications MobileNetV2 0.35, digits 32x32 RGB", out / "model.keras", out / "data.npz")


def fragile_model(work: Path) -> Model:
    """tests/support/fragile_model.py's classifier, trained into ``work`` (its own process), reused if there."""
    from edgebench.example import EXAMPLE_DATA

    out = work / "fragile"
    if not (out / "model.keras").exists():
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
        argv = [sys.executable, "-m", "tests.support.fragile_model", str(out)]
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"bench_compression: training failed: {done.stderr.strip()[-2000:]}")
    return Model(
        "digits MLP with one int8-fragile layer (tests/support/fragile_model.py)", out / "model.keras", EXAMPLE_DATA
    )


def example_model() -> Model:
    from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL

    return Model("bundled example (digits_mobilenet)", EXAMPLE_MODEL, EXAMPLE_DATA)


@contextmanager
def workspace(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="bench-compression-") as tmp:
        yield Path(tmp)


def benchmark(models: Sequence[Model], work: Path, rounds: int) -> None:
    """Each model's table and target checks, printed and written into docs/benchmarks.md as one block."""
    sections = []
    for model in models:
        start = time.perf_counter()
        results = measure(model, VARIANTS, [], work / f"bench-{model.model.stem}", rounds)
        elapsed = time.perf_counter() - start
        title = f"{model.name}, default options, p50 the median of {rounds} runs ({elapsed:.0f} s)"
        checks = check_lines([int8_check(results), pruned_check(results)])
        sections.append("\n".join([*table(title, results), "", "```", *checks, "```"]))
    publish("bench_compression", "\n\n".join(sections), packages=PACKAGES)


def benchmark_mixed(work: Path, rounds: int) -> None:
    """Issue 32's goal for mixed_int8: its table, the worst layers the converter found in int8, what mixed_int8
    kept in float, and the check; printed and written into docs/benchmarks.md as its own block."""
    start = time.perf_counter()
    model = fragile_model(work)
    variants, folder = [BASELINE, INT8, MIXED], work / "bench-fragile"
    results = measure(model, variants, MIXED_FLAGS, folder, rounds)
    manifest = read_manifest(Path(_edgebench_json(model, "convert", variants, MIXED_FLAGS, folder)["directory"]))
    elapsed = time.perf_counter() - start
    title = (
        f"{model.name}, `{' '.join(MIXED_FLAGS)}`, p50 the median of {rounds} runs on a machine shared with other "
        f"work ({elapsed:.0f} s with training)"
    )
    found = [f"{v.name}: {line}" for v in manifest.variants for line in [v.layer_error_line(), *v.notes] if line]
    body = [*table(title, results), "", "```", *found, *check_lines([mixed_check(results)]), "```"]
    publish(
        "bench_compression_mixed",
        "\n".join(body),
        packages=[*PACKAGES, "ai-edge-quantizer"],
        script="bench_compression",
    )


@dataclass(frozen=True)
class Setting:
    channel_ratio: float
    epochs: int
    learning_rate: float
    recovery_factor: int
    seed: int

    def flags(self) -> list[str]:
        ratio, lr = f"{self.channel_ratio:g}", f"{self.learning_rate:g}"
        return [
            *("--channel-ratio", ratio, "--epochs", str(self.epochs), "--lr", lr),
            *("--recovery-factor", str(self.recovery_factor), "--seed", str(self.seed)),
        ]


def explore_row(model: Model, setting: Setting, results: Sequence[Result], seconds: float) -> str:
    """One line of the exploration table: both channel-pruned variants against fp32 at one setting."""
    base = baseline(results)
    by_name = {r.variant: r for r in results}
    cells = [model.name.split(",")[0], f"{setting.channel_ratio:g}", str(setting.epochs), f"{setting.learning_rate:g}"]
    cells += [str(setting.recovery_factor), str(setting.seed)]
    for name in (CHANNEL_PRUNED, f"{CHANNEL_PRUNED}_{INT8_SUFFIX}"):
        r = by_name.get(name)
        if r is None:
            cells += ["—", "—", "—"]
            continue
        cells += [
            _fmt(delta_points(r, base), "+.1f"),
            _fmt(p50_ratio(r, base), ".2f", "×"),
            _fmt(reduction(r, base), ".2f", "×"),
        ]
    return "| " + " | ".join([*cells, f"{seconds:.0f}"]) + " |"


def explore(models: Sequence[Model], settings: Sequence[Setting], work: Path, rounds: int) -> None:
    variants = [BASELINE, CHANNEL_PRUNED, f"{CHANNEL_PRUNED}_{INT8_SUFFIX}"]
    columns = ["model", "ratio", "epochs", "lr", "recovery ×", "seed"]
    columns += [f"{name} {figure}" for name in ("cp", "cp_int8") for figure in ("Δ pts", "p50", "gzip red.")]
    lines = ["| " + " | ".join([*columns, "s"]) + " |", "|---" + "|---:" * len(columns) + "|"]
    print("\n".join(lines))
    for model, setting in itertools.product(models, settings):
        start = time.perf_counter()
        # One workdir per model: fp32 is made once and reused by the settings that follow.
        results = measure(model, variants, setting.flags(), work / f"explore-{model.model.stem}", rounds)
        lines.append(explore_row(model, setting, results, time.perf_counter() - start))
        print(lines[-1], flush=True)
    note = (
        f"Δ pts: top-1 against fp32's in points ({'the host' if rounds == 0 else 'the device'}'s); p50 and "
        f"gzip reduction as ratios to fp32 ({rounds} round(s) of `edgebench run` on `local`, XNNPACK, 1 thread; "
        "— without); s: the setting's wall time. The structural variants fine-tune for recovery × --epochs."
    )
    publish("bench_compression_explore", "\n".join([*lines, "", note]), packages=PACKAGES, script="bench_compression")


def _floats(value: str) -> list[float]:
    return [float(v) for v in value.split(",")]


def _ints(value: str) -> list[int]:
    return [int(v) for v in value.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, help="keep the trained model and the runs here (default: a temp dir)")
    parser.add_argument("--explore", action="store_true", help="sweep the channel-pruned variants' options")
    parser.add_argument("--ratios", type=_floats, default=[0.5, 0.6, 0.7])
    parser.add_argument("--epochs", type=_ints, default=[3, 9])
    parser.add_argument("--lrs", type=_floats, default=[1e-4])
    parser.add_argument("--recovery", type=_ints, default=[20], help="--recovery-factor values")
    parser.add_argument("--seeds", type=_ints, default=[0], help="--seed values: the spread fine-tuning leaves")
    parser.add_argument("--rounds", type=int, default=3, help="edgebench runs per model: p50 is their median")
    parser.add_argument(
        "--only", choices=["example", "mobilenet", "mixed"], help="measure one of the two models, or mixed_int8's goal"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    with workspace(args.work) as work:
        models = []
        if args.only in (None, "example"):
            models.append(example_model())
        if args.only in (None, "mobilenet"):
            models.append(trained_model(work))
        if args.only == "mixed":
            benchmark_mixed(work, args.rounds)
        elif args.explore:
            grid = itertools.product(args.ratios, args.epochs, args.lrs, args.recovery, args.seeds)
            explore(models, [Setting(*values) for values in grid], work, args.rounds)
        else:
            benchmark(models, work, args.rounds)
    print(f"\nbench_compression: {time.perf_counter() - start:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
