"""Which op broke a wrong_output cell: the first, in execution order, whose output drifts past tolerance.

Method (``CulpritMethod.EXPOSED_OUTPUTS``): one probe model, the variant with every op's outputs (ops made from
weights alone aside) added to the main subgraph's outputs (``flatbuffer.with_outputs``, on the device,
standard library only), run under the cell's delegate, API and threads and on LiteRT's reference kernels on
the same inputs; each op's outputs are compared in execution order. One probe instead of a bisection because a
single pair of runs names the op, and an intermediate tensor the delegate must now hand back is the only
change to the graph: where that splits a delegate partition, the probe's delegated node count differs from
the cell's and the result says so.

Two pieces, so that every runner shares one drift implementation: ``make_probe`` (variant bytes -> the probe) and
``verdict`` (the probe's outputs per sample under the delegate and on the reference kernels -> the ``Culprit``).
``search`` runs both halves in this process (local, boards); the app and benchmark_model run the delegated half
on the phone and the host runs the reference half (``on_reference_kernels``), as it made the cell's own
reference.

Drift of one tensor: the RMS of (delegate - reference) over the reference's standard deviation, pooled over
the probed samples; a tensor that is constant on the reference is measured against its RMS instead, and one
that is zero throughout drifts ``DRIFT_CAP`` at any change. The tolerance is the numerics check's own figure
(``accuracy.diverges_past``): drift is the check's RMS error against the spread, so one figure decides
"diverges" for a cell's outputs and for each op's (5 % of the spread for a float variant, 50 % for one that
computes in integers, by default).
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device_runner import accuracy
from device_runner.engines import Engine, fed_shapes, open_engine
from device_runner.flatbuffer import Graph, ModelFormatError, ModelInfo, read_graph, read_model_info, with_outputs
from device_runner.inputs import InputSet
from device_runner.precision import Precision
from device_runner.runtime import Runtime
from edgebench_records import DRIFT_CAP, CellKey, CellResult, Coverage, Culprit, CulpritMethod, Measurement, OpDrift

PROBE_SAMPLES = 8  # inputs the probes run on: enough to pool a tensor's spread, cheap beside the timed loop
NEXT_OPS = 3  # ops reported after the culprit, to show the error carrying on (or dying out)
UNCOMPARABLE = ("string", "unknown")  # dtypes an output cannot be compared in
METHOD = CulpritMethod.EXPOSED_OUTPUTS.value


def tolerance(model: Precision, m: Measurement) -> float:
    """The drift an op's output may have: what the numerics check allows a cell's outputs, for the variant's
    arithmetic."""
    return accuracy.diverges_past(model.integer_arithmetic, m)


@dataclass
class TensorDrift:
    """One tensor's drift, pooled over samples as they arrive (nothing kept but the sums)."""

    squared_error: float = 0.0
    total: float = 0.0
    squares: float = 0.0
    count: int = 0
    broken: bool = False  # a non-finite value, or a shape unlike the reference's

    def add(self, got: np.ndarray, want: np.ndarray) -> None:
        if got.shape != want.shape or not bool(np.isfinite(got).all()):
            self.broken = True
            return
        a, b = got.astype(np.float64).ravel(), want.astype(np.float64).ravel()
        self.squared_error += float(((a - b) ** 2).sum())
        self.total += float(b.sum())
        self.squares += float((b**2).sum())
        self.count += b.size

    @property
    def drift(self) -> float:
        if self.broken:
            return DRIFT_CAP
        if self.count == 0:
            return 0.0
        mean_square = self.squares / self.count
        variance = max(0.0, mean_square - (self.total / self.count) ** 2)
        scale = math.sqrt(variance) or math.sqrt(mean_square)
        error = math.sqrt(self.squared_error / self.count)
        if scale == 0.0:
            return 0.0 if error == 0.0 else DRIFT_CAP
        return min(DRIFT_CAP, error / scale)


def drift(got: np.ndarray, want: np.ndarray) -> float:
    """One tensor's drift on one sample (or one stack of samples)."""
    one = TensorDrift()
    one.add(got, want)
    return one.drift


