"""What a model file holds and costs, as the records carry them: its input and output tensors and its figures
(parameters, MACs, FLOPs, op counts). device_runner/flatbuffer.py and model_figures.py read them from a .tflite;
the manifest keeps them per variant.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TensorInfo:
    """One input or output tensor of a model, as its flatbuffer declares it."""

    name: str
    shape: list[int]
    dtype: str
    scale: float  # 0.0 when not quantised
    zero_point: int
    shape_signature: list[int] = field(default_factory=list)  # -1 marks a dynamic dimension; empty: as ``shape``

    @property
    def dynamic(self) -> bool:
        """Some dimension is fixed only when the input is fed (-1 in the signature, or 0 in the shape), besides
        a leading batch axis: that one runs at 1, as ``shape`` (what the converter wrote) has it."""
        dims = self.declared_shape
        return any(d <= 0 for d in dims[1 if len(dims) >= 2 else 0 :])

    @property
    def declared_shape(self) -> list[int]:
        """The shape as declared, -1 where a dimension is dynamic."""
        return list(self.shape_signature) if self.shape_signature else list(self.shape)


@dataclass(frozen=True)
class ModelFigures:
    """What a model costs, counted from its flatbuffer (device_runner/model_figures.py says how)."""

    params: dict[str, int]  # stored weight elements by dtype (float32, int8, …)
    macs: int
    flops: int
    macs_by_op: dict[str, int] = field(default_factory=dict)
    ops: dict[str, int] = field(default_factory=dict)  # node count per op type

    @property
    def total_params(self) -> int:
        return sum(self.params.values())
