"""The report's op-type breakdown per variant and its placement view: what each variant is made of (its
flatbuffer's figures), where the op time goes where a runner profiled ops, and per cell the nodes delegated,
on plain kernels by type, and the partitions; a runtime that gives no placement or profile is named."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.report import html, ops
from edgebench.store import Store, store_url
from edgebench_records import CellResult, OpProfile, OpTime, RanOn, StoredRun
from tests.conftest import save


def cell(run: StoredRun, variant: str, delegate: str) -> CellResult:
    return next(c for c in run.cells if c.variant == variant and c.delegate == delegate)


def on_phone(run: StoredRun, profile: OpProfile) -> StoredRun:
    """The run as benchmark_model reports it: a per-op profile, and no per-node placement for int8 × xnnpack."""
    assert run.cells[0].device is not None
    phone = dataclasses.replace(run.cells[0].device, runtime="benchmark_model")

    def change(c: CellResult) -> CellResult:
        unplaced = c.variant == "int8" and c.delegate == "xnnpack"
        return dataclasses.replace(c, device=phone, op_profile=profile, placement=None if unplaced else c.placement)

    return dataclasses.replace(run, cells=[change(c) for c in run.cells])


PROFILE = OpProfile(
    source="benchmark_model --enable_op_profiling",
    ops=[
        OpTime(16, "TfLiteXNNPackDelegate", 0.02, 80.0, RanOn.DELEGATE, "TfLiteXNNPackDelegate"),
        OpTime(None, "Convolution (NHWC, QC8) IGEMM", 0.01, 55.0, RanOn.INSIDE_DELEGATE, "TfLiteXNNPackDelegate"),
        OpTime(15, "SOFTMAX", 0.005, 20.0, RanOn.CPU),
    ],
)


def test_op_types_per_variant_are_each_variants_own_figures(measured: StoredRun) -> None:
    (view,) = ops.views([measured])
    for variant in measured.manifest.variants:
        assert variant.figures is not None
        assert {op: n[variant.name] for op, n in view.counts.items() if variant.name in n} == variant.figures.ops
    headers, rows = ops.count_table(view)
    assert headers == ["op type", "fp32 nodes", "int8 nodes"] and rows[-1][0] == "all nodes"
    assert rows[-1][1:] == [str(sum(v.figures.ops.values())) for v in measured.manifest.variants if v.figures]


def test_placement_names_the_ops_that_fell_off_the_delegate_by_type(measured: StoredRun) -> None:
    """int8 under XNNPACK leaves its int8 SOFTMAX on plain kernels: one partition, the rest delegated."""
    found = ops.placement_of(cell(measured, "int8", "xnnpack"))
    placement = cell(measured, "int8", "xnnpack").placement
    assert placement is not None
    assert found.fell_off == dict(Counter(placement.on_plain_kernels())) == {"SOFTMAX": 1}
    assert (found.delegated, found.plain, found.partitions) == (len(placement.node_ops) - 1, 1, 1)


def test_plain_kernels_asked_for_are_not_ops_that_fell_off(measured: StoredRun) -> None:
    found = ops.placement_of(cell(measured, "fp32", "cpu"))
    assert found.fell_off == {} and found.delegated == 0 and found.note == "no delegate asked for"


def test_a_cell_without_placement_says_unknown_naming_its_runtime_and_keeps_its_counts(measured: StoredRun) -> None:
    unplaced = cell(on_phone(measured, PROFILE), "int8", "xnnpack")
    found = ops.placement_of(unplaced)
    assert found.partitions is None and found.fell_off == {}
    assert found.note.startswith("placement unknown: benchmark_model")
    assert unplaced.coverage and (found.delegated, found.plain) == (
        unplaced.coverage.delegated_nodes,
        unplaced.coverage.total_nodes - unplaced.coverage.delegated_nodes,
    )


def test_op_time_shares_come_from_whole_nodes_not_the_ops_inside_a_partition(measured: StoredRun) -> None:
    (view,) = ops.views([on_phone(measured, PROFILE)])
    assert view.shares["TfLiteXNNPackDelegate"]["int8 · xnnpack · interpreter · 1t"] == 80.0
    assert view.shares["SOFTMAX"]["int8 · xnnpack · interpreter · 1t"] == 20.0
    assert "Convolution (NHWC, QC8) IGEMM" not in view.shares


def test_python_runtimes_say_per_op_time_is_not_available_rather_than_show_a_guess(measured: StoredRun) -> None:
    (view,) = ops.views([measured])
    assert view.shares == {} and view.profiled == []
    assert view.profile_notes == ["per-op time is not available on ai_edge_litert's Python API"]


def test_a_profile_with_no_rows_passes_on_its_reason(measured: StoredRun) -> None:
    empty = OpProfile(source="benchmark_model --enable_op_profiling", note="the profiled call failed")
    (view,) = ops.views([on_phone(measured, empty)])
    assert view.profile_notes == ["the profiled call failed"] and view.profiled == []


@pytest.fixture
def phone_store(tmp_path: Path, measured: StoredRun) -> str:
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        save(store, on_phone(measured, PROFILE), "phone", "pixel", "2026-11-24T10:00:00+00:00", {})
    return url


def test_terminal_markdown_and_json_carry_the_breakdown_and_placement(
    capsys: pytest.CaptureFixture[str], phone_store: str
) -> None:
    assert invoke(["report", "--store", phone_store]) == 0
    out = capsys.readouterr().out
    assert "op types per variant" in out and "share of op time per op type" in out and "placement ·" in out
    assert invoke(["report", "--store", phone_store, "--markdown", "-"]) == 0
    markdown = capsys.readouterr().out
    assert "| op type | fp32 nodes | int8 nodes |" in markdown and "| int8 · xnnpack · interpreter · 1t | " in markdown
    assert invoke(["report", "--store", phone_store, "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["ops"]
    assert run["op_time_percent"]["SOFTMAX"]["fp32 · xnnpack · interpreter · 1t"] == 20.0
    unplaced = next(p for p in run["placement"] if p["cell"] == "int8 · xnnpack · interpreter · 1t")
    assert unplaced["partitions"] is None and unplaced["note"].startswith("placement unknown: benchmark_model")


def test_the_html_page_holds_the_same_tables(measured: StoredRun) -> None:
    found = ops.views([on_phone(measured, PROFILE)])
    page = html.render([], [], [], found)
    assert "What the variants are made of, and where they ran" in page
    assert page.count("<table class='ops'>") == 3 and "fp32 nodes" in page and "TfLiteXNNPackDelegate" in page
