"""Model Explorer node-data files from stored cells: node ids as Model Explorer's TFLite adapter gives them, each
overlay's values and colours, what is written where, and what is left out and why. Stored fixtures only: the
run of tests/data/records/bundle-1.1.json with invented per-op figures, and the adapter's node ids for two real
models (tests/data/model_explorer/adapter_node_ids.json, checked against the adapter in tests/integration)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from device_runner.flatbuffer import read_graph
from edgebench.cli import invoke
from edgebench.report import model_explorer
from edgebench.store import Store, store_url
from edgebench_records import (
    DRIFT_CAP,
    CellResult,
    Culprit,
    CulpritMethod,
    LayerError,
    OpDrift,
    OpProfile,
    OpTime,
    Placement,
    RanOn,
    Status,
    StoredRun,
    read_bundle,
)
from tests.conftest import DATA, save
from tests.support.real_models import real_model

ADAPTER_IDS = DATA / "model_explorer" / "adapter_node_ids.json"
SIX = ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX"]
# Nodes 0-2 in the first partition, MEAN on plain kernels, 4-5 in the second: benchmark_model's rows for it.
PLACEMENT = Placement(SIX, [0, 0, 0, -1, 1, 1])
PROFILE = OpProfile(
    source="benchmark_model --enable_op_profiling",
    ops=[
        OpTime(6, "TfLiteXNNPackDelegate", 0.998, 70.3, RanOn.DELEGATE, "TfLiteXNNPackDelegate"),
        OpTime(None, "Convolution (NHWC, F32) IGEMM", 0.5, 35.0, RanOn.INSIDE_DELEGATE, "TfLiteXNNPackDelegate"),
        OpTime(3, "MEAN", 0.201, 14.2, RanOn.CPU),
        OpTime(7, "TfLiteXNNPackDelegate", 0.221, 15.6, RanOn.DELEGATE, "TfLiteXNNPackDelegate"),
    ],
)
CULPRIT = Culprit(
    method=CulpritMethod.EXPOSED_OUTPUTS,
    found=OpDrift(2, "CONV_2D", "net/conv2/Relu", 1.9),
    after=[OpDrift(3, "MEAN", "net/pool/Mean", 0.8), OpDrift(4, "FULLY_CONNECTED", "net/logits/BiasAdd", 0.01)],
    tolerance=0.045,
    samples=8,
    compared_ops=6,
)


def adapter_label(op: str) -> str:
    """The label the adapter shows on an op's node: its builtin name in lower case, a custom op's own name."""
    return op.removeprefix("CUSTOM:") if op.startswith("CUSTOM:") else op.lower()


@pytest.mark.parametrize("model", ["hey_jarvis", "selfie_segmentation"])
def test_each_ops_node_id_is_the_one_model_explorers_adapter_gives_it(model: str) -> None:
    adapter = json.loads(ADAPTER_IDS.read_text())[model]
    graph = read_graph(real_model(model).read_bytes())
    ours = {model_explorer.node_id(k): adapter_label(node.op.name) for k, node in enumerate(graph.nodes)}
    assert ours == adapter


def test_placement_names_each_nodes_partition_with_its_measured_time_or_plain_kernels() -> None:
    data = model_explorer.placement_overlay(PLACEMENT, "xnnpack", model_explorer.partition_times(PROFILE), "p")
    values = {k: v.value for k, v in data.results.items()}
    assert values == {
        "0": "xnnpack partition 0 (0.998 ms)",
        "1": "xnnpack partition 0 (0.998 ms)",
        "2": "xnnpack partition 0 (0.998 ms)",
        "3": "plain kernels",
        "4": "xnnpack partition 1 (0.221 ms)",
        "5": "xnnpack partition 1 (0.221 ms)",
    }
    colours = {k: v.bgColor for k, v in data.results.items()}
    assert colours["0"] == colours["2"] != colours["4"] and colours["3"] == model_explorer.PLAIN_COLOUR


def test_without_a_profile_a_partition_is_named_without_a_time() -> None:
    data = model_explorer.placement_overlay(PLACEMENT, "gpu", [], "p")
    assert data.results["0"].value == "gpu partition 0"


def test_op_time_is_each_plain_kernel_nodes_own_row_never_a_share_of_a_partition() -> None:
    data = model_explorer.op_time_overlay(PROFILE, "t")
    assert data is not None and {k: v.value for k, v in data.results.items()} == {"3": 0.201}
    assert [g.stop for g in data.gradient] == [0.0, 1.0]


def test_a_profile_whose_rows_name_no_node_gives_no_op_time() -> None:
    unnumbered = OpProfile("benchmark_model", [OpTime(None, "MEAN", 0.2, 100.0, RanOn.CPU)], "no node indices")
    assert model_explorer.op_time_overlay(unnumbered, "t") is None


def test_drift_shows_the_culprit_and_the_ops_after_it_against_the_searchs_tolerance() -> None:
    data = model_explorer.drift_overlay(CULPRIT, "d")
    assert data is not None and {k: v.value for k, v in data.results.items()} == {"2": 1.9, "3": 0.8, "4": 0.01}
    assert [t.value for t in data.thresholds] == [0.045, DRIFT_CAP]
    assert model_explorer.drift_overlay(Culprit(method="", note="the runner cannot search"), "d") is None


def test_layer_error_takes_op_indices_or_output_tensor_names() -> None:
    data = model_explorer.layer_error_overlay([(0, 0.5), ("net/dw1/Relu", 0.25)], "q")
    assert data is not None and {k: v.value for k, v in data.results.items()} == {"0": 0.5, "net/dw1/Relu": 0.25}
    assert model_explorer.layer_error_overlay([], "q") is None


def test_a_variants_layer_errors_go_in_a_file_of_its_own(tmp_path: Path) -> None:
    run = stored()
    path = model_explorer.write_layer_errors(run, tmp_path, "int8", [(4, 0.3), ("Identity", 0.1)])
    assert path == tmp_path / run.run_id / "int8.layer_error.json"
    written = json.loads(path.read_text())
    assert written["name"] == "int8 error each op adds · int8" and written["results"]["4"] == {"value": 0.3}
    assert model_explorer.write_layer_errors(run, tmp_path, "fp16", []) is None


def test_the_file_is_model_explorers_graph_node_data_with_no_empty_fields() -> None:
    data = model_explorer.placement_overlay(PLACEMENT, "xnnpack", [], "placement · x")
    loaded = json.loads(data.to_json())
    assert set(loaded) == {"name", "results"}  # no graph id: the viewer applies it to the graph on screen
    assert loaded["results"]["3"] == {"value": "plain kernels", "bgColor": model_explorer.PLAIN_COLOUR}


def stored() -> StoredRun:
    """The 1.1 bundle's run, its xnnpack cells given a placement and a profile and int8's a culprit search."""
    (run,) = read_bundle(DATA / "records" / "bundle-1.1.json")

    def figured(cell: CellResult) -> CellResult:
        if cell.delegate != "xnnpack":
            return cell
        searched = cell.variant == "int8"
        return dataclasses.replace(
            cell,
            placement=PLACEMENT,
            op_profile=PROFILE,
            status=Status.WRONG_OUTPUT if searched else cell.status,
            culprit=CULPRIT if searched else None,
        )

    return dataclasses.replace(run, cells=[figured(c) for c in run.cells])


def test_a_run_writes_each_quantised_variants_layer_errors_beside_its_cells(tmp_path: Path) -> None:
    run = stored()
    errors = [LayerError(0, "CONV_2D", "conv", 0.02, 0.02), LayerError(3, "ADD", "add", 0.4, 0.35)]
    variants = [dataclasses.replace(v, layer_errors=errors) if v.name == "int8" else v for v in run.manifest.variants]
    run = dataclasses.replace(run, manifest=dataclasses.replace(run.manifest, variants=variants))
    written = model_explorer.write_run(run, tmp_path)
    (layer_file,) = [p for p in written.files if p.name.endswith(".layer_error.json")]
    assert layer_file == tmp_path / run.run_id / "int8.layer_error.json"
    assert json.loads(layer_file.read_text())["results"] == {"0": {"value": 0.02}, "3": {"value": 0.35}}


@pytest.fixture
def history(tmp_path: Path) -> str:
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        save(store, stored(), "run-a", "pixel", "2026-11-24T10:00:00+00:00", {})
    return url


def test_the_report_writes_each_cells_overlays_and_says_what_it_could_not_draw(
    tmp_path: Path, history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "overlays"
    assert invoke(["report", "--store", history, "--model-explorer", str(folder), "--json"]) == 0
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.json"))
    assert written == [
        f"run-a/{variant}.xnnpack.interpreter.t1.{overlay}.json"
        for variant, overlays in (("fp32", ("op_time_ms", "placement")), ("int8", ("drift", "op_time_ms", "placement")))
        for overlay in overlays
    ]
    err = capsys.readouterr().err
    assert "wrote 5 Model Explorer node-data files under" in err and "--node_data_paths=" in err
    drift = json.loads((folder / "run-a" / "int8.xnnpack.interpreter.t1.drift.json").read_text())
    assert drift["name"] == "drift · int8 · xnnpack · interpreter · 1t" and drift["results"]["2"] == {"value": 1.9}


def test_cells_without_figures_are_named_with_the_reason() -> None:
    cell = next(c for c in stored().cells if c.variant == "fp32" and c.delegate == "xnnpack")
    bare = dataclasses.replace(
        cell,
        api="compiled",
        placement=None,
        op_profile=OpProfile("ai_edge_litert", note="per-op time: ai_edge_litert has no profiler"),
        culprit=Culprit(method="", note="the runner cannot search"),
    )
    overlays, notes = model_explorer.cell_overlays(bare)
    assert overlays == {}
    assert notes == [
        "fp32 · xnnpack · compiled · 1t: no placement overlay (placement unknown: ai_edge_litert's CompiledModel API "
        "lists no nodes)",
        "fp32 · xnnpack · compiled · 1t: no per-op time (per-op time: ai_edge_litert has no profiler)",
        "fp32 · xnnpack · compiled · 1t: no drift overlay (culprit: none named (the runner cannot search))",
    ]


def test_without_model_explorer_the_report_names_the_extra_in_one_line(
    tmp_path: Path, history: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_explorer, "PACKAGE", "model_explorer_not_installed")
    assert invoke(["report", "--store", history, "--model-explorer", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install 'edgebench[explorer]'" in err
    assert not (tmp_path / "o").exists()
