"""`edgebench report --model-explorer DIR` against Model Explorer itself: its TFLite adapter ids every real model's
op nodes as edgebench does, its own node_data_builder classes load every file written, and its local web UI
(served on 127.0.0.1, nothing fetched from outside) shows a placement overlay on the real model's graph."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from device_runner.flatbuffer import read_graph
from edgebench.cli import invoke
from edgebench.report import model_explorer
from edgebench.store import Store, store_url
from edgebench_records import Placement
from tests.conftest import ROOT, require, save
from tests.spec.test_model_explorer import ADAPTER_IDS, adapter_label, stored
from tests.support.chromium import chromium_command
from tests.support.devtools import devtools
from tests.support.real_models import real_model
from tests.support.sshd import free_port

sys.path.insert(0, str(ROOT / "scripts"))
from fetch_test_models import MODELS

pytest.importorskip("model_explorer", reason="the [explorer] extra: pip install 'edgebench[explorer]'")
from model_explorer import node_data_builder  # type: ignore[import-untyped]

SHOWN = "hey_jarvis"  # 26 ops, and an IF: the first graph is still the main subgraph
WAIT_S = 180  # the page converts the model on the server, lays the graph out and draws it on the CPU


def adapter_graph(model: Path) -> dict[str, object]:
    """The first graph of Model Explorer's TFLite adapter's output for ``model``, as its server sends it."""
    import ai_edge_model_explorer_adapter as adapter  # type: ignore[import-untyped]

    collections = json.loads(adapter.ConvertFlatbufferDirectlyToJson(adapter.VisualizeConfig(), str(model)))
    graph: dict[str, object] = collections[0]["subgraphs"][0]
    return graph


def op_labels(graph: dict[str, object]) -> dict[str, str]:
    nodes = graph["nodes"]
    assert isinstance(nodes, list)
    return {n["id"]: n["label"] for n in nodes if n["label"] not in ("GraphInputs", "GraphOutputs", "pseudo_const")}


def test_the_stored_node_ids_are_the_adapters_own() -> None:
    stored_ids = json.loads(ADAPTER_IDS.read_text())
    for name in (k for k in stored_ids if not k.startswith("_")):
        assert op_labels(adapter_graph(real_model(name))) == stored_ids[name], name


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_adapter_ids_each_op_of_every_real_model_by_its_index(name: str) -> None:
    graph = read_graph(real_model(name).read_bytes())
    ours = {model_explorer.node_id(k): adapter_label(node.op.name) for k, node in enumerate(graph.nodes)}
    assert op_labels(adapter_graph(real_model(name))) == ours


def placed_on(model: Path) -> Placement:
    """The model's nodes, the first half in one partition and the rest on plain kernels."""
    ops = [node.op.name for node in read_graph(model.read_bytes()).nodes]
    return Placement(ops, [0 if k < len(ops) // 2 else -1 for k in range(len(ops))])


@pytest.fixture
def overlays(tmp_path: Path) -> Path:
    """`report --model-explorer` over the stored run of tests/spec/test_model_explorer.py, its fp32 × xnnpack
    cell placed over the nodes of the real model shown in the viewer."""
    run = stored()
    placement = placed_on(real_model(SHOWN))
    cells = [
        dataclasses.replace(c, placement=placement) if (c.variant, c.delegate) == ("fp32", "xnnpack") else c
        for c in run.cells
    ]
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        save(store, dataclasses.replace(run, cells=cells), "run-a", "pixel", "2026-11-24T10:00:00+00:00", {})
    folder = tmp_path / "overlays"
    assert invoke(["report", "--store", url, "--model-explorer", str(folder), "--json"]) == 0
    return folder


def test_every_file_written_loads_with_model_explorers_own_classes(overlays: Path, tmp_path: Path) -> None:
    history = store_url(str(tmp_path / "h.sqlite"))  # the overlays' store: forecast the shown model from it
    forecast = ["forecast", "--device", "pixel", "--model", str(real_model(SHOWN)), "--store", history]
    assert invoke([*forecast, "--workdir", str(tmp_path), "--model-explorer", str(overlays)]) == 0
    files = sorted(overlays.rglob("*.json"))
    assert len(files) == 6  # placement, op time, drift and the forecast
    for path in files:
        raw = json.loads(path.read_text())
        data = node_data_builder.GraphNodeData(
            results={k: node_data_builder.NodeDataResult(**v) for k, v in raw["results"].items()},
            name=raw["name"],
            thresholds=[node_data_builder.ThresholdItem(**t) for t in raw.get("thresholds", [])],
            gradient=[node_data_builder.GradientItem(**g) for g in raw.get("gradient", [])],
        )
        theirs = json.loads(data.to_json_string())  # with their defaults for the fields left out
        assert {k: theirs[k] for k in raw} == raw, path.name  # nothing dropped, nothing unknown to them


@pytest.fixture
def viewer(tmp_path: Path, overlays: Path) -> Iterator[str]:
    """Model Explorer's server on a free port of 127.0.0.1 showing the real model with the placement overlay;
    the page's address, as the server prints it."""
    placement = overlays / "run-a" / "fp32.xnnpack.interpreter.t1.placement.json"
    port = free_port()
    log = tmp_path / "model-explorer.log"
    command = [
        str(Path(sys.executable).parent / "model-explorer"),
        str(real_model(SHOWN)),
        f"--node_data_paths={placement}",
        "--host=127.0.0.1",
        f"--port={port}",
        "--no_open_in_browser",
    ]
    with log.open("w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (found := re.search(rf"http://127\.0\.0\.1:{port}/\S+", log.read_text())):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield found.group(0)
    finally:
        server.kill()
        server.wait()


def closed_port() -> int:
    """A port nothing listens on: as the browser's proxy, every request leaving 127.0.0.1 fails."""
    return free_port()


# Every node-data row of the side panel, "index \t node label \t value", once the overlay is in it.
ROWS = """(() => {
  const text = document.body ? document.body.innerText : "";
  return text.includes("plain kernels") && text.includes("partition 0") ? text : "";
})()"""


def test_model_explorers_web_ui_shows_the_placement_on_the_graph(tmp_path: Path, viewer: str) -> None:
    chromium = require("chromium", "chromium")
    profile = tmp_path / "profile"
    browser = chromium_command(chromium, profile, proxy_port=closed_port(), window=(1400, 1000), local_app=True)
    with devtools(browser) as page:
        page.open(viewer)
        text = page.wait_for(ROWS, WAIT_S)
        shot = tmp_path / "model-explorer.png"
        page.screenshot(shot)
    assert text, "Model Explorer never listed the overlay's values"
    assert "placement · fp32 · xnnpack · interpreter · 1t" in text
    ops = [node.op.name for node in read_graph(real_model(SHOWN).read_bytes()).nodes]
    half = len(ops) // 2
    rows = re.findall(r"^\d+\t(\S+)\t(.+)$", text, flags=re.MULTILINE)
    shown = [(label, value) for label, value in rows if value != "-"]
    # Each op's row carries its own place: the node ids matched, op by op, in the adapter's order.
    partition = "xnnpack partition 0 (0.998 ms)"  # the profile's partition row, as the stored cell has it
    want = [(adapter_label(op), partition if k < half else "plain kernels") for k, op in enumerate(ops)]
    assert shown == want
    import cv2
    import numpy as np

    image = cv2.imread(str(shot))
    assert image is not None and image.shape[1] >= 1000

    def pixels(colour: str) -> int:
        b, g, r = (int(colour[i : i + 2], 16) for i in (5, 3, 1))
        return int(np.all(image == (b, g, r), axis=2).sum())

    # The graph's nodes drawn in the overlay's colours: the partition's and the plain kernels'.
    assert pixels(model_explorer.PARTITION_COLOURS[0]) > 500 and pixels(model_explorer.PLAIN_COLOUR) > 500
