"""`runner = "benchmark_model"`: LiteRT's prebuilt binary, pushed once (by sha256), run per cell.

The host drives it cell by cell: one timed call with the plan's counts and the delegate's flags; one
short call with `--enable_op_profiling` (per-op time, and which node ran where; apart, so the profiler's
own cost stays out of the timed runs); then one call per accuracy sample (`--input_layer_value_files` in,
`--output_filepath` out; the binary keeps only the last inference's outputs), whose outputs are also held
to the same variant on the host's reference kernels (the numerics check: a cell far from them is
wrong_output). With --find-culprits, a wrong_output cell's probe model (device_runner/culprit.py) is made on
the host, pushed by sha256 and run the same way, one call per probe sample under the cell's delegate; the host
runs it on its reference kernels and names the first op that drifted. Each cell's JSON is written on the host
as it finishes, so a rerun with --resume measures only the cells not yet written.
"""

from __future__ import annotations

import shlex
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import edgebench_records as schema
from device_runner import accuracy, culprit
from device_runner.cell import load_input_set
from device_runner.coverage import coverage_of, keyed
from device_runner.delegates import DelegateKind, DelegateSpec, parse_delegate
from device_runner.engines import dequantize_output, fed_shapes, quantize_input
from device_runner.flatbuffer import ModelFormatError, ModelInfo, read_graph, read_model_info
from device_runner.inputs import InputSet, batched, input_set_problem, read_variant_reference
from device_runner.precision import precision, stateful
from device_runner.runtime import load_runtime
from device_runner.signature import output_names
from device_runner.sweep import CellDone
from edgebench.devices.android import android_facts
from edgebench.devices.benchmark_output import BenchmarkOutput, parse
from edgebench.devices.remote import Job, Link, RemoteDevice
from edgebench.errors import EdgebenchError
from edgebench_records import CellKey, CellResult, Culprit, DeviceFacts, Status, TensorInfo, sha256_file

KILLED = 137  # `timeout -s KILL` ends a hung binary with 128 + SIGKILL
UNAVAILABLE_HINTS = ("unsupported on this platform", "not supported", "Failed to create", "failed to create")
PROFILED_RUNS = 20  # enough for a steady per-op mean; few, so the call adds little to the cell's wall time


# benchmark_model applies these itself and says so; xnnpack and cpu are its own CPU kernels.
REQUESTED_DELEGATES = (DelegateKind.NNAPI, DelegateKind.GPU, DelegateKind.EXTERNAL)


def delegate_flags(spec: DelegateSpec) -> list[str] | None:
    """benchmark_model's flags for an edgebench delegate; None when the binary has no such delegate."""
    if spec.kind is DelegateKind.XNNPACK:
        return ["--use_xnnpack=true"]
    if spec.kind is DelegateKind.CPU:
        return ["--use_xnnpack=false"]
    if spec.kind is DelegateKind.NNAPI:
        return ["--use_nnapi=true"] + ([f"--nnapi_accelerator_name={spec.accelerator}"] if spec.accelerator else [])
    if spec.kind is DelegateKind.GPU:
        return ["--use_gpu=true"] + (["--gpu_precision_loss_allowed=false"] if spec.precision else [])
    if spec.kind is DelegateKind.EXTERNAL:
        flags = [f"--external_delegate_path={spec.library}"]
        if spec.options:  # the tool's own syntax: key:value pairs joined by ';'
            flags.append("--external_delegate_options=" + ";".join(f"{k}:{v}" for k, v in spec.options.items()))
        return flags
    return None


def input_shape_flags(info: ModelInfo, shapes: list[tuple[int, ...]]) -> list[str]:
    """``--input_layer`` / ``--input_layer_shape`` as the tool takes them (names joined by ',', shapes by ':', each
    shape's sizes by ','): it resizes the inputs to these before it allocates. Only for a model with a dynamic
    input; a fixed one runs at its own shape."""
    if not any(-1 in t.declared_shape or 0 in t.declared_shape for t in info.inputs):
        return []
    names = ",".join(t.name for t in info.inputs)
    return [f"--input_layer={names}", "--input_layer_shape=" + ":".join(",".join(map(str, s)) for s in shapes)]


def paired_refusal(device: str) -> EdgebenchError:
    """benchmark_model loads one model per process, so it cannot time a baseline and a candidate side by side:
    measured as two ordinary cells, the pair would lose what paired mode is for (one clock, heat and load)."""
    return EdgebenchError(
        f"device {device} runs benchmark_model, which loads one model per process and cannot time two models "
        'side by side: paired mode needs runner = "app"; use stored mode '
        "(`edgebench gate --baseline REF --candidate REF`)"
    )


