"""What the converter offers, declared without importing it: the variants it can make, which of them
fine-tune, the options and the pixel scalings. Standard library only, so the CLI can list them (in
``--help`` and in its checks) without loading numpy or TensorFlow; ``converter/recipes.py`` and
``converter/source.py`` implement exactly these names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

# In the order `edgebench convert` makes and lists them.
VARIANTS = (
    "fp32",
    "fp16",
    "dynamic_int8",
    "int8",
    "pruned",
    "pruned_int8",
    "pruned_2x4",
    "clustered",
    "clustered_int8",
    "qat_int8",
)
FINE_TUNED = frozenset({"pruned", "pruned_int8", "pruned_2x4", "clustered", "clustered_int8", "qat_int8"})
NORMALISATIONS = ("raw", "unit", "symmetric")  # image folders: 0..255, 0..1, -1..1


@dataclass(frozen=True)
class Options:
    sparsity: float = 0.5
    clusters: int = 16
    epochs: int = 3
    learning_rate: float = 1e-4
    batch_size: int = 32
    float_io: bool = False  # full-integer variants keep float32 inputs/outputs
    keep_sparsity: bool = False  # pruned_int8 stored with EXPERIMENTAL_SPARSITY
    seed: int = 0
    normalize: str = "raw"  # image folders: raw 0..255, unit 0..1, symmetric -1..1
    val_split: float = 0.2  # image folders: share of each class kept for validation

    def as_flags(self) -> list[str]:
        """The converter process's command-line flags for these options."""
        flags = [
            f"--{name.replace('_', '-')}={value}"
            for name, value in dataclasses.asdict(self).items()
            if not isinstance(value, bool)
        ]
        return flags + [
            f"--{name.replace('_', '-')}" for name, value in dataclasses.asdict(self).items() if value is True
        ]
