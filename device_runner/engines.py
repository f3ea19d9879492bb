"""One interface over LiteRT's two Python APIs, so timing and accuracy code serve both.

- ``interpreter``: the classic ``Interpreter`` (both runtimes): XNNPACK, plain kernels or an external delegate.
- ``compiled``: LiteRT 2.x's ``CompiledModel`` (ai_edge_litert only), its path to GPU/NPU
  accelerators; it reports whether the model is fully accelerated instead of node coverage.

Every way an engine can fail to open becomes an exception whose class is the cell's status.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from device_runner.compat import missing_custom_op
from device_runner.coverage import coverage_of, placement_from_ops
from device_runner.delegates import APIS, DelegateKind, DelegateSpec, DelegateSpecError, GpuPrecision, parse_delegate
from device_runner.flatbuffer import ModelInfo
from device_runner.inputs import batched, samples_problem
from device_runner.runtime import Runtime
from edgebench_records import Coverage, OpProfile, Placement, TensorInfo

ANDROID_ONLY = ("nnapi",)  # reachable through android_app/ or benchmark_model only
_UNKNOWN_OP = re.compile(r"Didn't find op for builtin opcode '(\w+)' version '(\d+)'")


class DelegateUnavailable(RuntimeError):
    """The delegate or API does not exist on this device."""


class DelegateFailed(RuntimeError):
    """The delegate exists but could not prepare this model."""


class Incompatible(RuntimeError):
    """The runtime has no kernel for an op of the model: an op version newer than it, or a custom op."""


class Engine(Protocol):
    coverage: Coverage | None
    placement: Placement | None  # per node: which delegate partition ran it; None where the API does not say
    op_profile: OpProfile  # per-op time, or why there is none
    fully_accelerated: bool | None
    note: str  # for an ok cell: where the model really runs, when the API's own answer would mislead

    def set_inputs(self, samples: list[np.ndarray]) -> None:
        """Feed one sample per model input, in the model's input order, each quantised per its own tensor; a
        dynamic-shape input is resized to its sample's shape."""

    def invoke(self) -> None: ...

    def outputs(self) -> list[np.ndarray]:
        """Every output of the last invoke, in the model's output order, dequantised to float32, batch axis
        kept as the model has it."""
        ...


class InputMismatch(ValueError):
    """Samples that do not fit the model's inputs (count or shape); the message names the input."""


Shapes = list[tuple[int, ...]]  # one concrete shape per model input, batch axis included


def fed_shapes(info: ModelInfo, samples: list[np.ndarray]) -> Shapes:
    """The shapes ``samples`` (one per input) feed the model's inputs with: what an engine allocates for."""
    return [tuple(batched(s, t).shape) for t, s in zip(info.inputs, samples, strict=True)]


def feeds(info: ModelInfo, samples: list[np.ndarray]) -> list[np.ndarray]:
    """``samples`` as the model's input tensors take them: batched and quantised, one per input."""
    problem = samples_problem(info.inputs, samples)
    if problem:
        raise InputMismatch(problem)
    return [quantize_input(batched(s, t), t) for t, s in zip(info.inputs, samples, strict=True)]


