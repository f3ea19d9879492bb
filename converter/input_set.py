"""The input set a plan ships to the device: the validation inputs, labels and host references, in the made
variants' input and output order, with each variant's outputs on the host's reference kernels."""

from __future__ import annotations

import numpy as np

from converter.ports import Layout
from converter.source import Data, SourceModel
from converter.variants import Made
from device_runner.inputs import InputSet


def input_set(
    data: Data, reference: list[np.ndarray] | None, made: list[Made], source: SourceModel
) -> tuple[InputSet, dict[str, list[np.ndarray]]]:
    """The validation inputs and host references in the made variants' order (they share one: one
    converter, one signature), and each variant's reference-kernel outputs."""
    ok = [m for m in made if m.layout is not None]
    if ok and ok[0].layout is not None:
        layout, outputs = ok[0].layout, ok[0].record.outputs
    else:
        layout, outputs = Layout(list(range(len(source.inputs))), list(range(len(source.outputs)))), source.outputs
    references = None if reference is None else layout.arrange(reference, outputs)
    inputs = InputSet(layout.feed(data.val), data.y_val, references, synthetic=data.synthetic)
    kernels = {m.record.name: m.kernels for m in ok if m.kernels is not None}
    return inputs, kernels
