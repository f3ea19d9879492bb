"""The warning a variant carries when it loses accuracy against fp32, with the option that trades size back."""

from __future__ import annotations

import dataclasses

import numpy as np

from converter.source import Data
from converter.variants import Made
from device_runner import accuracy
from edgebench_records import VariantRecord
from edgebench_records.catalogue import Options

# A variant whose host top-1 falls more than this many points below fp32's carries a warning with what to try.
ACCURACY_WARNING_POINTS = 2.0
_REMEDIES = {  # by variant-name prefix, first match wins: the option that trades size for accuracy
    "pruned_2x4": "try more --epochs (2:4 is fixed at half the weights)",
    "pruned": "try more --epochs or a lower --sparsity",
    "clustered": "try more --epochs or more --clusters",
    "channel_pruned": "try more --epochs or a higher --channel-ratio",
    "low_rank": "try more --epochs or a higher --low-rank-energy",
    "qat": "try more --epochs",
    "pqat": "try more --epochs or a lower --sparsity",
    "cqat": "try more --epochs or more --clusters",
    "pcqat": "try more --epochs, a lower --sparsity or more --clusters",
    "distilled": "try more --epochs or a larger --student",
}


def accuracy_warning(record: VariantRecord, baseline: float | None) -> str | None:
    """The note for a variant that loses more than ``ACCURACY_WARNING_POINTS`` top-1 against ``baseline``."""
    if baseline is None or record.host_top1 is None or record.name == "fp32":
        return None
    drop = (record.host_top1 - baseline) * 100
    if drop >= -ACCURACY_WARNING_POINTS:
        return None
    remedy = next((r for prefix, r in _REMEDIES.items() if record.name.startswith(prefix)), None)
    if remedy is None:
        remedy = "try qat_int8 (its ranges are learned)" if "int8" in record.name else "check the conversion"
    return f"warning: {drop:+.1f} points top-1 vs fp32: {remedy}"


def flag_accuracy_losses(made: list[Made], baseline: float | None) -> list[Made]:
    flagged = []
    for m in made:
        warning = accuracy_warning(m.record, baseline)
        if warning:
            m = dataclasses.replace(m, record=dataclasses.replace(m.record, notes=[*m.record.notes, warning]))
        flagged.append(m)
    return flagged


def baseline_top1(made: list[Made], reference: list[np.ndarray] | None, data: Data, options: Options) -> float | None:
    """fp32's host top-1 when it was made, else the source model's own on the validation labels."""
    fp32 = next((m.record for m in made if m.record.name == "fp32" and m.record.host_top1 is not None), None)
    if fp32 is not None:
        return fp32.host_top1
    if reference is None or data.y_val is None:
        return None
    return accuracy.score(reference, data.y_val, None, options.task).top1
