"""A smaller copy of the bundled example's data set, for conversions whose specs check what a technique makes,
not how well it learns: fine-tuning time grows with the training samples, and CI time with fine-tuning."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgebench.example import EXAMPLE_DATA

TRAIN_PER_CLASS = 48  # 480 of the 1,437 training samples; every class kept, so the fine-tuned models stay usable


def small_digits(folder: Path) -> Path:
    """The example's validation split whole (the host's accuracy figures stay comparable) and the first
    ``TRAIN_PER_CLASS`` training samples of each class, written once to ``folder``."""
    path = folder / "digits_small.npz"
    if path.is_file():
        return path
    with np.load(EXAMPLE_DATA) as data:
        labels = data["y_train"]
        keep = np.sort(np.concatenate([np.flatnonzero(labels == c)[:TRAIN_PER_CLASS] for c in np.unique(labels)]))
        arrays = {"x_train": data["x_train"][keep], "y_train": labels[keep]}
        arrays |= {"x_val": data["x_val"], "y_val": data["y_val"]}
    partial = folder / ".digits_small.npz.part"
    with partial.open("wb") as out:
        np.savez(out, **arrays)
    partial.replace(path)  # a worker that reads it never sees half a file
    return path
