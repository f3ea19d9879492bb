"""One interface over LiteRT's two Python APIs, so timing and accuracy code serve both.

- ``interpreter``: the classic ``Interpreter`` (both runtimes): XNNPACK, plain kernels or an external delegate.
- ``compiled``: LiteRT 2.x's ``CompiledModel`` (ai_edge_litert only), its path to GPU/NPU
  accelerators; it reports whether the model is fully accelerated instead of node coverage.

Every way an engine can fail to open becomes an exception whose class is the cell's status.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from device_runner.coverage import coverage_from_ops
from device_runner.delegates import APIS, DelegateSpecError, parse_delegate
from device_runner.flatbuffer import ModelInfo, TensorInfo
from device_runner.runtime import Runtime
from device_runner.schema import Coverage

ANDROID_ONLY = ("nnapi",)  # reachable through android_app/ or benchmark_model only
_UNKNOWN_OP = re.compile(r"Didn't find op for builtin opcode '(\w+)' version '(\d+)'")


class DelegateUnavailable(RuntimeError):
    """The delegate or API does not exist on this device."""


class DelegateFailed(RuntimeError):
    """The delegate exists but could not prepare this model."""


class Incompatible(RuntimeError):
    """The runtime is too old for an op (or op version) in the model."""


class Engine(Protocol):
    coverage: Coverage | None
    fully_accelerated: bool | None

    def set_input(self, sample: np.ndarray) -> None:
        """Feed one sample (no batch axis), quantising it if the model takes integers."""

    def invoke(self) -> None: ...

    def output(self) -> np.ndarray:
        """The first output of the last invoke, dequantised to float32, batch axis dropped."""
        ...


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


def open_engine(runtime: Runtime, api: str, model_path: Path, info: ModelInfo, delegate: str, threads: int) -> Engine:
    if delegate in ANDROID_ONLY:
        raise DelegateUnavailable(f"{delegate} is only reachable on Android (android_app or benchmark_model)")
    if api == "interpreter":
        return InterpreterEngine(runtime, model_path, info, delegate, threads)
    if api == "compiled":
        return CompiledEngine(runtime, model_path, info, delegate, threads)
    raise DelegateUnavailable(f"unknown API {api!r}; choose one of {', '.join(APIS)}")


def _raise_if_incompatible(exc: Exception) -> None:
    match = _UNKNOWN_OP.search(str(exc))
    if match:
        raise Incompatible(
            f"runtime lacks {match.group(1)} v{match.group(2)}: the model is newer than this runtime"
        ) from exc


class InterpreterEngine:
    fully_accelerated: bool | None = None

    def __init__(self, runtime: Runtime, model_path: Path, info: ModelInfo, delegate: str, threads: int) -> None:
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
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            _raise_if_incompatible(exc)
            if delegate == "cpu":
                raise  # no delegate involved: the model itself is at fault
            raise DelegateFailed(f"{delegate} failed to prepare the model: {exc}") from exc
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._info = info
        self.invoke = self._interpreter.invoke
        ops_details = getattr(self._interpreter, "_get_ops_details", None)  # private in both runtimes
        self.coverage = coverage_from_ops(ops_details()) if ops_details else None

    def set_input(self, sample: np.ndarray) -> None:
        self._interpreter.set_tensor(self._input, quantize_input(sample[None, ...], self._info.inputs[0]))

    def output(self) -> np.ndarray:
        raw: np.ndarray = self._interpreter.get_tensor(self._output)
        return np.asarray(dequantize_output(raw, self._info.outputs[0])[0])


class CompiledEngine:
    coverage: Coverage | None = None

    def __init__(self, runtime: Runtime, model_path: Path, info: ModelInfo, delegate: str, threads: int) -> None:
        if runtime.name != "ai_edge_litert":
            raise DelegateUnavailable(f"the CompiledModel API needs ai_edge_litert; this device has {runtime.name}")
        compiled = importlib.import_module("ai_edge_litert.compiled_model")
        options = importlib.import_module("ai_edge_litert.options")
        accel = importlib.import_module("ai_edge_litert.hardware_accelerator").HardwareAccelerator
        kernel = importlib.import_module("ai_edge_litert.cpu_kernel_mode").CpuKernelMode
        choices = {
            "xnnpack": (accel.CPU, kernel.DELEGATE),
            "cpu": (accel.CPU, kernel.BUILTIN),
            "gpu": (accel.GPU | accel.CPU, None),  # CPU takes what the GPU cannot, as LiteRT's benchmark does
            "npu": (accel.NPU | accel.CPU, None),
        }
        if delegate not in choices:
            raise DelegateUnavailable(f"{delegate} is not available through the CompiledModel API")
        hardware, kernel_mode = choices[delegate]
        model_options = options.Options(
            hardware_accelerators=hardware,
            cpu_options=options.CpuOptions(num_threads=threads, kernel_mode=kernel_mode),
        )
        try:
            self._model = compiled.CompiledModel.from_file(str(model_path), options=model_options)
        except (ValueError, RuntimeError) as exc:
            _raise_if_incompatible(exc)
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if delegate in ("gpu", "npu"):
                raise DelegateUnavailable(f"{delegate} accelerator could not be created here: {detail}") from exc
            raise DelegateFailed(f"{delegate} (CompiledModel) failed to compile the model: {detail}") from exc
        self._inputs = self._model.create_input_buffers(0)
        self._outputs = self._model.create_output_buffers(0)
        self._info = info
        out = info.outputs[0]
        self._out_count = int(np.prod(out.shape))
        self._out_dtype = np.dtype(out.dtype)
        self.fully_accelerated: bool | None = bool(self._model.is_fully_accelerated())

    def set_input(self, sample: np.ndarray) -> None:
        self._inputs[0].write(quantize_input(sample[None, ...], self._info.inputs[0]))

    def invoke(self) -> None:
        self._model.run_by_index(0, self._inputs, self._outputs)

    def output(self) -> np.ndarray:
        raw: np.ndarray = self._outputs[0].read(self._out_count, self._out_dtype)
        return np.asarray(dequantize_output(raw.reshape(self._info.outputs[0].shape), self._info.outputs[0])[0])
