"""Where does one process's p50 differ from the next's? The same .tflite timed in fresh processes under
conditions that each change one thing a process does not choose by itself:

  unpinned          - as a cell runs by default: the scheduler places it (the core it ended on is recorded)
  CPU 0 / CPU 1     - pinned to one core (sched_setaffinity, what --cpus does)
  ASLR off          - address-space randomisation off (setarch -R): the same virtual layout every time
  2 threads         - XNNPACK's thread pool at 2 threads

Each process loads the model into INTERPRETERS fresh interpreters one after the other and times each for
SECONDS: spread *between interpreters of one process* is what changes within a process (each interpreter's
memory lies elsewhere, and it runs later), spread *between processes* beyond it is what a new process brings
(scripts/bench_timeline.py follows one process over time). The
conditions take turns (one process each, round after round), so a drift over the run hits all alike. CPU MHz
is read from /proc/cpuinfo before and after each process. Writes its table into docs/measuring.md.

    .venv/bin/python scripts/bench_variance.py                 # 6 processes per condition and model (minutes)
    .venv/bin/python scripts/bench_variance.py --processes 3   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from doc_tables import DOCS, write_block

from edgebench.conversion import convert
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL

ROOT = Path(__file__).resolve().parent.parent
REAL_MODEL = ROOT / "tests" / ".models" / "face_landmark.tflite"  # scripts/fetch_test_models.py
INTERPRETERS = 3
SECONDS = 0.4

CHILD = """
import json, os, sys, time
import numpy as np
from ai_edge_litert.interpreter import Interpreter

path, threads, count, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
p50s = []
for _ in range(count):
    interpreter = Interpreter(model_path=path, num_threads=threads)
    interpreter.allocate_tensors()
    for d in interpreter.get_input_details():
        interpreter.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    for _ in range(20):
        interpreter.invoke()
    samples, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter_ns()
        interpreter.invoke()
        samples.append(time.perf_counter_ns() - start)
    p50s.append(float(np.median(samples)) / 1e6)
    del interpreter
core = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[36])  # field 39: the CPU it last ran on
print(json.dumps({"p50_ms": p50s, "core": core}))
"""


@dataclass(frozen=True)
class Condition:
    name: str
    threads: int = 1
    cpus: tuple[int, ...] = ()
    no_aslr: bool = False


CONDITIONS = [
    Condition("unpinned"),
    Condition("CPU 0", cpus=(0,)),
    Condition("CPU 1", cpus=(1,)),
    Condition("ASLR off", no_aslr=True),
    Condition("2 threads", threads=2),
]


@dataclass(frozen=True)
class Process:
    p50_ms: list[float]  # one per interpreter
    core: int
    mhz: list[float]  # every core's, before and after

    @property
    def p50(self) -> float:
        return float(np.median(self.p50_ms))


def cpu_mhz() -> list[float]:
    text = Path("/proc/cpuinfo").read_text()
    return [float(line.split(":")[1]) for line in text.splitlines() if line.startswith("cpu MHz")]


def measure(model: Path, condition: Condition) -> Process:
    command = [sys.executable, "-c", CHILD, str(model), str(condition.threads), str(INTERPRETERS), str(SECONDS)]
    if condition.no_aslr:
        command = ["setarch", os.uname().machine, "-R", *command]
    before = cpu_mhz()
    cpus = condition.cpus

    def pin() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)

    out = subprocess.run(command, capture_output=True, text=True, check=True, preexec_fn=pin, timeout=300)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return Process(found["p50_ms"], found["core"], before + cpu_mhz())


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def spread(values: list[float]) -> float:
    return max(values) / min(values) - 1


def row(model: str, condition: Condition, processes: list[Process]) -> str:
    p50s = [p.p50 for p in processes]
    within = float(np.median([spread(p.p50_ms) for p in processes]))
    cores = sorted({p.core for p in processes})
    mhz = [m for p in processes for m in p.mhz]
    shown_mhz = f"{min(mhz):.0f}–{max(mhz):.0f}" if mhz else "not read"
    return (
        f"| {model} | {condition.name} | {float(np.median(p50s)):.4f} | {spread(p50s):.1%} | "
        f"{float(np.std(np.log(p50s), ddof=1)):.1%} | {within:.1%} | {','.join(map(str, cores))} | {shown_mhz} |"
    )


def models() -> dict[str, Path]:
    _, directory = convert(EXAMPLE_MODEL, EXAMPLE_DATA, ["fp32"], ROOT / ".edgebench")
    found = {"bundled example fp32": directory / "fp32.tflite"}
    if REAL_MODEL.exists():
        found[f"{REAL_MODEL.stem} (mediapipe)"] = REAL_MODEL
    else:
        print(f"{REAL_MODEL} missing (scripts/fetch_test_models.py): the bundled example alone", file=sys.stderr)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=6, help="fresh processes per condition and model")
    args = parser.parse_args()
    conditions = [c for c in CONDITIONS if not c.no_aslr or shutil.which("setarch")]
    usable = os.sched_getaffinity(0)
    conditions = [c for c in conditions if set(c.cpus) <= usable]
    found: dict[tuple[str, str], list[Process]] = {}
    paths = models()
    load_before = load_average()
    for i in range(args.processes):
        for model, path in paths.items():
            for condition in conditions:  # one process each, round after round: drift hits every condition
                found.setdefault((model, condition.name), []).append(measure(path, condition))
        print(f"  {i + 1}/{args.processes}", end="\r", file=sys.stderr)
    by_name = {c.name: c for c in conditions}
    lines = [
        f"{args.processes} fresh processes per row, each timing {INTERPRETERS} fresh interpreters one after the "
        f"other for {SECONDS:g} s (XNNPACK, zeros as input); conditions took turns. Two cores, 1-minute "
        f"load average {load_before} at the start and {load_average()} at the end (this script's own "
        "processes count one). *Between processes*: max/min − 1 of the processes' p50s, and the "
        "SD of their ln p50; *between interpreters*: the median over processes of max/min − 1 among one "
        "process's interpreters.",
        "",
        "| model | condition | p50 ms (median) | between processes | SD ln p50 | between interpreters of one "
        "process | cores ended on | CPU MHz seen |",
        "|---|---|---:|---:|---:|---:|---|---|",
        *(row(model, by_name[name], processes) for (model, name), processes in found.items()),
    ]
    table = "\n".join(lines)
    print(table)
    write_block(DOCS / "measuring.md", "bench_variance", table, packages=["ai-edge-litert", "numpy"])


if __name__ == "__main__":
    main()
