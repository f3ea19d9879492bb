#!/usr/bin/env python3
"""Stands in for LiteRT's prebuilt `benchmark_model` on the fake phone (no arm64 binary can run here).

It takes the real flags edgebench passes, really times the model with ai_edge_litert, and prints
what the real tool prints, in the output generation named by $BENCHMARK_OUTPUT_GENERATION:
"current" (count/p5/median/p95 + "Inference timings"), "older" (count/avg/std) or "oldest"
("Average inference timings"). Like the real tool, it goes on without a delegate it cannot create
(NNAPI and GPU here), saying so; loads an --external_delegate_path library with its --external_delegate_options
(key:value pairs joined by ';'), as the tool's external delegate provider does; and writes the last inference's
raw outputs (every output, in order) to --output_filepath. With --enable_op_profiling=true it prints the tool's
run-order table in that generation's layout, one row per node of the execution plan (each plain-kernel op,
each delegate partition), named as the tool names them. It cannot time single ops (the Python API has no
profiler): each row is the measured invoke split evenly over the rows. Test data, not a measurement.
"""

from __future__ import annotations

import os
import resource
import sys
import time

import numpy as np
from ai_edge_litert import interpreter as litert

from device_runner.coverage import coverage_from_ops, placement_from_ops

flags = dict(arg.removeprefix("--").split("=", 1) for arg in sys.argv[1:] if arg.startswith("--"))
generation = os.environ.get("BENCHMARK_OUTPUT_GENERATION", "current")


def say(line: str) -> None:
    print(f"INFO: {line}", flush=True)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


start_rss = maxrss_mb()
say(f"The input model file size (MB): {os.path.getsize(flags['graph']) / 1e6:.6f}")
kwargs: dict[str, object] = {"model_path": flags["graph"], "num_threads": int(flags.get("num_threads", "1"))}
if flags.get("use_xnnpack") == "false" or flags.get("use_nnapi") == "true" or flags.get("use_gpu") == "true":
    kwargs["experimental_op_resolver_type"] = litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
delegate_name = "TfLiteXNNPackDelegate"
if "external_delegate_path" in flags:
    options = dict(pair.split(":", 1) for pair in filter(None, flags.get("external_delegate_options", "").split(";")))
    kwargs["experimental_delegates"] = [litert.load_delegate(flags["external_delegate_path"], options)]
    kwargs["experimental_op_resolver_type"] = litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    say("EXTERNAL delegate created.")
    delegate_name = "external delegate"  # the library's own name: the Python API does not say it
if flags.get("use_gpu") == "true":
    say("GPU acceleration is unsupported on this platform.")
if flags.get("use_nnapi") == "true":
    say("NNAPI acceleration is unsupported on this platform.")
t0 = time.perf_counter()
interpreter = litert.Interpreter(**kwargs)
# The tool resizes the inputs named by --input_layer to --input_layer_shape (sizes joined by ',', one shape per
# input joined by ':') before it allocates.
shapes = [[int(d) for d in shape.split(",")] for shape in filter(None, flags.get("input_layer_shape", "").split(":"))]
for detail, shape in zip(interpreter.get_input_details(), shapes, strict=False):  # none without the flag
    interpreter.resize_tensor_input(detail["index"], shape, strict=True)
interpreter.allocate_tensors()
init_us = (time.perf_counter() - t0) * 1e6
coverage = coverage_from_ops(interpreter._get_ops_details())
partitions = sum(op["op_name"] == "DELEGATE" for op in interpreter._get_ops_details())
if coverage.delegated_nodes:
    say(
        f"Replacing {coverage.delegated_nodes} out of {coverage.total_nodes} node(s) with delegate "
        f"({delegate_name}) node, yielding {partitions} partitions for the whole graph."
    )
say(f"Initialized session in {init_us / 1000:.3f}ms.")
files = {}  # the tool's syntax: name:file pairs joined by ',', a ':' inside a name written '::'
for pair in filter(None, flags.get("input_layer_value_files", "").split(",")):
    name, path = pair.replace("::", "\0").rsplit(":", 1)
    files[name.replace("\0", ":")] = path
for detail in interpreter.get_input_details():
    if detail["name"] in files:
        data = np.fromfile(files[detail["name"]], dtype=detail["dtype"]).reshape(detail["shape"])
    else:
        data = np.zeros(detail["shape"], dtype=detail["dtype"])
    interpreter.set_tensor(detail["index"], data)
init_rss = maxrss_mb()


def timed(count: int, min_s: float) -> list[float]:
    samples: list[float] = []
    begin = time.perf_counter()
    while len(samples) < count or (time.perf_counter() - begin) < min_s:
        t = time.perf_counter()
        interpreter.invoke()
        samples.append((time.perf_counter() - t) * 1e6)
    return samples


