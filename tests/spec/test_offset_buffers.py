"""Weights stored after the flatbuffer (a buffer's ``offset`` and ``size``, as ai-edge-quantizer and models past
2 GB store them) are counted like weights stored inline: parameters, sparsity and unique values alike."""

from __future__ import annotations

from typing import Any

import pytest

from converter.figures import weight_stats
from device_runner.flatbuffer import ModelFormatError, constant_tensors, read_graph
from device_runner.model_figures import model_figures
from tests.support.real_models import FLOAT_WEIGHTS, real_model

PLACEHOLDER = 1 << 40  # any offset of the same width: the flatbuffer's length does not depend on the value


def _serialise(model: Any) -> bytes:
    from ai_edge_litert.tools import flatbuffer_utils

    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def stored_by_offset(flatbuffer: bytes) -> bytes:
    """The same model with every buffer's bytes moved after the flatbuffer, each found by offset and size."""
    from ai_edge_litert.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    moved = [(b, bytes(b.data)) for b in model.buffers if b.data is not None and len(b.data)]
    for buffer, data in moved:
        buffer.data, buffer.offset, buffer.size = None, PLACEHOLDER, len(data)
    head = len(_serialise(model))
    position = head
    for buffer, data in moved:
        buffer.offset, position = position, position + len(data)
    body = _serialise(model)
    assert len(body) == head  # the offsets took the placeholders' room
    return body + b"".join(data for _, data in moved)


@pytest.fixture(scope="module")
def both() -> tuple[bytes, bytes]:
    inline = real_model(FLOAT_WEIGHTS).read_bytes()
    return inline, stored_by_offset(inline)


def test_parameters_are_counted_wherever_the_weights_are_stored(both: tuple[bytes, bytes]) -> None:
    inline, by_offset = both
    counted = model_figures(read_graph(inline)).params
    assert sum(counted.values()) > 10_000  # the model's weights, not a handful of shapes
    assert model_figures(read_graph(by_offset)).params == counted


def test_sparsity_and_unique_values_are_read_from_weights_stored_by_offset(both: tuple[bytes, bytes]) -> None:
    inline, by_offset = both
    assert weight_stats(by_offset) == weight_stats(inline)
    assert [t.data for t in constant_tensors(by_offset)] == [t.data for t in constant_tensors(inline)]


def test_a_buffer_said_to_lie_past_the_end_of_the_file_is_a_format_error(both: tuple[bytes, bytes]) -> None:
    _, by_offset = both
    with pytest.raises(ModelFormatError, match="past the file's end"):
        constant_tensors(by_offset[: len(by_offset) - 1])