def op_drifts(graph: Graph, tensor_drift: dict[int, float]) -> list[OpDrift]:
    """Per op in execution order, the drift of its worst compared output; ops with none compared are left out."""
    found = []
    for index, node in enumerate(graph.nodes):
        compared = [(tensor_drift[t], t) for t in node.output_ids if t in tensor_drift]
        if compared:
            worst, tensor = max(compared)
            found.append(OpDrift(index=index, op=node.op.name, tensor=graph.tensors[tensor].name, drift=worst))
    return found


def weights_only(graph: Graph) -> set[int]:
    """The ops that read nothing but stored weights, or tensors made from them alone (a DEQUANTIZE or DENSIFY
    of a kernel). Not compared: a delegate folds them into the ops that read them (XNNPACK under CompiledModel
    leaves their outputs unwritten), so a wrong weight shows at the first op that reads it."""
    made_from_weights: set[int] = set()
    found = set()
    for k, node in enumerate(graph.nodes):
        read = [t for t in node.input_ids if t >= 0]
        if read and all(graph.stored[t] or t in made_from_weights for t in read):
            found.add(k)
            made_from_weights.update(node.output_ids)
    return found


def exposed(graph: Graph) -> list[int]:
    """The tensors a probe adds to the outputs: every output of every op on the data's path, in execution order."""
    skipped = weights_only(graph)
    return [
        t
        for k, node in enumerate(graph.nodes)
        if k not in skipped
        for t in node.output_ids
        if t >= 0 and graph.tensors[t].dtype not in UNCOMPARABLE
    ]


def judge(ops: Sequence[OpDrift], limit: float) -> tuple[OpDrift | None, list[OpDrift]]:
    """The first op past ``limit`` and the ``NEXT_OPS`` after it; (None, []) when none is."""
    for k, op in enumerate(ops):
        if op.drift > limit:
            return op, list(ops[k + 1 : k + 1 + NEXT_OPS])
    return None, []


@dataclass(frozen=True)
class Probe:
    """The variant with every op's outputs on the data's path exposed: one model, run under the cell's delegate
    and on the reference kernels, wherever each of those runs (this process, a phone's app or benchmark_model)."""

    model: bytes
    graph: Graph  # the variant's: the probe's ops are the same, in the same order
    info: ModelInfo  # the probe's: its outputs are the variant's own, then the exposed tensors
    output_ids: list[int]  # the tensor index of each of the probe's outputs, in order
    compared: frozenset[int]  # the exposed tensors (a model output of a weights-only op is not compared)


def make_probe(data: bytes) -> Probe:
    """The probe of the variant ``data``; ModelFormatError when it cannot be made."""
    graph = read_graph(data)
    wanted = exposed(graph)
    model, output_ids = with_outputs(data, wanted)
    return Probe(model, graph, read_model_info(model), output_ids, frozenset(wanted))


def attach(result: CellResult, found: Culprit) -> CellResult:
    """The wrong_output cell with its culprit, and the culprit's line after the cell's own message."""
    return dataclasses.replace(result, culprit=found, message=f"{result.message}; {found.line}")


def not_made(name: str, why: object) -> Culprit:
    """A probe that could not be made from the variant file ``name``: no op named, the reason said."""
    return Culprit(method=METHOD, note=f"no probe model could be made from {name}: {why}")


def not_run(why: object) -> Culprit:
    """A probe that was made but did not run (under the delegate or on the reference kernels)."""
    return Culprit(method=METHOD, note=f"the probe model (every op's outputs exposed) did not run: {why}")


def verdict(
    probe: Probe,
    got: Iterable[Sequence[np.ndarray]],
    want: Iterable[Sequence[np.ndarray]],
    limit: float,
    probe_delegated_nodes: int | None = None,
    cell_delegated_nodes: int | None = None,
) -> Culprit:
    """The culprit from the probe's outputs per sample under the delegate (``got``) and on the reference kernels
    (``want``), each sample a list in the probe's output order; the samples are pooled as they arrive, so an
    engine may yield them one by one. ValueError when the two disagree in samples or outputs."""
    sums = [TensorDrift() for _ in probe.output_ids]
    samples = 0
    for delegated, reference in zip(got, want, strict=True):
        for total, a, b in zip(sums, delegated, reference, strict=True):
            total.add(np.asarray(a), np.asarray(b))
        samples += 1
    tensor_drift = {t: sums[k].drift for k, t in enumerate(probe.output_ids) if t in probe.compared}
    ops = op_drifts(probe.graph, tensor_drift)
    found, after = judge(ops, limit)
    worst = max(ops, key=lambda op: op.drift, default=None)
    return Culprit(
        method=METHOD,
        found=found,
        after=after,
        tolerance=limit,
        samples=samples,
        compared_ops=len(ops),
        probe_delegated_nodes=probe_delegated_nodes,
        cell_delegated_nodes=cell_delegated_nodes,
        note="" if found else _none_past(limit, samples, worst),
    )


