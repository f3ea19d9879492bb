"""Figures that decide which variant ships, read from the .tflite itself (after BatchNorm folding
and quantisation, so they describe what the app downloads)."""

from __future__ import annotations

import gzip

import numpy as np

from device_runner.flatbuffer import ConstantTensor, constant_tensors
from edgebench_records import WeightStats

WEIGHT_DTYPES = {"float32", "float16", "int8", "uint8"}


def gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def _stats(tensor: ConstantTensor) -> WeightStats:
    values = np.frombuffer(tensor.data, dtype=np.dtype(tensor.dtype))
    dense = int(np.prod(tensor.shape))
    if tensor.sparse:  # only kept values are stored; the rest are zeros
        zero_fraction = 1.0 - float(np.count_nonzero(values)) / dense
        per_channel = int(np.unique(values).size)
    else:
        zero_fraction = float(np.mean(values == 0))
        rows = values.reshape(tensor.shape[0], -1)
        per_channel = max(int(np.unique(row).size) for row in rows)
    return WeightStats(tensor.name, tensor.shape, tensor.dtype, zero_fraction, int(np.unique(values).size), per_channel)


def weight_stats(flatbuffer: bytes) -> list[WeightStats]:
    """Kernels only: constant tensors of rank >= 2 in a weight dtype (biases and shapes are left out)."""
    return [_stats(t) for t in constant_tensors(flatbuffer) if len(t.shape) >= 2 and t.dtype in WEIGHT_DTYPES]


def overall_sparsity(stats: list[WeightStats]) -> float | None:
    sizes = [int(np.prod(s.shape)) for s in stats]
    if not sizes:
        return None
    return sum(s.zero_fraction * n for s, n in zip(stats, sizes, strict=True)) / sum(sizes)