def quantize_input(x: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    """Cast a float input to what the model takes (quantising for integer inputs)."""
    dtype = np.dtype(tensor.dtype)
    if dtype.kind == "f" or tensor.scale == 0:
        return x.astype(dtype)
    info = np.iinfo(dtype)
    quantized = np.rint(x.astype(np.float64) / tensor.scale + tensor.zero_point)
    return np.clip(quantized, info.min, info.max).astype(dtype)


def dequantize_output(y: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    if np.dtype(tensor.dtype).kind == "f" or tensor.scale == 0:
        return y.astype(np.float32)
    return ((y.astype(np.float32) - np.float32(tensor.zero_point)) * np.float32(tensor.scale)).astype(np.float32)


def no_op_profile(runtime: str) -> OpProfile:
    """Neither Python API has a profiler: ai_edge_litert 2.3's Interpreter wrapper and CompiledModel expose no
    per-op timing (``experimental_force_delegate_node_profiling`` only shapes a profiler installed from C++,
    ``qualcomm_profiling`` goes to QNN's own log), nor does tflite_runtime's. Said, not estimated."""
    return OpProfile(source=f"{runtime} Python API", note=f"per-op time is not available on {runtime}'s Python API")


def open_engine(
    runtime: Runtime,
    api: str,
    model_path: Path,
    info: ModelInfo,
    delegate: str,
    threads: int,
    shapes: Shapes | None = None,
) -> Engine:
    """``shapes`` (``fed_shapes``): the inputs' shapes, set before the model's tensors are first allocated, since a
    dynamic model's placeholder shape (``[1, 1]`` for ``[-1, -1]``) may be one no kernel or delegate can prepare."""
    if delegate in ANDROID_ONLY:
        raise DelegateUnavailable(f"{delegate} is only reachable on Android (android_app or benchmark_model)")
    if api == "interpreter":
        return InterpreterEngine(runtime, model_path, info, delegate, threads, shapes)
    if api == "compiled":
        return CompiledEngine(runtime, model_path, info, delegate, threads, shapes)
    raise DelegateUnavailable(f"unknown API {api!r}; choose one of {', '.join(APIS)}")


def _sentences(exc: Exception) -> str:
    """The runtime's message, its error reporter's pieces (glued end to end) parted again:
    "… node #22Node number 24 (TfLiteXNNPackDelegate) failed …" → "… node #22; Node number 24 …"."""
    return re.sub(r"(?<=[^\s.;:])(?=Node number \d)", "; ", str(exc))


def _raise_if_incompatible(exc: Exception, info: ModelInfo, delegate: str, log: str = "") -> None:
    """An op the runtime has no kernel for, as the runtime said it (``exc`` and its native ``log``)."""
    match = _UNKNOWN_OP.search(str(exc))
    if match:
        raise Incompatible(
            f"runtime lacks {match.group(1)} v{match.group(2)}: the model is newer than this runtime"
        ) from exc
    custom = missing_custom_op(f"{exc}\n{log}", info, delegate)
    if custom:
        raise Incompatible(custom) from exc


def first_invoke(engine: Engine, info: ModelInfo, delegate: str) -> int:
    """The first inference's nanoseconds; a failure there becomes the cell's status: a custom op that is only
    a stub is ``incompatible``, a delegate that fails ``delegate_failed``; plain kernels failing propagate."""
    with NativeLog() as log:
        start = time.perf_counter_ns()
        try:
            engine.invoke()
        except (RuntimeError, ValueError) as exc:
            error: Exception | None = exc
        else:
            error = None
        elapsed = time.perf_counter_ns() - start
    if error is None:
        return elapsed
    _raise_if_incompatible(error, info, delegate, log.text)
    if delegate == "cpu":
        raise error
    raise DelegateFailed(f"{delegate} failed to run the model: {error}") from error


class InterpreterEngine:
    fully_accelerated: bool | None = None
    note = ""

    def __init__(
        self,
        runtime: Runtime,
        model_path: Path,
        info: ModelInfo,
        delegate: str,
        threads: int,
        shapes: Shapes | None = None,
    ) -> None:
        api = runtime.interpreter
        kwargs: dict[str, Any] = {"model_path": str(model_path), "num_threads": threads}
        if delegate == "cpu":
            kwargs["experimental_op_resolver_type"] = api.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        elif delegate.startswith("external:"):
            try:
                spec = parse_delegate(delegate)
            except DelegateSpecError as exc:
                raise DelegateUnavailable(str(exc)) from exc
            try:
                kwargs["experimental_delegates"] = [api.load_delegate(spec.library, spec.options)]
            except (ValueError, OSError) as exc:
                raise DelegateUnavailable(f"cannot load delegate library {spec.library}: {exc}") from exc
            kwargs["experimental_op_resolver_type"] = api.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        elif delegate != "xnnpack":  # xnnpack: LiteRT's default resolver applies it
            raise DelegateUnavailable(f"{delegate} is not available through the Interpreter API here")
        try:
            self._interpreter = api.Interpreter(**kwargs)
            self._resize(shapes or [])  # before the first allocation, where the delegate prepares the model
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            _raise_if_incompatible(exc, info, delegate)
            if delegate == "cpu":
                raise  # no delegate involved: the model itself is at fault
            raise DelegateFailed(f"{delegate} failed to prepare the model: {_sentences(exc)}") from exc
        inputs = self._interpreter.get_input_details()
        self._inputs = [int(d["index"]) for d in inputs]
        self._shapes = [tuple(int(n) for n in d["shape"]) for d in inputs]
        self._outputs = [int(d["index"]) for d in self._interpreter.get_output_details()]
        self._info = info
        self.invoke = self._interpreter.invoke
        ops_details = getattr(self._interpreter, "_get_ops_details", None)  # private in both runtimes
        self.placement = placement_from_ops(ops_details()) if ops_details else None
        self.coverage = coverage_of(self.placement) if self.placement else None
        self.op_profile = no_op_profile(runtime.name)

    def _resize(self, shapes: Shapes) -> None:
        details = self._interpreter.get_input_details() if shapes else []
        for detail, shape in zip(details, shapes, strict=True):
            if tuple(int(n) for n in detail["shape"]) != shape:
                self._interpreter.resize_tensor_input(int(detail["index"]), list(shape), strict=True)

    def set_inputs(self, samples: list[np.ndarray]) -> None:
        arrays = feeds(self._info, samples)
        resized = [k for k, a in enumerate(arrays) if a.shape != self._shapes[k]]
        for k in resized:  # only a dynamic dimension can differ: feeds() checked the rest
            self._interpreter.resize_tensor_input(self._inputs[k], list(arrays[k].shape), strict=True)
            self._shapes[k] = arrays[k].shape
        if resized:
            self._interpreter.allocate_tensors()
        for index, array in zip(self._inputs, arrays, strict=True):
            self._interpreter.set_tensor(index, array)

    def outputs(self) -> list[np.ndarray]:
        return [
            dequantize_output(self._interpreter.get_tensor(index), tensor)
            for index, tensor in zip(self._outputs, self._info.outputs, strict=True)
        ]


class CompiledEngine:
    coverage: Coverage | None = None
    placement: Placement | None = None  # CompiledModel reports no node list
    fully_accelerated: bool | None = None

    def __init__(
        self,
        runtime: Runtime,
        model_path: Path,
        info: ModelInfo,
        delegate: str,
        threads: int,
        shapes: Shapes | None = None,
    ) -> None:
        if runtime.name != "ai_edge_litert":
            raise DelegateUnavailable(f"the CompiledModel API needs ai_edge_litert; this device has {runtime.name}")
        self._litert = _Litert.load()
        self._info, self._delegate = info, delegate
        self.op_profile = no_op_profile(runtime.name)
        spec = _compiled_delegate(delegate)
        self._gpu_fp32 = spec.precision is GpuPrecision.FP32
        self.note = ""
        if spec.kind in ACCELERATORS:
            self._model = self._on_accelerator(model_path, info, spec.kind, threads)
        else:
            kernel = self._litert.kernel.DELEGATE if delegate == "xnnpack" else self._litert.kernel.BUILTIN
            compiled = self._compile(model_path, self._litert.accel.CPU, threads, kernel)
            if isinstance(compiled, Failure):
                raise DelegateFailed(f"{delegate} (CompiledModel) failed to compile the model: {compiled.reason}")
            self._model = compiled
            # CPU only: "fully accelerated" is LiteRT's own answer, meaning XNNPACK took every op.
            self.fully_accelerated = bool(self._model.is_fully_accelerated())
        self._allocating(lambda: self._bind(shapes or []))

    def _compile(self, model_path: Path, hardware: int, threads: int, kernel: Any = None) -> Any:
        """A CompiledModel, or the Failure with LiteRT's own reason (read from its log: the exception
        holds only source locations)."""
        model_options = compiled_options(self._litert.options, hardware, threads, kernel, self._gpu_fp32)
        error: Exception | None = None
        with NativeLog() as log:
            try:
                model = self._litert.compiled.CompiledModel.from_file(str(model_path), options=model_options)
            except (ValueError, RuntimeError) as exc:
                error = exc
        self._last_log = log.text
        if error is None:
            return model
        _raise_if_incompatible(error, self._info, self._delegate, log.text)
        return Failure(str(error), log.text)

    def _on_accelerator(self, model_path: Path, info: ModelInfo, delegate: DelegateKind, threads: int) -> Any:
        """Only what really runs on the GPU/NPU counts: LiteRT accepts an accelerator that is absent and runs
        the model on the CPU instead, calling that "fully accelerated" when XNNPACK takes every op."""
        accel = self._litert.accel
        alone = accel.GPU if delegate is DelegateKind.GPU else accel.NPU
        # Without CPU in the set LiteRT refuses to compile unless the accelerator took every op.
        compiled = self._compile(model_path, alone, threads)
        if not isinstance(compiled, Failure):
            self.fully_accelerated = True
            self.note = f"every op runs on the {delegate}"
            return compiled
        if not compiled.left_ops_on_cpu:
            raise DelegateUnavailable(f"{delegate} is not available on this device: {compiled.sentence(delegate)}")
        if delegate is DelegateKind.NPU and not compiled.npu_compiled and not _has_dispatch_ops(info):
            raise DelegateUnavailable(
                f"npu is not available on this device: no NPU compiler plugin applied to the model, so every op "
                f"would run on the CPU{compiled.plugin_problem()}"
            )
        mixed = self._compile(model_path, alone | accel.CPU, threads)
        if isinstance(mixed, Failure):
            raise DelegateUnavailable(f"{delegate} is not available on this device: {mixed.sentence(delegate)}")
        self.fully_accelerated = False  # some ops run on the CPU, whatever is_fully_accelerated() says
        self.coverage = mixed_coverage(self._last_log)
        share = (
            f"{self.coverage.delegated_nodes} of {self.coverage.total_nodes} nodes"
            if self.coverage
            else "part of the model (LiteRT does not say how much)"
        )
        self.note = f"the {delegate} runs {share}; the CPU runs the rest"
        return mixed

    def _allocating(self, step: Callable[[], None]) -> None:
        """``step``, in which LiteRT allocates the model's tensors: an op without a kernel shows there."""
        with NativeLog() as log:
            try:
                step()
            except RuntimeError as exc:
                error: RuntimeError | None = exc
            else:
                error = None
        if error is not None:
            _raise_if_incompatible(error, self._info, self._delegate, log.text)
            raise DelegateFailed(f"{self._delegate} (CompiledModel) could not allocate the model: {error}") from error

    def _bind(self, shapes: Shapes) -> None:
        """Which buffer feeds which model input (the input set follows the subgraph's order, the buffers the
        signature's), the inputs resized to ``shapes``, then the buffers. LiteRT allocates the model for the
        shapes it has at the first call that needs its outputs (their details, or the buffers): resized after
        that, a dynamic model is prepared at its placeholder shape first, which it may not run at."""
        signature = self._model.get_signature_by_index(0)
        self._signature = str(signature["key"])
        details = self._model.get_input_tensor_details(self._signature)
        self._input_at = _positions([details[n]["name"] for n in signature["inputs"]], self._info.inputs)
        self._shapes = [tuple(self._info.inputs[k].shape) for k in self._input_at]
        for k, position in enumerate(self._input_at if shapes else []):
            if shapes[position] != self._shapes[k]:
                self._model.resize_input_tensor(k, list(shapes[position]))
                self._shapes[k] = shapes[position]
        details = self._model.get_output_tensor_details(self._signature)
        self._output_names = list(signature["outputs"])
        self._output_at = _positions([details[n]["name"] for n in self._output_names], self._info.outputs)
        self._buffers()

    def _buffers(self) -> None:
        """Buffers for the current input shapes, and the output shapes they give."""
        self._inputs = self._model.create_input_buffers(0)
        self._outputs = self._model.create_output_buffers(0)
        details = self._model.get_output_tensor_details(self._signature)
        self._output_shapes = [tuple(int(d) for d in details[name]["shape"]) for name in self._output_names]

    def set_inputs(self, samples: list[np.ndarray]) -> None:
        arrays = feeds(self._info, samples)
        resized = False
        for k, position in enumerate(self._input_at):
            if arrays[position].shape != self._shapes[k]:
                self._model.resize_input_tensor(k, list(arrays[position].shape))
                self._shapes[k], resized = arrays[position].shape, True
        if resized:
            self._allocating(self._buffers)
        for buffer, position in zip(self._inputs, self._input_at, strict=True):
            buffer.write(arrays[position])

    def invoke(self) -> None:
        self._model.run_by_index(0, self._inputs, self._outputs)

    def outputs(self) -> list[np.ndarray]:
        found: list[np.ndarray] = [np.empty(0, np.float32)] * len(self._info.outputs)
        for buffer, position, shape in zip(self._outputs, self._output_at, self._output_shapes, strict=True):
            tensor = self._info.outputs[position]
            raw: np.ndarray = buffer.read(int(np.prod(shape)), np.dtype(tensor.dtype))
            found[position] = dequantize_output(raw.reshape(shape), tensor)
        return found


def _compiled_delegate(delegate: str) -> DelegateSpec:
    """The delegate as the CompiledModel API can take it: XNNPACK, plain kernels, or an accelerator."""
    try:
        spec = parse_delegate(delegate)
    except DelegateSpecError as exc:
        raise DelegateUnavailable(str(exc)) from exc
    if spec.kind not in (DelegateKind.XNNPACK, DelegateKind.CPU, *ACCELERATORS):
        raise DelegateUnavailable(f"{delegate} is not available through the CompiledModel API")
    return spec


def compiled_options(options: Any, hardware: int, threads: int, kernel: Any, gpu_fp32: bool) -> Any:
    """ai_edge_litert's ``Options`` for one CompiledModel (``options``: its options module): the accelerators,
    the CPU's threads and kernels, and, for ``gpu:fp32``, the GPU held to fp32 (``GpuOptions.enforce_f32``; left
    out, the GPU computes at its default precision, fp16 where it may)."""
    gpu = options.GpuOptions(enforce_f32=True) if gpu_fp32 else None
    return options.Options(
        hardware_accelerators=hardware,
        cpu_options=options.CpuOptions(num_threads=threads, kernel_mode=kernel),
        gpu_options=gpu,
    )


def _positions(names: list[str], tensors: list[TensorInfo]) -> list[int]:
    """Where each of a signature's tensors (by tensor name) sits in the subgraph's list; in order when the
    names do not say (unnamed or repeated tensors)."""
    order = [t.name for t in tensors]
    if sorted(names) == sorted(order) and len(set(order)) == len(order):
        return [order.index(name) for name in names]
    return list(range(len(tensors)))


@dataclass(frozen=True)
class _Litert:
    """ai_edge_litert's CompiledModel modules, imported only where that API is asked for."""

    compiled: Any
    options: Any
    accel: Any
    kernel: Any

    @classmethod
    def load(cls) -> _Litert:
        return cls(
            compiled=importlib.import_module("ai_edge_litert.compiled_model"),
            options=importlib.import_module("ai_edge_litert.options"),
            accel=importlib.import_module("ai_edge_litert.hardware_accelerator").HardwareAccelerator,
            kernel=importlib.import_module("ai_edge_litert.cpu_kernel_mode").CpuKernelMode,
        )


ACCELERATORS = (DelegateKind.GPU, DelegateKind.NPU)
_NOT_ALL_ON_ACCELERATOR = "Some ops are not accelerated"  # LiteRT's refusal when ops are left for a CPU not asked for
_PLUGINS_APPLIED = re.compile(r"(\d+) compiler plugins were applied successfully")
_PLUGIN_LOAD_FAILED = re.compile(r"Failed to load plugin at: \S*/(\S+) with error")
_SHARED_LIBRARY = re.compile(r"Could not load shared library \S+: (.+?)\.?$", re.MULTILINE)
_LOG_REASON = re.compile(r"^(?:ERROR|E\d+ [\d:.]+ +\d+) ?[: ]*(?:\[[^\]]*\]|[\w.]+:\d+\])? *(.*\S)", re.MULTILINE)
_REPLACING = re.compile(r"Replacing (\d+) out of (\d+) node\(s\) with delegate \((\w+)\)")
_SELECTED = re.compile(r"selected (\d+) ops, from a total of (\d+) ops")
_LOCATION_ONLY = re.compile(r"^[\s└]*(ERROR: )?\[[^\]]*\]\s*$")


@dataclass(frozen=True)
class Failure:
    """A CompiledModel that LiteRT would not create, with what its log said meanwhile."""

    error: str
    log: str

    @property
    def left_ops_on_cpu(self) -> bool:
        return _NOT_ALL_ON_ACCELERATOR in self.error

    @property
    def npu_compiled(self) -> bool:
        match = _PLUGINS_APPLIED.search(self.log)
        return bool(match and int(match.group(1)) > 0)

    @property
    def reason(self) -> str:
        """The most specific line LiteRT gave: the exception's own text unless it is only source locations."""
        lines = [line.strip(" └") for line in self.error.splitlines() if not _LOCATION_ONLY.match(line)]
        told = [line for line in lines if line]
        if told:
            return told[-1].rstrip(".")
        logged = [m.group(1) for m in _LOG_REASON.finditer(self.log) if not _LOCATION_ONLY.match(m.group(1))]
        return (logged[0] if logged else "LiteRT gave no reason").rstrip(".")

    def sentence(self, delegate: str) -> str:
        return f"LiteRT could not start its {delegate.upper()} accelerator ({self.reason})."

    def plugin_problem(self) -> str:
        plugins = _PLUGIN_LOAD_FAILED.findall(self.log)
        libraries = _SHARED_LIBRARY.findall(self.log)
        if not plugins:
            return "."
        why = f": {libraries[0].strip()}" if libraries else ""
        return f" ({plugins[0]} does not load{why})."


def mixed_coverage(log: str) -> Coverage | None:
    """How many nodes the accelerator took, when LiteRT's log says (the CompiledModel API does not)."""
    for match in _REPLACING.finditer(log):
        if "xnnpack" not in match.group(3).lower():
            return Coverage(delegated_nodes=int(match.group(1)), total_nodes=int(match.group(2)))
    selected = _SELECTED.search(log)
    return Coverage(delegated_nodes=int(selected.group(1)), total_nodes=int(selected.group(2))) if selected else None


def _has_dispatch_ops(info: ModelInfo) -> bool:
    """A model compiled ahead of time for an NPU carries LiteRT's dispatch op."""
    return any("DISPATCH" in str(op).upper() for op in info.ops)


class NativeLog:
    """What native code writes to stderr (fd 2) inside the block, kept in ``text`` and passed on to stderr."""

    def __init__(self) -> None:
        self.text = ""

    def __enter__(self) -> NativeLog:
        sys.stderr.flush()
        self._saved = os.dup(2)
        self._file = tempfile.TemporaryFile()
        os.dup2(self._file.fileno(), 2)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._file.seek(0)
        raw = self._file.read()
        self._file.close()
        self.text = raw.decode(errors="replace")
        os.write(2, raw)