def search(
    runtime: Runtime,
    model_path: Path,
    key: CellKey,
    inputs: InputSet,
    limit: float,
    cell_coverage: Coverage | None,
) -> Culprit:
    """Probe the variant at ``model_path`` under ``key``'s delegate and on the reference kernels, both in this
    process. A probe that cannot be made or run names no op and says why: the cell's own figures stand,
    whatever the search meets."""
    try:
        probe = make_probe(model_path.read_bytes())
    except ModelFormatError as exc:
        return not_made(model_path.name, exc)
    samples = min(len(inputs), PROBE_SAMPLES)
    with probe_file(probe, model_path.name) as path:
        try:
            shapes = fed_shapes(probe.info, inputs.sample(0))
            cell = open_engine(runtime, key.api, path, probe.info, key.delegate, key.threads, shapes)
            reference = open_engine(runtime, "interpreter", path, probe.info, "cpu", 1, shapes)
            return verdict(
                probe,
                per_sample(cell, inputs, samples),
                per_sample(reference, inputs, samples),
                limit,
                cell.coverage.delegated_nodes if cell.coverage else None,
                cell_coverage.delegated_nodes if cell_coverage else None,
            )
        except (RuntimeError, ValueError) as exc:  # every engine failure (DelegateFailed, Incompatible, …) is one
            return not_run(exc)


def on_reference_kernels(runtime: Runtime, probe: Probe, inputs: InputSet, samples: int) -> list[list[np.ndarray]]:
    """The probe's outputs on the first ``samples`` inputs on this machine's reference kernels. RuntimeError or
    ValueError when it does not run."""
    with probe_file(probe, "variant.tflite") as path:
        shapes = fed_shapes(probe.info, inputs.sample(0))
        reference = open_engine(runtime, "interpreter", path, probe.info, "cpu", 1, shapes)
        return list(per_sample(reference, inputs, samples))


def judged_here(
    runtime: Runtime,
    probe: Probe,
    delegated: Sequence[np.ndarray],
    inputs: InputSet,
    limit: float,
    probe_delegated_nodes: int | None,
    cell_delegated_nodes: int | None,
) -> Culprit:
    """The verdict on a probe whose delegated half ran on a device that only hands back outputs (the Android app,
    benchmark_model): ``delegated`` per probe output, stacked over the first samples of ``inputs``; the reference
    half runs here, on the same samples, as the cell's own reference was made on the host."""
    samples = len(delegated[0]) if delegated else 0
    try:
        want = on_reference_kernels(runtime, probe, inputs, samples)
    except (RuntimeError, ValueError) as exc:
        return not_run(f"on the host's reference kernels: {exc}")
    got = [[output[k] for output in delegated] for k in range(samples)]
    try:
        return verdict(probe, got, want, limit, probe_delegated_nodes, cell_delegated_nodes)
    except ValueError as exc:  # another number of outputs than the probe has
        return Culprit(method=METHOD, note=f"the device handed back outputs unlike the probe's: {exc}")


@contextmanager
def probe_file(probe: Probe, name: str) -> Iterator[Path]:
    """The probe written to a file of its own (engines load models from files), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="edgebench-probe-") as folder:
        path = Path(folder) / f"probe-{name}"
        path.write_bytes(probe.model)
        yield path


def per_sample(engine: Engine, inputs: InputSet, samples: int) -> Iterator[list[np.ndarray]]:
    """The engine's outputs on each of the first ``samples`` inputs, one sample at a time."""
    for k in range(samples):
        engine.set_inputs(inputs.sample(k))
        engine.invoke()
        yield engine.outputs()


def _none_past(limit: float, samples: int, worst: OpDrift | None) -> str:
    largest = f"; the largest is op {worst.index} {worst.op} at {worst.drift:.3g}" if worst else ""
    return (
        f"no op's output drifts past {limit:.3g} on the {samples} probed samples{largest} (the drift may sit "
        "in samples not probed, or build up over many ops)"
    )
