"""Culprit search (issue 32): is the op it names the one that broke the cell? Prints a Markdown table and writes
it into docs/benchmarks.md (scripts/doc_tables.py).

Each real model of scripts/fetch_test_models.py is run, on seeded synthetic inputs, through
tests/data/one_op_delegate.c once per op type it can corrupt in that model (ADD, MUL, SUB: it computes the op
right and flips the sign of its output), with --find-culprits: on the local runner, and on the benchmark_model
runner of a fake phone over ADB (tests/support/fake_adb.py, the binary's stand-in tests/data/
benchmark_model_standin.py), whose probe runs one call per sample on the phone and its reference half on the
host. A cell is named right when its culprit is the first node the delegate corrupts, in execution order
(tests/support/one_op.py). Goal: named right in >= 95 % of the cells that are wrong_output. The table also gives
what a cell costs with the search and without it.

    .venv/bin/python scripts/bench_culprit.py [--samples 4]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from doc_tables import publish
from fetch_test_models import MODELS

from device_runner import accuracy
from device_runner.engines import Incompatible, InterpreterEngine, fed_shapes
from device_runner.flatbuffer import read_model_file
from device_runner.inputs import InputSet, synthetic_inputs
from device_runner.runtime import load_runtime
from device_runner.sweep import run_plan
from edgebench.cli import invoke
from edgebench.store import Store, store_url
from edgebench_records import CellResult, Measurement, Status
from tests.support import one_op
from tests.support.fake_adb import FakePhone
from tests.support.model_plans import stage
from tests.support.real_models import real_model

DYNAMIC_SIZE = 1600  # 0.1 s of 16 kHz audio: melspectrogram's clip
QUICK = Measurement(runs=5, min_s=0.0, warmup_runs=1, warmup_min_s=0.0, cell_timeout_s=300.0)
STANDIN = Path(__file__).resolve().parent.parent / "tests" / "data" / "benchmark_model_standin.py"
LOCAL, PHONE = "local", "benchmark_model"


@dataclasses.dataclass(frozen=True)
class Cell:
    runner: str
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


def synthetic(model: Path, n: int) -> InputSet:
    """Seeded synthetic inputs; a dynamic axis past the batch (an audio clip's length) at ``DYNAMIC_SIZE``."""
    tensors = read_model_file(model).inputs
    shapes = {
        t.name: (1, *(DYNAMIC_SIZE if d < 0 else d for d in t.shape_signature[1:]))
        for t in tensors
        if any(d < 0 for d in t.shape_signature[1:])
    }
    return InputSet(synthetic_inputs(tensors, n, seed=0, shapes=shapes), None, None, synthetic=True)


def reference(model: Path, inputs: InputSet) -> list[np.ndarray]:
    """The model on the host's reference kernels, allocated for the inputs' shapes (a dynamic model's
    placeholder shape may be one no kernel prepares)."""
    info = read_model_file(model)
    engine = InterpreterEngine(load_runtime(), model, info, "cpu", 1, fed_shapes(info, inputs.sample(0)))
    return accuracy.predict(engine, inputs.inputs)


def measure(tmp: Path, model: Path, library: Path, op: str, samples: int, search: bool) -> tuple[CellResult, float]:
    folder = tmp / f"{model.stem}-{op}-{search}"
    folder.mkdir()
    inputs = synthetic(model, samples)
    settings = dataclasses.replace(QUICK, delegates=[one_op.delegate(library, op)], find_culprits=search)
    plan = stage(folder, model, inputs, reference(model, inputs), settings)
    start = time.perf_counter()
    (result,) = run_plan(plan, folder / "results")
    return result, time.perf_counter() - start


class Phone:
    """A fake phone over ADB whose runner is benchmark_model's stand-in, and `edgebench push` to it."""

    def __init__(self, tmp: Path, samples: int) -> None:
        self.tmp, self.samples = tmp, samples
        self.fake = FakePhone(tmp / "phone").start()  # asks for no AUTH: any key will do
        self.inventory = tmp / "phone.toml"
        entry: dict[str, object] = {
            "kind": "adb",
            "serial": self.fake.serial,
            "transport": "direct",
            "key": str(tmp / "adbkey"),  # made on first use
            "runner": "benchmark_model",
            "benchmark_model": str(STANDIN),
            "accuracy_samples": samples,
        }
        self.inventory.write_text("[devices.phone]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in entry.items()))

    def measure(self, model: Path, library: Path, op: str, search: bool) -> tuple[CellResult, float]:
        store = self.tmp / "history.sqlite"
        argv = ["push", "--device", "phone", "--inventory", str(self.inventory), "--workdir", str(self.tmp / "work")]
        argv += ["--store", str(store), "--model", str(model), "--variants", "fp32", "--json"]
        argv += ["--delegates", one_op.delegate(library, op), "--synthetic-samples", str(self.samples)]
        argv += ["--runs", "5", "--min-secs", "0", "--warmup-secs", "0", *(["--find-culprits"] if search else [])]
        out, err = io.StringIO(), io.StringIO()  # the run's JSON; its progress lines, shown only if it fails
        start = time.perf_counter()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = invoke(argv)
        seconds = time.perf_counter() - start
        if not out.getvalue().strip():
            raise SystemExit(f"bench_culprit: the push of {model.name} to the fake phone failed (exit {code}): {err}")
        (run,) = json.loads(out.getvalue())["runs"]
        with Store(store_url(str(store))) as history:
            (result,) = history.load_run(run["run_id"]).cells
        return result, seconds

    def stop(self) -> None:
        self.fake.stop()


def cells(tmp: Path, library: Path, samples: int, phone: Phone) -> list[Cell]:
    found = []
    for name in sorted(MODELS):
        path = real_model(name)
        try:
            reference(path, synthetic(path, 1))
        except (Incompatible, RuntimeError) as exc:  # no reference kernels for it here: nothing to corrupt against
            print(f"{name}: skipped, {exc}", flush=True)
            continue
        for op in one_op.OPS:
            expected = one_op.first_corrupted(path, op)
            if expected is None:
                continue
            result, seconds = measure(tmp, path, library, op, samples, search=True)
            _, plain = measure(tmp, path, library, op, samples, search=False)
            found.append(say(Cell(LOCAL, name, op, expected, result, seconds, plain)))
            if any(d < 0 for t in read_model_file(path).inputs for d in t.shape_signature[1:]):
                continue  # benchmark_model's output file does not say a dynamic output's shape: nothing checked
            result, seconds = phone.measure(path, library, op, search=True)
            _, plain = phone.measure(path, library, op, search=False)
            found.append(say(Cell(PHONE, name, op, expected, result, seconds, plain)))
    return found


def say(cell: Cell) -> Cell:
    line = cell.result.culprit.line if cell.result.culprit else ""
    print(f"{cell.runner} {cell.model} {cell.op}: {cell.result.status}; {line}", flush=True)
    return cell


def table(found: list[Cell]) -> str:
    lines = [
        "| runner | model | op corrupted | first corrupted node | status | culprit named | drift | s with search / "
        "without |",
        "|---|---|---|---:|---|---|---:|---:|",
    ]
    for c in sorted(found, key=lambda c: (c.runner != LOCAL, c.model, c.op)):
        culprit = c.result.culprit.found if c.result.culprit else None
        named = f"{culprit.index} {culprit.op}" if culprit else "none"
        drift = f"{culprit.drift:.3g}" if culprit else "—"
        mark = " ✓" if c.named_right else ""
        lines.append(
            f"| {c.runner} | {c.model} | {c.op} | {c.expected} | {c.result.status} | {named}{mark} | {drift} | "
            f"{c.seconds:.1f} / {c.plain_seconds:.1f} |"
        )
    lines += [
        "",
        f"Seconds: on {LOCAL}, the cell's own process; on {PHONE}, the whole `push` to the fake phone, whose stand-in "
        "starts Python and LiteRT on every call (one per accuracy and per probe sample): its share of the search is "
        "that start-up, which the real binary does not pay.",
    ]
    for runner in (LOCAL, PHONE):
        lines += ["", *summary(runner, [c for c in found if c.runner == runner])]
    return "\n".join(lines)


def summary(runner: str, found: list[Cell]) -> list[str]:
    wrong = [c for c in found if c.result.status == Status.WRONG_OUTPUT]
    others = [c for c in found if c not in wrong]
    right = [c for c in wrong if c.named_right]
    share = f"{len(right) / len(wrong):.0%}" if wrong else "—"
    return [
        f"{runner}: culprit named right in **{share} of {len(wrong)} wrong_output cells** (goal ≥ 95 %); "
        f"{len(others)} of the {len(found)} corrupted cells were not wrong_output, so nothing was searched"
        + (":" if others else "."),
        *([""] if others else []),
        # the runtime's reason, after the delegate's library path (a temporary folder)
        *(f"- {c.model} {c.op}: {c.result.status}: {c.result.message.split(': ', 1)[-1]}" for c in others),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=4, help="synthetic inputs per cell")
    args = parser.parse_args()
    gcc = shutil.which("gcc")
    if gcc is None:
        raise SystemExit("bench_culprit: gcc not found (apt-get install gcc)")
    with tempfile.TemporaryDirectory() as tmp:
        library = one_op.build(gcc, Path(tmp))
        phone = Phone(Path(tmp), args.samples)
        try:
            found = cells(Path(tmp), library, args.samples, phone)
        finally:
            phone.stop()
    publish("bench_culprit", table(found), packages=["ai-edge-litert", "numpy"])


if __name__ == "__main__":
    main()
