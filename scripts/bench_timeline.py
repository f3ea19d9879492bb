"""Is a process fast or slow as a whole, or does the machine change under it? One process times fp32 and int8
of the bundled example (XNNPACK, 1 thread) for --seconds in alternating blocks of BLOCK_S each, and keeps
every block's median with the time it ran; a few such processes, one after the other.

Per process: a block is *fast* when its median is within FAST of the variant's quickest blocks (5th
percentile), *slow* otherwise. The table gives the share of fp32's blocks that were fast, how often fp32's
state changed and how long a state lasted, fp32's p50 in each state, how far apart the p50s of the
process's one-second windows lie (what a cell timed for one second would have read), and int8's ratio to
fp32 over neighbouring block pairs in the same state. Writes its table into docs/measuring.md.

    .venv/bin/python scripts/bench_timeline.py                        # 4 processes of 20 s
    .venv/bin/python scripts/bench_timeline.py --processes 2 --seconds 5   # a quick look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from doc_tables import DOCS, write_block

from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL

ROOT = Path(__file__).resolve().parent.parent
BLOCK_S = 0.05  # a cell's block at the defaults (1 s over 20 blocks)
FAST = 1.15
WINDOW_S = 1.0

CHILD = """
import json, sys, time
import numpy as np
from ai_edge_litert.interpreter import Interpreter

paths, seconds, block_s = sys.argv[1].split(","), float(sys.argv[2]), float(sys.argv[3])
interpreters = []
for path in paths:
    interpreter = Interpreter(model_path=path, num_threads=1)
    interpreter.allocate_tensors()
    for d in interpreter.get_input_details():
        interpreter.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    for _ in range(200):
        interpreter.invoke()
    interpreters.append(interpreter)
blocks, began = [], time.perf_counter()
while time.perf_counter() - began < seconds:
    for index, interpreter in enumerate(interpreters):
        at, samples = time.perf_counter(), []
        while time.perf_counter() - at < block_s:
            start = time.perf_counter_ns()
            interpreter.invoke()
            samples.append(time.perf_counter_ns() - start)
        blocks.append([at - began, index, float(np.median(samples)) / 1e6])
print(json.dumps(blocks))
"""


@dataclass(frozen=True)
class Block:
    at_s: float
    variant: int  # 0 fp32, 1 int8
    median_ms: float


def timeline(paths: list[Path], seconds: float) -> list[Block]:
    command = [sys.executable, "-c", CHILD, ",".join(map(str, paths)), str(seconds), str(BLOCK_S)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds * 4 + 120)
    return [Block(*row) for row in json.loads(out.stdout.strip().splitlines()[-1])]


def fast_flags(medians: np.ndarray) -> np.ndarray:
    return np.asarray(medians <= np.percentile(medians, 5) * FAST)


def stretches_s(flags: np.ndarray, times: np.ndarray) -> list[float]:
    """How long each run of one state lasted, in seconds."""
    out, start = [], 0
    for i in range(1, len(flags) + 1):
        if i == len(flags) or flags[i] != flags[start]:
            end = times[i] if i < len(flags) else times[-1] + (times[-1] - times[-2])
            out.append(float(end - times[start]))
            start = i
    return out


def window_spread(blocks: list[Block]) -> float:
    """max/min - 1 of the fp32 p50 over consecutive one-second windows."""
    by_window: dict[int, list[float]] = {}
    for b in blocks:
        if b.variant == 0:
            by_window.setdefault(int(b.at_s // WINDOW_S), []).append(b.median_ms)
    p50s = [float(np.median(v)) for v in by_window.values() if len(v) >= 3]
    return max(p50s) / min(p50s) - 1


def _ratio(pairs: list[tuple[float, float]]) -> str:
    return f"{float(np.median([b / a for a, b in pairs])):.3f} ({len(pairs)})" if pairs else "none"


def row(index: int, blocks: list[Block]) -> str:
    fp32 = [b for b in blocks if b.variant == 0]
    int8 = [b for b in blocks if b.variant == 1]
    a = np.array([b.median_ms for b in fp32])
    flags = fast_flags(a)
    stretches = stretches_s(flags, np.array([b.at_s for b in fp32]))
    seconds = fp32[-1].at_s - fp32[0].at_s
    changes = (len(stretches) - 1) / seconds * 10
    slow = f"{float(np.median(a[~flags])):.4f}" if (~flags).any() else "none"
    b_flags = fast_flags(np.array([b.median_ms for b in int8]))
    pairs = list(zip(a, [b.median_ms for b in int8], flags, b_flags, strict=False))
    same = sum(fa == fb for _, _, fa, fb in pairs) / len(pairs)
    both_fast = [(x, y) for x, y, fa, fb in pairs if fa and fb]
    both_slow = [(x, y) for x, y, fa, fb in pairs if not fa and not fb]
    return (
        f"| {index} | {flags.mean():.0%} | {changes:.1f} | {float(np.median(stretches)):.2f} / {max(stretches):.1f} | "
        f"{float(np.median(a[flags])):.4f} | {slow} | {window_spread(blocks):.0%} | {same:.0%} | "
        f"{_ratio(both_fast)} | {_ratio(both_slow)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="each process's timed seconds")
    args = parser.parse_args()
    _, directory = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32", "int8"], ROOT / ".edgebench")
    paths = [directory / "fp32.tflite", directory / "int8.tflite"]
    load_before = Path("/proc/loadavg").read_text().split()[0]
    rows = []
    for index in range(1, args.processes + 1):
        rows.append(row(index, timeline(paths, args.seconds)))
        print(f"  {index}/{args.processes}", end="\r", file=sys.stderr)
    lines = [
        f"{args.processes} processes one after the other, each timing the bundled example's fp32 and int8 "
        f"(XNNPACK, 1 thread, zeros as input) for {args.seconds:g} s in alternating blocks of {BLOCK_S * 1000:g} ms; "
        f"two cores, 1-minute load average {load_before} at the start and "
        f"{Path('/proc/loadavg').read_text().split()[0]} at the end (this script's process counts one). A block is "
        f"*fast* when its median is within {FAST - 1:.0%} of the variant's 5th-percentile block. *1-s windows*: "
        "max/min − 1 of fp32's p50 over the process's one-second windows. *Same state*: the share of neighbouring "
        "fp32/int8 block pairs whose blocks were both fast or both slow; int8/fp32 is the median ratio of such "
        "pairs' medians (pairs counted).",
        "",
        "| process | fp32 blocks fast | state changes per 10 s | a state lasted, median / longest s | fp32 p50 "
        "fast ms | fp32 p50 slow ms | 1-s windows' p50 spread | same state | int8/fp32, both fast | "
        "int8/fp32, both slow |",
        "|---:|---:|---:|---|---:|---:|---:|---:|---|---|",
        *rows,
    ]
    table = "\n".join(lines)
    print(table)
    write_block(DOCS / "measuring.md", "bench_timeline", table, packages=["ai-edge-litert", "numpy"])


if __name__ == "__main__":
    main()