class BenchmarkModelRunner:
    def __init__(self, binary: str, accuracy_samples: int, op_profiling: bool = True) -> None:
        self.binary = Path(binary).expanduser()
        self.accuracy_samples = accuracy_samples  # one process start per sample on the phone: the first N inputs
        self.op_profiling = op_profiling  # one more short call per cell: per-op time and placement
        self._remote_binary = ""
        self._work = ""  # the device's work directory: its blob store takes the probe models too
        self._facts: DeviceFacts | None = None

    def prepare(self, device: RemoteDevice, link: Link, work: str) -> None:
        if not self.binary.is_file():
            raise EdgebenchError(f"device {device.name}: benchmark_model binary not found: {self.binary}")
        (blob,) = device.store_blobs(link, work, [self.binary])
        device.sh(link, f"chmod 755 {shlex.quote(blob)}", "making benchmark_model executable")
        self._remote_binary = blob
        self._work = work

    def facts(self, device: RemoteDevice, link: Link, work: str) -> dict[str, object]:
        blob = f"{work}/blobs/{sha256_file(self.binary)}" if self.binary.is_file() else ""
        code, _, _ = link.run(f"test -x {shlex.quote(blob)}") if blob else (1, "", "")
        return {
            "android": android_facts(device, link),
            "runner": "benchmark_model",
            "runner_present": code == 0,
            "runner_detail": f"{self.binary} {'pushed' if code == 0 else 'not pushed yet (sent on the first run)'}",
        }

    def measure(self, device: RemoteDevice, link: Link, job: Job) -> None:
        if job.plan.pairs:  # the gate refuses first; a paired plan reaching here is never measured as cells
            raise paired_refusal(device.name)
        job.results_dir.mkdir(parents=True, exist_ok=True)
        self._facts = self._device_facts(device, link)
        cells = job.plan.cells()
        for index, key in enumerate(cells, start=1):
            path = job.results_dir / f"{key.id}.json"
            if path.is_file():
                job.on_cell(CellDone(key.id, schema.read(CellResult, path).status, index, len(cells), True))
                continue
            result = self._cell(device, link, job, key)
            schema.write(path, result)
            job.on_cell(CellDone(key.id, result.status, index, len(cells), False))

    # -- one cell ----------------------------------------------------------------------------------

    def _cell(self, device: RemoteDevice, link: Link, job: Job, key: CellKey) -> CellResult:
        started, plan = _now(), job.plan
        data = (job.plan_dir / plan.variant(key.variant).file).read_bytes()
        info = read_model_info(data)
        base = CellResult(
            run_id=plan.run_id,
            variant=key.variant,
            delegate=key.delegate,
            threads=key.threads,
            api=key.api,
            status=Status.OK,
            model_ops=[str(op) for op in info.ops],
            device=self._facts,
            started_at=started,
        )
        spec = parse_delegate(key.delegate)  # checked on the host before the plan was written
        flags = delegate_flags(spec)
        if key.api != "interpreter" or flags is None:
            why = (
                "benchmark_model measures the Interpreter API only (the app runs CompiledModel)"
                if key.api != "interpreter"
                else f"benchmark_model has no {key.delegate} delegate"
            )
            return replace(base, status=Status.DELEGATE_UNAVAILABLE, message=why, finished_at=_now())
        m = plan.measure
        inputs = self._inputs(job, info)
        model = f"{job.run_dir}/plan/{plan.variant(key.variant).file}"
        shaped = input_shape_flags(info, fed_shapes(info, inputs.sample(0)))
        cell_flags = [f"--num_threads={key.threads}", *flags, *shaped]  # the cell's, for any model it runs
        common = [f"--graph={model}", *cell_flags]
        before = self._temperatures(link)
        timed = [
            *common,
            f"--num_runs={m.runs}",
            f"--min_secs={m.min_s}",
            f"--max_secs={m.max_s}",
            f"--warmup_runs={m.warmup_runs}",
            f"--warmup_min_secs={m.warmup_min_s}",
            "--report_peak_memory_footprint=true",
        ]
        code, text = self._run(link, timed, m.cell_timeout_s)
        measured = replace(base, temperature_before_c=before, temperature_after_c=self._temperatures(link))
        out = parse(text)
        status, message = self._status(key, spec, code, text, out)
        if status != Status.OK:
            return replace(measured, status=status, message=message, finished_at=_now())
        profiled = self._profile(link, common, m.cell_timeout_s) if self.op_profiling else None
        source = profiled or out  # the profiled call's log repeats the delegate's lines, and adds the rows
        graph = read_graph(data)
        placement = keyed(source.placement(graph), graph)  # None: coverage.placement_unknown says why
        outputs = self._sampled_outputs(device, link, job, common, info, inputs)
        numerics = self._numerics(job, key, data, info, inputs, outputs)
        wrong = numerics is not None and not numerics.passed
        result = replace(
            measured,
            status=Status.WRONG_OUTPUT if wrong else Status.OK,
            message=accuracy.numerics_message(numerics, key.delegate) if numerics and wrong else "",
            timing=out.timing(m.warmup_runs),
            memory=out.memory(),
            coverage=coverage_of(placement) if placement else out.coverage(len(graph.nodes)),
            placement=placement,
            op_profile=profiled.profile.op_profile() if profiled and profiled.profile else self._no_profile(profiled),
            accuracy=self._accuracy(job, info, inputs, outputs),
            numerics=numerics,
        )
        if wrong and m.find_culprits:  # after the cell's own figures, so the probe costs them nothing
            found = self._culprit(device, link, job, key, cell_flags, data, inputs, result)
            result = culprit.attach(result, found)
        return replace(result, finished_at=_now())

    def _profile(self, link: Link, common: list[str], timeout_s: float) -> BenchmarkOutput | None:
        """A short run with the tool's op profiler; None if that call fails (the timed one did not)."""
        args = [*common, f"--num_runs={PROFILED_RUNS}", "--min_secs=0", "--warmup_runs=1", "--warmup_min_secs=0"]
        code, text = self._run(link, [*args, "--enable_op_profiling=true"], timeout_s)
        return parse(text) if code == 0 else None

    def _no_profile(self, profiled: BenchmarkOutput | None) -> schema.OpProfile | None:
        if not self.op_profiling:
            return None  # not looked at
        why = "the profiled call failed" if profiled is None else "this benchmark_model printed no per-op table"
        return schema.OpProfile(source="benchmark_model --enable_op_profiling", note=why)

    def _status(
        self, key: CellKey, spec: DelegateSpec, code: int, text: str, out: BenchmarkOutput
    ) -> tuple[Status, str]:
        last = text.strip().splitlines()[-1] if text.strip() else f"exit {code}"
        if code == KILLED:
            return Status.TIMEOUT, "benchmark_model killed after the cell timeout"
        if "Didn't find op for builtin opcode" in text:
            return Status.INCOMPATIBLE, last
        wants_delegate = spec.kind in REQUESTED_DELEGATES
        if code != 0:
            if wants_delegate and any(hint in text for hint in UNAVAILABLE_HINTS):
                return Status.DELEGATE_UNAVAILABLE, last
            return (Status.DELEGATE_FAILED if wants_delegate else Status.CRASHED), last
        if wants_delegate and not out.applied_delegate:
            # The binary goes on without a delegate it could not create: the numbers would be CPU's.
            return Status.DELEGATE_UNAVAILABLE, f"benchmark_model applied no {key.delegate} delegate: {last}"
        if out.timing(0) is None:
            return Status.CRASHED, f"no timings in benchmark_model's output: {last}"
        return Status.OK, ""

    def _inputs(self, job: Job, info: ModelInfo) -> InputSet:
        """The plan's input set, refused in one line when it cannot feed the model."""
        path = job.plan_dir / job.plan.input_set
        inputs = load_input_set(path)
        problem = input_set_problem(info.inputs, inputs)
        if problem:
            raise EdgebenchError(f"{path} does not fit {job.plan.model_name}: {problem}")
        return inputs

    def _sampled_outputs(
        self, device: RemoteDevice, link: Link, job: Job, common: list[str], info: ModelInfo, inputs: InputSet
    ) -> list[np.ndarray] | None:
        """Every output on the first accuracy samples, one call per sample. None for a model with a dynamic shape:
        the binary's output file does not say how the outputs were shaped."""
        if any(t.dynamic for t in [*info.inputs, *info.outputs]):
            return None
        n = min(len(inputs), self.accuracy_samples)
        folder = self._pushed_inputs(device, link, f"{job.run_dir}/accuracy", info, inputs, n)
        code, log = self._per_sample(link, folder, common, info.inputs, n)
        if code != 0:
            raise EdgebenchError(f"device {device.name}: running benchmark_model per accuracy sample failed: {log}")
        return self._read_outputs(link, folder, n, info.outputs)

    def _accuracy(
        self, job: Job, info: ModelInfo, inputs: InputSet, outputs: list[np.ndarray] | None
    ) -> schema.Accuracy | None:
        if outputs is None:
            return None
        n = len(outputs[0]) if outputs else 0
        labels = inputs.labels[:n] if inputs.labels is not None else None
        reference = [r[:n] for r in inputs.reference] if inputs.reference is not None else None
        return accuracy.score(outputs, labels, reference, job.plan.task, [t.name for t in info.outputs])

    def _numerics(
        self, job: Job, key: CellKey, data: bytes, info: ModelInfo, inputs: InputSet, outputs: list[np.ndarray] | None
    ) -> schema.Numerics | None:
        """The sampled outputs against the same variant on the host's reference kernels, as device_runner holds
        a cell's. None without outputs or a reference, and for a model with state: each sample runs in a process
        of its own, from the initial state, where the reference fed the set in order."""
        reference = read_variant_reference(job.plan_dir / job.plan.input_set, key.variant)
        if outputs is None or reference is None or stateful(info):
            return None
        n, m = len(outputs[0]), job.plan.measure
        classes = accuracy.class_counts(inputs.reference or reference, inputs.labels, job.plan.task)
        names = output_names(data, info)
        held = [r[:n] for r in reference]
        return accuracy.compare(
            outputs, held, names, classes, m.numerics_min_agreement, m.numerics_min_cosine, precision(data, info), m
        )

    def _culprit(
        self,
        device: RemoteDevice,
        link: Link,
        job: Job,
        key: CellKey,
        cell_flags: list[str],
        data: bytes,
        inputs: InputSet,
        cell: CellResult,
    ) -> Culprit:
        """The probe pushed and run on the phone under the cell's flags, one call per probe sample; its reference
        half on the host's reference kernels. A probe that cannot be made or run names no op and says why."""
        name = job.plan.variant(key.variant).file
        try:
            probe = culprit.make_probe(data)
        except ModelFormatError as exc:
            return culprit.not_made(name, exc)
        if any(t.dynamic for t in probe.info.outputs):
            return culprit.not_run("benchmark_model's output file does not say how a dynamic-shaped output was shaped")
        samples = min(len(inputs), culprit.PROBE_SAMPLES)
        with culprit.probe_file(probe, name) as path:
            (blob,) = device.store_blobs(link, self._work, [path])
        folder = self._pushed_inputs(device, link, f"{job.run_dir}/probe", probe.info, inputs, samples)
        code, log = self._per_sample(link, folder, [f"--graph={blob}", *cell_flags], probe.info.inputs, samples)
        if code != 0:
            return culprit.not_run(f"benchmark_model: {log}")
        try:
            outputs = self._read_outputs(link, folder, samples, probe.info.outputs)
        except EdgebenchError as exc:
            return culprit.not_run(str(exc))
        limit = culprit.tolerance(precision(data, read_model_info(data)), job.plan.measure)
        cell_nodes = cell.coverage.delegated_nodes if cell.coverage else None
        probe_nodes = parse(log).delegated_nodes  # the binary's own "Replacing N out of M node(s)" line
        return culprit.judged_here(load_runtime(), probe, outputs, inputs, limit, probe_nodes, cell_nodes)

    def _pushed_inputs(
        self, device: RemoteDevice, link: Link, under: str, info: ModelInfo, inputs: InputSet, n: int
    ) -> str:
        """The folder on the phone that holds the first ``n`` samples as ``info``'s inputs read them (pushed
        once per run and input encoding)."""
        feed = "_".join(f"{t.dtype}-{t.scale:g}-{t.zero_point}" for t in info.inputs)
        folder = f"{under}/{feed}"
        self._push_inputs(device, link, folder, [x[:n] for x in inputs.inputs], info.inputs)
        return folder

    def _per_sample(
        self, link: Link, folder: str, args: list[str], tensors: list[TensorInfo], n: int
    ) -> tuple[int, str]:
        """One call per sample in one shell command, the outputs gathered into ``folder``/out.all: the exit code
        and the last call's log (on a failure, its last line)."""
        q = shlex.quote
        call = " ".join(q(a) for a in [self._remote_binary, *args, "--num_runs=1", "--warmup_runs=0"])
        # The tool's syntax: name:file pairs joined by ',', a ':' inside a name written '::'; $i left to the shell.
        files = ",".join(f"{q(t.name.replace(':', '::'))}:in_$i.{k}.bin" for k, t in enumerate(tensors))
        script = (
            f"cd {q(folder)} && rm -f out.all && for i in $(seq 0 {n - 1}); do "
            f"{call} --min_secs=0 --warmup_min_secs=0 --input_layer_value_files={files} "
            f"--output_filepath=out_$i.bin > log.txt 2>&1 || {{ tail -n 1 log.txt; exit 1; }}; "
            "cat out_$i.bin >> out.all; done; cat log.txt"
        )
        code, out, err = link.run(script)
        text = (out + err).strip()
        if code != 0:
            return code, text.splitlines()[-1] if text else f"exit {code}"
        return code, text

    def _read_outputs(self, link: Link, folder: str, n: int, tensors: list[TensorInfo]) -> list[np.ndarray]:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "out.all"
            link.get(f"{folder}/out.all", local)
            return split_outputs(local.read_bytes(), n, tensors)

    def _push_inputs(
        self, device: RemoteDevice, link: Link, folder: str, inputs: list[np.ndarray], tensors: list[TensorInfo]
    ) -> None:
        code, _, _ = link.run(f"test -f {shlex.quote(folder + '/.complete')}")
        if code == 0:
            return
        device.sh(link, f"mkdir -p {shlex.quote(folder)}", "creating the accuracy folder")
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for k, (x, tensor) in enumerate(zip(inputs, tensors, strict=True)):
                for i, sample in enumerate(x):
                    files.append(Path(tmp) / f"in_{i}.{k}.bin")
                    files[-1].write_bytes(quantize_input(batched(sample, tensor), tensor).tobytes())
            link.put_all([(path, path.name) for path in files], folder)
        device.sh(link, f"touch {shlex.quote(folder + '/.complete')}", "marking the accuracy inputs complete")

    # -- device ------------------------------------------------------------------------------------

    def _run(self, link: Link, args: list[str], timeout_s: float) -> tuple[int, str]:
        command = " ".join(
            shlex.quote(a) for a in ["timeout", "-s", "KILL", f"{timeout_s:g}", self._remote_binary, *args]
        )
        code, out, err = link.run(command)
        return code, out + err

    def _temperatures(self, link: Link) -> dict[str, float]:
        script = (
            "for z in /sys/class/thermal/thermal_zone*; do "
            "echo $(cat $z/type 2>/dev/null)=$(cat $z/temp 2>/dev/null); done"
        )
        _, out, _ = link.run(script)
        temps = {}
        for line in out.splitlines():
            name, _, value = line.partition("=")
            if name and value.strip().lstrip("-").isdigit():
                temps[name] = int(value) / 1000.0
        return temps

    def _device_facts(self, device: RemoteDevice, link: Link) -> DeviceFacts:
        facts = android_facts(device, link)
        _, meminfo, _ = link.run("grep MemTotal /proc/meminfo")
        parts = meminfo.split()
        return DeviceFacts(
            runtime="benchmark_model",
            runtime_version=sha256_file(self.binary)[:12],  # the binary prints no version: its hash tells builds apart
            python="-",
            numpy="-",
            machine=str(facts["abi"]),
            cpu_model=str(facts["soc"]),
            cores=int(str(facts["cores"])),
            os=f"Android {facts['android']} (API {facts['api_level']})",
            kernel=str(facts["kernel"]),
            governor=None,
            ram_mb=int(parts[1]) / 1024 if len(parts) > 1 and parts[1].isdigit() else None,
        )


def split_outputs(raw: bytes, n: int, tensors: list[TensorInfo]) -> list[np.ndarray]:
    """``n`` samples of every output, dequantised: the tool writes each sample's outputs one after another."""
    sizes = [int(np.prod(t.shape)) * np.dtype(t.dtype).itemsize for t in tensors]
    per_sample = sum(sizes)
    if len(raw) != n * per_sample:
        raise EdgebenchError(
            f"benchmark_model wrote {len(raw)} output bytes for {n} samples, {n * per_sample} expected"
        )
    samples = np.frombuffer(raw, dtype=np.uint8).reshape(n, per_sample)
    offsets = np.cumsum([0, *sizes])
    return [
        dequantize_output(
            np.ascontiguousarray(samples[:, offsets[j] : offsets[j + 1]]).view(np.dtype(t.dtype)).reshape(n, *t.shape),
            t,
        )
        for j, t in enumerate(tensors)
    ]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
