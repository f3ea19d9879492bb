"""A sparse constant's dense array, read from TFLite's SparsityParameters as its converter writes unstructured
sparsity (the tensor's own dimension order, dense outer dimensions, a CSR inner one): what full int8 quantises
as weights instead of the DENSIFY output it would take for an activation."""

from __future__ import annotations

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from converter.tflite_quantize import _densified


def _dimension(dense_size: int = 0, segments: list[int] | None = None, indices: list[int] | None = None) -> object:
    dim = schema.DimensionMetadataT()
    if segments is None:
        dim.format, dim.denseSize = schema.DimensionType.DENSE, dense_size
        return dim
    dim.format = schema.DimensionType.SPARSE_CSR
    dim.arraySegments, dim.arrayIndices = schema.Uint8VectorT(), schema.Uint8VectorT()
    dim.arraySegments.values, dim.arrayIndices.values = segments, indices
    return dim


def test_a_csr_constant_is_densified_in_place_and_other_layouts_are_left_alone() -> None:
    sparsity = schema.SparsityParametersT()
    sparsity.traversalOrder = [0, 1]
    # rows 0..2 of 4 columns: row 0 holds columns 1 and 3, row 1 nothing, row 2 column 0
    sparsity.dimMetadata = [_dimension(3), _dimension(segments=[0, 2, 2, 3], indices=[1, 3, 0])]
    values = np.array([1.5, -2.0, 4.0], dtype=np.float16)
    dense = _densified([3, 4], sparsity, values, schema)
    assert dense is not None and dense.dtype == np.float16
    assert dense.tolist() == [[0, 1.5, 0, -2.0], [0, 0, 0, 0], [4.0, 0, 0, 0]]

    sparsity.traversalOrder = [1, 0]  # another order: not this layout, left sparse
    assert _densified([3, 4], sparsity, values, schema) is None
