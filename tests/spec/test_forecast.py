"""The placement forecast: each op's key (type, version, dtypes, shapes' class), the most specific key the
history has seen it under, a tie read as "falls off", no history said as such, leave-one-model-out scoring, and
`edgebench forecast` beside the measured placement, never stored. Stored fixtures only: invented graphs, the
run of tests/data/records/bundle-1.1.json given placements, and one real model file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from device_runner.coverage import node_keys
from device_runner.flatbuffer import Graph, Node, OpCode, read_graph
from edgebench import forecast
from edgebench.cli import invoke
from edgebench.forecast import Fate, KeySource, Level, OpKey, Placed
from edgebench.report import model_explorer
from edgebench.store import Store, store_url
from edgebench_records import Placement, StoredRun, TensorInfo, read_bundle, sha256_file
from tests.conftest import DATA, save
from tests.support.real_models import real_model


def tensor(dtype: str, shape: list[int], signature: list[int] | None = None) -> TensorInfo:
    return TensorInfo("t", shape, dtype, 0.0, 0, signature or [])


def one_node(op: str, version: int, ins: list[TensorInfo], outs: list[TensorInfo], constant: list[bool]) -> Graph:
    return Graph([Node(OpCode(op, version), list(ins), outs, constant)], [*ins, *outs], [*constant, False])


def test_an_ops_key_holds_its_dtypes_and_the_ranks_of_its_data_tensors() -> None:
    graph = one_node(
        "FULLY_CONNECTED",
        9,
        [tensor("int8", [1, 64]), tensor("int8", [10, 64]), tensor("int32", [10])],
        [tensor("int8", [1, 10])],
        [False, True, True],
    )
    assert forecast.key_of(graph, 0) == OpKey("FULLY_CONNECTED", 9, "int8,int8,int32->int8", "2->2")


def test_a_dimension_fixed_only_when_fed_makes_the_shape_class_dynamic() -> None:
    graph = one_node("RESHAPE", 1, [tensor("float32", [1, 1], [-1, -1])], [tensor("float32", [1])], [False])
    assert forecast.key_of(graph, 0).shapes == "2->1 dynamic"


def test_a_cell_stored_without_node_keys_gives_an_ops_version_only_where_the_model_has_one() -> None:
    (run,) = read_bundle(DATA / "records" / "bundle-1.1.json")
    cell = dataclasses.replace(
        run.cells[0],
        placement=Placement(["ADD", "CONV_2D", "CONV_2D"], [0, 0, -1]),
        model_ops=["ADD v1", "CONV_2D v3", "CONV_2D v5"],
    )
    assert forecast.stored_keys(cell) is None
    assert forecast.version_keys(cell) == [OpKey("ADD", 1), OpKey("CONV_2D"), OpKey("CONV_2D")]


def test_the_keys_stored_with_a_placement_are_its_full_keys_read_back() -> None:
    (run,) = read_bundle(DATA / "records" / "bundle-1.1.json")
    keys = ["v1 float32,float32->float32 4,4->4", "v3 float32,float32,float32->float32 4->4 dynamic"]
    cell = dataclasses.replace(run.cells[1], placement=Placement(["ADD", "CONV_2D"], [0, -1], keys))
    stored = forecast.stored_keys(cell)
    add = OpKey("ADD", 1, "float32,float32->float32", "4,4->4")
    assert stored == [add, OpKey("CONV_2D", 3, "float32,float32,float32->float32", "4->4 dynamic")]
    found = forecast.placed("m", cell, None)
    assert found is not None and found.keys == stored and found.source is KeySource.STORED
    # a store edited by hand, or keys not one per node: read as none stored, never as a wrong key
    damaged = dataclasses.replace(cell, placement=Placement(["ADD", "CONV_2D"], [0, -1], ["v1 float32", keys[1]]))
    assert forecast.stored_keys(damaged) is None
    short = dataclasses.replace(cell, placement=Placement(["ADD", "CONV_2D"], [0, -1], keys[:1]))
    assert forecast.stored_keys(short) is None
    found = forecast.placed("m", short, None)
    assert found is not None and found.source is KeySource.CELL and found.keys == forecast.version_keys(short)


FLOAT = OpKey("RESHAPE", 1, "float32,int32->float32", "4->2")
BOOL = OpKey("RESHAPE", 1, "bool,int32->bool", "4->2")
DYNAMIC = OpKey("RESHAPE", 1, "float32,int32->float32", "4->2 dynamic")


def placed(model: str, keys: list[OpKey], taken: list[bool], delegate: str = "xnnpack") -> Placed:
    return Placed(model, "given", delegate, keys, taken, KeySource.STORED)


def test_the_most_specific_key_seen_decides_and_says_so() -> None:
    history = forecast.history_of([placed("a", [FLOAT, BOOL, FLOAT], [True, False, True])])
    float_, bool_ = forecast.predict(history, "xnnpack", [FLOAT, BOOL])
    assert (float_.fate, float_.level, float_.delegated, float_.fell_off) == (Fate.DELEGATED, Level.FULL, 2, 0)
    assert (bool_.fate, bool_.level) == (Fate.FELL_OFF, Level.FULL)
    assert bool_.basis == "op+version+dtypes+shapes: 0 delegated, 1 fell off"


def test_an_unseen_key_backs_off_to_fewer_fields_and_a_tie_is_falls_off() -> None:
    history = forecast.history_of([placed("a", [FLOAT, BOOL], [True, False])])
    (dynamic,) = forecast.predict(history, "xnnpack", [DYNAMIC])  # its dtypes seen, not with these shapes
    assert (dynamic.fate, dynamic.level) == (Fate.DELEGATED, Level.DTYPES)
    (bare,) = forecast.predict(history, "xnnpack", [OpKey("RESHAPE", 1)])  # op+version: one each way
    assert (bare.fate, bare.level, bare.delegated, bare.fell_off) == (Fate.FELL_OFF, Level.VERSION, 1, 1)


def test_an_op_never_seen_on_the_delegate_is_no_history_not_a_guess() -> None:
    history = forecast.history_of([placed("a", [FLOAT], [True])])
    (other,) = forecast.predict(history, "xnnpack", [OpKey("GATHER", 1)])
    (elsewhere,) = forecast.predict(history, "gpu", [FLOAT])
    assert other.fate is elsewhere.fate is Fate.NO_HISTORY and other.basis == "never seen on this device"


def test_leave_one_model_out_forecasts_each_model_from_the_others_alone() -> None:
    found = [
        placed("a", [FLOAT, BOOL], [True, False]),
        placed("b", [FLOAT, BOOL], [True, False]),
        placed("c", [FLOAT, OpKey("GATHER", 1, "x", "y")], [True, True]),
    ]
    (score,) = forecast.leave_one_model_out(found).values()
    # a and b: each op seen in the other; c: RESHAPE seen in a and b, GATHER in no other model
    assert (score.nodes, score.covered, score.right) == (6, 5, 5)
    assert (score.fell_off, score.fell_off_caught, score.forecast_off) == (2, 2, 2)
    (stripped,) = forecast.leave_one_model_out(found, full_keys=False).values()
    # op+version alone: a and b see RESHAPE v1 delegated 2 to 1 (their bool one wrong), c a 2-2 tie ("falls off")
    assert (stripped.covered, stripped.right) == (5, 2)


def test_a_custom_op_is_named_as_the_flatbuffer_names_it_whatever_the_runtime_calls_it() -> None:
    (run,) = read_bundle(DATA / "records" / "bundle-1.1.json")
    cell = dataclasses.replace(
        run.cells[1],
        placement=Placement(["ADD", "Convolution2DTransposeBias"], [0, 0]),
        model_ops=["ADD v1", "CUSTOM:Convolution2DTransposeBias v1"],
    )
    assert forecast.version_keys(cell) == [OpKey("ADD", 1), OpKey("CUSTOM:Convolution2DTransposeBias", 1)]
    one = [tensor("float32", [1])]
    ops = [OpCode("ADD", 1), OpCode("CUSTOM:Convolution2DTransposeBias", 1)]
    graph = Graph([Node(op, list(one), one, [False]) for op in ops], one, [False])
    found = forecast.placed("m", cell, graph)
    assert found is not None and found.keys == forecast.keys_of(graph)  # the variant's own graph: its full keys
    assert found.source is KeySource.FILE


def test_a_graph_that_is_not_the_cells_variant_is_not_used_for_its_keys() -> None:
    (run,) = read_bundle(DATA / "records" / "bundle-1.1.json")
    cell = dataclasses.replace(run.cells[1], placement=Placement(["RESHAPE"], [0]), model_ops=["RESHAPE v1"])
    graph = one_node("ADD", 1, [tensor("float32", [1])], [tensor("float32", [1])], [False])
    found = forecast.placed("m", cell, graph)
    assert found is not None and found.keys == [OpKey("RESHAPE", 1)]
    assert forecast.placed("m", dataclasses.replace(cell, delegate="cpu"), None) is None  # nothing can fall off


SHOWN = "hey_jarvis"


def history_run(model: Path, keyed: bool = False) -> StoredRun:
    """The 1.1 bundle's run as if of ``model``: its xnnpack cells placed as LiteRT placed the model's nodes
    (all but the last three: GREATER_EQUAL on a bool, RESHAPE of it, IF), its variants' files the model; each
    node stored with its key when ``keyed`` (as runners write result 1.8), else without (as before)."""
    (run,) = read_bundle(DATA / "records" / "bundle-1.1.json")
    graph = read_graph(model.read_bytes())
    ops = [n.op.name for n in graph.nodes]
    placement = Placement(ops, [0] * (len(ops) - 3) + [-1] * 3, node_keys(graph) if keyed else [])
    cells = [dataclasses.replace(c, placement=placement, model_ops=[f"{op} v1" for op in set(ops)]) for c in run.cells]
    variants = [dataclasses.replace(v, sha256=sha256_file(model)) for v in run.manifest.variants]
    manifest = dataclasses.replace(run.manifest, model_name=model.stem, variants=variants)
    return dataclasses.replace(run, cells=cells, manifest=manifest)


def stored_history(tmp_path: Path, keyed: bool) -> str:
    url = store_url(str(tmp_path / f"h-{keyed}.sqlite"))
    with Store(url) as store:
        save(store, history_run(real_model(SHOWN), keyed), "run-a", "pixel", "2026-11-24T10:00:00+00:00", {})
    return url


@pytest.fixture
def history(tmp_path: Path) -> str:
    """A history stored before result 1.8: no node keys."""
    return stored_history(tmp_path, keyed=False)


def test_the_command_shows_the_forecast_beside_the_measured_placement(
    tmp_path: Path, history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model = str(real_model(SHOWN))
    args = ["forecast", "--device", "pixel", "--model", model, "--store", history, "--workdir", str(tmp_path)]
    assert invoke([*args, "--json"]) == 0
    (xnnpack,) = json.loads(capsys.readouterr().out)["delegates"]  # cpu cells: nothing to forecast
    off = [op for op in xnnpack["ops"] if op["predicted"] == "falls off"]
    # Without the variants' files, RESHAPE is seen both ways at op+version: a tie, so both RESHAPEs fall off.
    assert [(op["op"], op["measured"]) for op in off] == [
        ("RESHAPE", "delegated"),
        ("GREATER_EQUAL", "fell off"),
        ("RESHAPE", "fell off"),
        ("IF", "fell off"),
    ]
    assert xnnpack["measured_run"] == "run-a" and all(op["level"] == "op+version" for op in xnnpack["ops"])
    assert invoke(args) == 0
    out = capsys.readouterr().out
    assert "xnnpack on pixel: predicted 4 of 26 ops fall off, 22 delegated, 0 never seen" in out
    assert "measured (run run-a): 3 fell off, the forecast right on 25 ops" in out
    assert "falls off (predicted)" in out


def test_the_keys_stored_with_each_placement_give_the_full_key_with_no_variant_file_anywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = stored_history(tmp_path, keyed=True)
    nowhere = tmp_path / "empty-workdir"  # no variant file to read a key from: the store alone
    args = ["forecast", "--device", "pixel", "--model", str(real_model(SHOWN)), "--store", history]
    assert invoke([*args, "--workdir", str(nowhere), "--json"]) == 0
    (xnnpack,) = json.loads(capsys.readouterr().out)["delegates"]
    assert all(op["level"] == "op+version+dtypes+shapes" for op in xnnpack["ops"])
    # the RESHAPE of a bool told apart from the float ones, which the op and its version alone could not do
    off = [(op["op"], op["measured"]) for op in xnnpack["ops"] if op["predicted"] == "falls off"]
    assert off == [("GREATER_EQUAL", "fell off"), ("RESHAPE", "fell off"), ("IF", "fell off")]


def test_a_device_with_no_placement_stored_is_one_line_naming_it(
    tmp_path: Path, history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["forecast", "--model", str(real_model(SHOWN)), "--store", history, "--workdir", str(tmp_path)]
    assert invoke([*args, "--device", "pi4"]) == 2
    assert "--device pi4: no stored cell of it" in capsys.readouterr().err
    assert invoke([*args, "--device", "pixel", "--delegates", "gpu"]) == 2
    assert "--delegates gpu: no placement on it in pixel's history (it has xnnpack)" in capsys.readouterr().err


def test_a_file_that_is_no_litert_model_is_one_line_naming_it(
    tmp_path: Path, history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "notes.tflite"
    junk.write_bytes(b"these are notes, not a model")
    assert invoke(["forecast", "--device", "pixel", "--model", str(junk), "--store", history]) == 2
    assert f"--model {junk}: not a LiteRT model" in capsys.readouterr().err


def test_the_forecast_goes_on_the_graph_as_predicted_beside_the_measured_place(
    tmp_path: Path, history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model = real_model(SHOWN)
    folder = tmp_path / "overlays"
    args = ["forecast", "--device", "pixel", "--model", str(model), "--store", history, "--workdir", str(tmp_path)]
    assert invoke([*args, "--model-explorer", str(folder)]) == 0
    assert f"wrote 1 Model Explorer node-data files under {folder}" in capsys.readouterr().err
    written = json.loads((folder / f"{model.stem}.xnnpack.forecast.json").read_text())
    assert written["name"] == "forecast · xnnpack on pixel"
    assert written["results"]["0"] == {
        "value": "falls off (predicted); measured delegated",  # RESHAPE: a tie at op+version, read falls off
        "bgColor": model_explorer.PLAIN_COLOUR,
    }
    assert written["results"]["1"]["value"] == "delegated (predicted); measured delegated"
    assert len(written["results"]) == len(read_graph(model.read_bytes()).nodes)