def stats_line(samples: list[float]) -> str:
    a = np.asarray(samples)
    line = f"count={len(a)} first={a[0]:.0f} curr={a[-1]:.0f} min={a.min():.0f} max={a.max():.0f} "
    line += f"avg={a.mean():.3f} std={a.std():.0f}"
    if generation == "current":
        line += f" p5={np.percentile(a, 5):.0f} median={np.median(a):.0f} p95={np.percentile(a, 95):.0f}"
    return line


warm = timed(int(flags.get("warmup_runs", "1")), float(flags.get("warmup_min_secs", "0.5")))
runs = timed(int(flags.get("num_runs", "50")), float(flags.get("min_secs", "1")))
for label, samples in (("warm-up", warm), ("timed", runs)):
    if generation != "oldest" and samples:
        say(f"Running benchmark for at least {len(samples)} iterations ({label})")
        say(stats_line(samples))
if generation == "current":
    say(
        f"Inference timings in us: Init: {init_us:.0f}, First inference: {warm[0] if warm else runs[0]:.0f}, "
        f"Warmup (avg): {np.mean(warm) if warm else 0:.3f}, Inference (avg): {np.mean(runs):.3f}"
    )
    say(
        f"Memory footprint delta from the start of the tool (MB): init={init_rss - start_rss:.4f} "
        f"overall={maxrss_mb() - start_rss:.4f}"
    )
    if flags.get("report_peak_memory_footprint") == "true":
        say(f"Overall peak memory footprint (MB) via periodic monitoring: {maxrss_mb():.4f}")
elif generation == "older":
    say(
        f"Inference timings in us: Init: {init_us:.0f}, First inference: {warm[0] if warm else runs[0]:.0f}, "
        f"Warmup (avg): {np.mean(warm) if warm else 0:.3f}, Inference (avg): {np.mean(runs):.3f}"
    )
else:
    say(
        f"Average inference timings in us: Warmup: {np.mean(warm) if warm else 0:.3f}, Init: {init_us:.0f}, "
        f"no stats: {np.mean(runs):.3f}"
    )


def profile_rows() -> list[tuple[str, str]]:
    """(node type, name) per node of the execution plan, in run order: a partition runs where its first node was."""
    ops = interpreter._get_ops_details()
    names = {d["index"]: d["name"] for d in interpreter.get_tensor_details()}
    placement = placement_from_ops(ops)
    delegates = [op for op in ops if op["op_name"] == "DELEGATE"]
    at: list[tuple[int, dict[str, object]]] = []
    for index, partition in enumerate(placement.node_partition):
        if partition < 0:
            at.append((index, ops[index]))
        elif index == placement.node_partition.index(partition):
            at.append((index, delegates[partition]))
    rows = []
    for _, op in sorted(at, key=lambda pair: pair[0]):
        outputs = ", ".join(names.get(int(t), "Unknown") for t in op["outputs"])  # type: ignore[attr-defined]
        kind = str(op["op_name"])
        if kind == "DELEGATE" and generation != "oldest":
            kind = "TfLiteXNNPackDelegate"
        rows.append((kind, f"[{outputs}]" if generation == "oldest" else f"[{outputs}]:{op['index']}"))
    return rows


def print_profile(samples: list[float]) -> None:
    rows = profile_rows()
    each_ms = float(np.mean(samples)) / 1000 / len(rows)
    share = 100.0 / len(rows)
    start = generation != "current"  # the [start] column went in TF 2.5
    columns = ["[node type]", *(["[start]"] if start else []), "[first]", "[avg ms]", "[%]", "[cdf%]", "[mem KB]"]
    lines = ["Operator-wise Profiling Info for Regular Benchmark Runs:"] if generation != "oldest" else []
    lines += [
        "============================== Run Order ==============================",
        "\t".join(["", *columns, "[times called]", "[Name]"]),
    ]
    for k, (kind, name) in enumerate(rows):
        cells = [kind, *([f"{k * each_ms:.3f}"] if start else []), f"{each_ms:.3f}", f"{each_ms:.3f}"]
        cells += [f"{share:.3f}%", f"{(k + 1) * share:.3f}%", "0.000", "1", name]
        lines.append("\t".join(["", *cells]))
    print("\n".join(lines) + "\n", flush=True)  # one log call, as the tool's: only the first line is prefixed


if flags.get("enable_op_profiling") == "true":
    print_profile(runs)
if "output_filepath" in flags:  # every output, one after another, as the tool writes them
    with open(flags["output_filepath"], "wb") as handle:
        for out in interpreter.get_output_details():
            handle.write(interpreter.get_tensor(out["index"]).tobytes())
