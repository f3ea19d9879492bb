"""Does the gate catch a real 1-point accuracy drop, and stay quiet when accuracy did not change?

Real models, measured by the real runner, in one run:
  worse  - copies of the bundled example's fp32 model with Gaussian noise added to every float weight
           tensor, the noise scale calibrated per seed until top-1 on the evaluation set is 0.75–1.25
           points below the original's (a real, ~1-point worse model)
  same   - copies with noise small enough that top-1 moves by at most 0.25 points: different
           models, no real accuracy change (what a harmless re-conversion looks like)
The evaluation set is all 1,797 digits images (the example's train and validation splits): a
1-point drop is then ~18 inputs. Each model is measured by device_runner (XNNPACK, 1 thread) on
that set, and the gate's paired test (exact McNemar on per-sample correctness, alpha 0.005, floor
0.5 points) compares it with the original, as `edgebench gate` does. Prints a Markdown table and
writes it into docs/benchmarks.md (scripts/doc_tables.py).

    .venv/bin/python scripts/bench_gate_accuracy.py [--models 20]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter
from doc_tables import publish

import edgebench_records as schema
from device_runner.flatbuffer import constant_tensors
from device_runner.sweep import run_plan
from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.gate import stats
from edgebench_records import Measurement, Plan, PlanVariant, sha256_file

ROOT = Path(__file__).resolve().parent.parent
ALPHA, FLOOR_POINTS = 0.005, 0.5
MEASURE = Measurement(delegates=["xnnpack"], runs=5, min_s=0.0, warmup_min_s=0.0)


def evaluation_set() -> tuple[np.ndarray, np.ndarray]:
    data = np.load(EXAMPLE_DATA)
    return np.concatenate([data["x_train"], data["x_val"]]), np.concatenate([data["y_train"], data["y_val"]])


def perturbed(model: bytes, scale: float, seed: int) -> bytes:
    """Every float32 weight tensor plus N(0, (scale x its own SD)^2) noise, written in place."""
    rng = np.random.default_rng(seed)
    out = bytearray(model)
    for tensor in constant_tensors(model):
        if tensor.dtype != "float32" or tensor.sparse or len(tensor.data) < 64:
            continue
        at = model.find(tensor.data)
        values = np.frombuffer(tensor.data, dtype=np.float32)
        noisy = values + rng.normal(0.0, scale * float(values.std()), values.shape).astype(np.float32)
        out[at : at + len(tensor.data)] = noisy.tobytes()
    return bytes(out)


def top1(model: bytes, x: np.ndarray, y: np.ndarray) -> float:
    interpreter = Interpreter(model_content=model)
    interpreter.allocate_tensors()
    src, dst = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]
    right = 0
    for sample, label in zip(x, y, strict=True):
        interpreter.set_tensor(src, sample[None].astype(np.float32))
        interpreter.invoke()
        right += int(interpreter.get_tensor(dst).argmax() == label)
    return 100 * right / len(y)


def calibrate(model: bytes, base: float, x: np.ndarray, y: np.ndarray, seed: int, low: float, high: float) -> bytes:
    """Bisect the noise scale until this seed's model loses between ``low`` and ``high`` points."""
    lo, hi = 0.0, 1.0
    for _ in range(14):
        scale = (lo + hi) / 2
        candidate = perturbed(model, scale, seed)
        drop = base - top1(candidate, x, y)
        if low <= drop <= high:
            return candidate
        lo, hi = (scale, hi) if drop < low else (lo, scale)
    raise RuntimeError(f"seed {seed}: no noise scale gives a {low}-{high} point drop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=20, help="models of each kind")
    args = parser.parse_args()
    _, directory = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32"], ROOT / ".edgebench")
    original = (directory / "fp32.tflite").read_bytes()
    x, y = evaluation_set()
    base = top1(original, x, y)
    worse = [calibrate(original, base, x, y, seed, 0.75, 1.25) for seed in range(args.models)]
    same = [calibrate(original, base, x, y, 1000 + seed, -0.25, 0.25) for seed in range(args.models)]
    true_drops = {"worse": [base - top1(m, x, y) for m in worse], "same": [base - top1(m, x, y) for m in same]}

    with tempfile.TemporaryDirectory() as tmp:
        plan_dir = Path(tmp) / "plan"
        plan_dir.mkdir()
        reference = np.zeros((len(y), 10), dtype=np.float32)  # agreement is not what is measured here
        np.savez(plan_dir / "inputs.npz", x=x, y=y, ref=reference)
        models = {"original": original} | {f"worse{i}": m for i, m in enumerate(worse)}
        models |= {f"same{i}": m for i, m in enumerate(same)}
        for name, content in models.items():
            (plan_dir / f"{name}.tflite").write_bytes(content)
        plan = Plan(
            run_id="bench-accuracy",
            model_name="digits",
            input_set="inputs.npz",
            measure=MEASURE,
            variants=[PlanVariant(n, f"{n}.tflite", sha256_file(plan_dir / f"{n}.tflite")) for n in models],
        )
        schema.write(plan_dir / "plan.json", plan)
        cells = {cell.variant: cell for cell in run_plan(plan_dir / "plan.json", Path(tmp) / "results")}

    def verdicts(prefix: str) -> list[stats.Finding]:
        a = cells["original"].accuracy
        assert a is not None
        found = []
        for name, cell in cells.items():
            if name.startswith(prefix):
                assert cell.accuracy is not None
                found.append(
                    stats.paired_accuracy(np.asarray(a.correct), np.asarray(cell.accuracy.correct), ALPHA, FLOOR_POINTS)
                )
        return found

    lines = [
        f"bundled example fp32 (top-1 {base:.2f} % on {len(y)} digits), XNNPACK, 1 thread; exact McNemar, "
        f"alpha {ALPHA}, floor {FLOOR_POINTS} pts",
        "",
        "| models | true top-1 change, pts (min–max) | regression | inconclusive | pass |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in ("worse", "same"):
        found = [f.verdict for f in verdicts(kind)]
        drops = true_drops[kind]
        lines.append(
            f"| {len(found)} {'~1 pt worse' if kind == 'worse' else 'unchanged (±0.25 pt)'} | "
            f"{-max(drops):+.2f} – {-min(drops):+.2f} | {found.count(stats.Outcome.REGRESSION)} | "
            f"{found.count(stats.Outcome.INCONCLUSIVE)} | "
            f"{found.count(stats.Outcome.PASS) + found.count(stats.Outcome.IMPROVEMENT)} |"
        )
    publish("bench_gate_accuracy", "\n".join(lines), packages=["ai-edge-litert", "numpy", "tensorflow"])


if __name__ == "__main__":
    main()
