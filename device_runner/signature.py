"""The names a model gives its inputs and outputs: its serving signature's keys (``dense_1``), where the
converter named the tensors themselves ``serving_default_input:0`` and ``StatefulPartitionedCall:0``.
Standard library only (device_runner/flatbuffer.py's reader): it runs on boards.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from device_runner.flatbuffer import ModelFormatError, ModelInfo, _Reader

_SERVING = "serving_default"


@dataclass(frozen=True)
class Signature:
    inputs: list[str]  # per subgraph-0 input, in order: the name the signature gives it
    outputs: list[str]


def read_signature(flatbuffer: bytes) -> Signature | None:
    """The serving signature's names for subgraph 0's inputs and outputs; None without a full one."""
    reader = _Reader(flatbuffer)
    try:
        model = reader.u32(0)
        subgraphs = reader.tables(model, 2)
        signatures = reader.tables(model, 7)
        if not subgraphs or not signatures:
            return None
        chosen = next((s for s in signatures if reader.string(s, 2) == _SERVING), signatures[0])
        if int(reader.scalar(chosen, 4, "<I", 0)) != 0:
            return None
        ports = []
        for signature_field, subgraph_field in ((0, 1), (1, 2)):
            by_tensor = {
                int(reader.scalar(m, 1, "<I", 0)): reader.string(m, 0) or ""
                for m in reader.tables(chosen, signature_field)
            }
            order = [int(i) for i in reader.numbers(subgraphs[0], subgraph_field, "<i")]
            if sorted(by_tensor) != sorted(order):
                return None
            ports.append([by_tensor[i] for i in order])
    except (ModelFormatError, IndexError, struct.error):
        return None  # an odd signature only costs the name matching; the model itself was read already
    return Signature(*ports)


def output_names(flatbuffer: bytes, info: ModelInfo) -> list[str]:
    """Each output's name as the model gives it: its signature key, else its tensor's name."""
    signature = read_signature(flatbuffer)
    return signature.outputs if signature else [t.name for t in info.outputs]
