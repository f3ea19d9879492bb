"""A `gpu` cell runs at the accelerator's default precision, a `gpu:fp32` cell with fp32 forced: two cells, so what
fp16 does to a model's numbers shows as a pair. The spelling is parsed once, reaches CompiledModel's options
(GpuOptions.enforce_f32) and benchmark_model's flags; on a host without a GPU each is one line, as `gpu` is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from device_runner.delegates import DelegateKind, DelegateSpecError, GpuPrecision, parse_delegate
from device_runner.engines import DelegateUnavailable, compiled_options, open_engine
from device_runner.flatbuffer import read_model_file
from device_runner.runtime import load_runtime
from edgebench.devices.benchmark_model import delegate_flags
from tests.support.tiny_models import chain


def test_gpu_fp32_is_the_gpu_with_its_precision_forced_and_plain_gpu_keeps_the_default() -> None:
    assert parse_delegate("gpu:fp32").kind is DelegateKind.GPU
    assert parse_delegate("gpu:fp32").precision is GpuPrecision.FP32
    assert parse_delegate("gpu").precision is GpuPrecision.DEFAULT


@pytest.mark.parametrize("text", ["gpu:fp16", "gpu:", "npu:fp32"])
def test_another_precision_is_refused_in_one_line_naming_what_is_taken(text: str) -> None:
    with pytest.raises(DelegateSpecError) as refused:
        parse_delegate(text)
    assert text in str(refused.value) and "\n" not in str(refused.value)


def test_benchmark_model_is_told_not_to_lose_precision() -> None:
    assert delegate_flags(parse_delegate("gpu:fp32")) == ["--use_gpu=true", "--gpu_precision_loss_allowed=false"]
    assert delegate_flags(parse_delegate("gpu")) == ["--use_gpu=true"]


def _options() -> Any:
    return pytest.importorskip("ai_edge_litert.options")


def test_the_compiled_model_options_carry_enforce_f32_only_when_asked() -> None:
    forced = compiled_options(_options(), 2, 1, None, gpu_fp32=True)
    default = compiled_options(_options(), 2, 1, None, gpu_fp32=False)
    assert forced.gpu_options.enforce_f32 is True
    assert forced._as_flat_kwargs()["gpu_enforce_f32"] is True  # what LiteRT's wrapper is handed
    assert default._as_flat_kwargs()["gpu_enforce_f32"] is False


def test_a_gpu_fp32_cell_hands_the_option_to_litert_and_is_one_line_without_a_gpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = pytest.importorskip("ai_edge_litert.compiled_model").CompiledModel
    seen: list[Any] = []
    real = compiled.from_file

    def recording(path: str, options: Any = None) -> Any:
        seen.append(options)
        return real(path, options=options)

    monkeypatch.setattr(compiled, "from_file", staticmethod(recording))
    model = chain(tmp_path / "chain.tflite")
    with pytest.raises(DelegateUnavailable) as unavailable:
        open_engine(load_runtime(), "compiled", model, read_model_file(model), "gpu:fp32", threads=1)
    assert seen and all(o.gpu_options.enforce_f32 for o in seen)
    message = str(unavailable.value)
    assert message.startswith("gpu is not available on this device: ") and "\n" not in message
