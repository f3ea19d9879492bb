"""Which source input and output each tensor of a made variant is, matched by name.

TensorFlow's converter orders a .tflite's tensors its own way (a SavedModel's two inputs can come out
reversed; Keras outputs follow its signature), so the input set and the host reference are laid out in
the variant's own order (subgraph 0's), found from the names its serving signature gives each tensor.
Numpy and the flatbuffer reader only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from device_runner.flatbuffer import ModelInfo
from device_runner.signature import read_signature
from edgebench_records import TensorInfo

__all__ = ["Layout", "Ports", "layout_of", "port_order", "read_signature"]  # read_signature: moved to device_runner

# What the converter and the TFMOT wrappers put around a name the user gave.
_PREFIXES = ("serving_default_", "quant_")


def _plain(name: str) -> str:
    name = name.rsplit(":", 1)[0] if name.rpartition(":")[2].isdigit() else name
    for prefix in _PREFIXES:
        name = name.removeprefix(prefix)
    return name


def port_order(source: list[str], variant: list[str]) -> list[int]:
    """For each variant port, the index of the source port it is: by name where every name matches one
    source port, else by position (a converter that kept no names kept the order)."""
    wanted = {_plain(name): index for index, name in enumerate(source)}
    found = [wanted.get(_plain(name)) for name in variant]
    if len(wanted) == len(source) and None not in found and len(set(found)) == len(found) == len(source):
        return [index for index in found if index is not None]
    return list(range(len(variant)))


class Ports(Protocol):
    """A model's named inputs and outputs (``converter.source.SourceModel`` is one)."""

    inputs: list[TensorInfo]
    outputs: list[TensorInfo]


@dataclass(frozen=True)
class Layout:
    """Where each source input and output sits in a variant: ``inputs[k]`` is the source input at the
    variant's input ``k`` (subgraph 0's order, the input set's)."""

    inputs: list[int]
    outputs: list[int]

    def feed(self, source_order: list[np.ndarray]) -> list[np.ndarray]:
        return [source_order[i] for i in self.inputs]

    def arrange(self, source_order: list[np.ndarray], tensors: list[TensorInfo]) -> list[np.ndarray]:
        """Source outputs in the variant's order, each sample shaped as the variant's output tensor (batch axis
        kept, as ``accuracy.predict`` gives a variant's)."""
        arranged = []
        for j, tensor in zip(self.outputs, tensors, strict=True):
            output = source_order[j]
            fits = output[0].size == int(np.prod(tensor.shape)) and all(d > 0 for d in tensor.shape)
            arranged.append(output.reshape(len(output), *tensor.shape) if fits else output)
        return arranged


def layout_of(flatbuffer: bytes, info: ModelInfo, source: Ports) -> Layout:
    """How ``flatbuffer`` (read as ``info``) orders the source model's inputs and outputs."""
    signature = read_signature(flatbuffer)
    inputs = signature.inputs if signature else [t.name for t in info.inputs]
    outputs = signature.outputs if signature else [t.name for t in info.outputs]
    if len(inputs) != len(source.inputs) or len(outputs) != len(source.outputs):
        raise ValueError(
            f"the variant has {len(inputs)} inputs and {len(outputs)} outputs, "
            f"the source model {len(source.inputs)} and {len(source.outputs)}"
        )
    return Layout(
        port_order([t.name for t in source.inputs], inputs), port_order([t.name for t in source.outputs], outputs)
    )
