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
    "weight_int8",
    "int8",
    "pruned",
    "pruned_int8",
    "pruned_2x4",
    "clustered",
    "clustered_int8",
    "qat_int8",
    "pqat_int8",
    "cqat_int8",
    "pruned_clustered_int8",
    "pcqat_int8",
    "channel_pruned",
    "channel_pruned_int8",
    "low_rank",
    "distilled",
    "distilled_int8",
)
POST_TRAINING = frozenset({"fp32", "fp16", "dynamic_int8", "weight_int8", "int8"})  # made with no training
FINE_TUNED = frozenset(VARIANTS) - POST_TRAINING
NORMALISATIONS = ("raw", "unit", "symmetric")  # image folders: 0..255, 0..1, -1..1
# What the outputs mean, which decides how labels are scored: "auto" guesses from the outputs' shapes;
# "other" (detection boxes, masks, embeddings…) is compared with the fp32 reference only.
TASKS = ("auto", "classification", "regression", "other")
# Fine-tuning losses: "auto" takes the model's own compiled loss when it was saved with one, else one that
# fits its outputs (class ids: sparse categorical cross-entropy; anything else: mean squared error).
LOSSES = ("auto", "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy", "mse", "mae")


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
    task: str = "auto"  # one of TASKS
    loss: str = "auto"  # one of LOSSES
    input_shapes: tuple[str, ...] = ()  # "NAME:1x224x224x3" for each input with a dynamic dimension
    synthetic_samples: int = 32  # inputs generated from the model's input tensors when no data is given
    channel_ratio: float = 0.55  # channel_pruned: share of each prunable group's channels (filters) kept
    stream_ratio: float = 1.0  # channel_pruned: share kept of a residual stream's channels (tied across its Adds)
    distill_temperature: float = 4.0  # channel_pruned, distilled: softening of the teacher's (the source's) outputs
    distill_alpha: float = 0.5  # channel_pruned, distilled: weight of the hard-label loss (1 - alpha: the teacher's)
    low_rank_energy: float = 0.9  # low_rank: share of the singular values' squared sum each factorisation keeps
    student: str = ""  # distilled: a Keras model file taking and giving the source's shapes; "": not applicable

    def as_flags(self) -> list[str]:
        """The converter process's command-line flags for these options (a tuple: its flag once per entry,
        in the singular: ``input_shapes`` -> ``--input-shape=…``)."""
        flags = []
        for name, value in dataclasses.asdict(self).items():
            flag = "--" + name.replace("_", "-")
            if value is True:
                flags.append(flag)
            elif isinstance(value, tuple | list):
                flags += [f"{flag.removesuffix('s')}={entry}" for entry in value]
            elif not isinstance(value, bool):
                flags.append(f"{flag}={value}")
        return flags
