"""Report views for the people who read them: fp32 first, devices side by side, cells to a table file,
recommendations that read as sentences."""

from __future__ import annotations

from edgebench.report.analysis import Constraints, device_matrix, recommend
from tests.spec.test_report import faster, row


def test_without_constraints_the_recommendation_says_so_in_a_sentence() -> None:
    rows = [
        row(variant="fp32"),
        row(variant="int8", p50_ms=4.0, size_kb=1000.0, top1=0.975, top1_drop_points=1.5, speedup=faster(2.5)),
        row(variant="fp16", p50_ms=8.0, size_kb=2000.0, speedup=faster(1.25)),
    ]
    (rec,) = recommend(rows, Constraints())
    assert rec.reason == (
        "int8 × xnnpack (interpreter, 1 thr) — fastest of 3 cells; no constraints given. "
        "p50 4.000 ms (2.50× fp32, 95 % CI 2.40–2.60), 1000.0 KB, top-1 97.5 % (-1.5 pts)."
    )


def test_the_matrix_takes_each_variants_fastest_configuration_and_marks_each_devices_best() -> None:
    rows = [
        row(device="pi4", variant="fp32", delegate="xnnpack", p50_ms=10.0),
        row(device="pi4", variant="fp32", delegate="cpu", p50_ms=30.0),
        row(device="pi4", variant="int8", delegate="xnnpack", p50_ms=4.0),
        row(device="pixel", variant="fp32", delegate="gpu", p50_ms=2.0),
        row(device="pixel", variant="int8", delegate="xnnpack", p50_ms=3.0),
        row(device="pixel", variant="int8", delegate="nnapi", status="delegate_failed", p50_ms=None),
    ]
    matrix = device_matrix(rows)
    assert matrix is not None and matrix.devices == ["pi4", "pixel"] and matrix.variants == ["fp32", "int8"]
    picked = {key: (e.row.delegate, e.best_on_device) for key, e in matrix.entries.items()}
    assert picked == {
        ("fp32", "pi4"): ("xnnpack", False),
        ("int8", "pi4"): ("xnnpack", True),
        ("fp32", "pixel"): ("gpu", True),
        ("int8", "pixel"): ("xnnpack", False),
    }
    assert device_matrix([r for r in rows if r.device == "pi4"]) is None  # one device: nothing to set side by side
