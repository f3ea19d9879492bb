"""The conversion and measurement options: declared once, accepted alike by every command that takes them
(conversion: convert, run, push and gate; measurement: run and push), carried to the converter or the plan, kept
with a run so a resume cannot contradict them; and a user's model measured with no data.

Each declared option needs a case below: a new option without one fails here."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import edgebench.conversion
import edgebench.gate.paired
import edgebench.measure
import edgebench_records as schema
from edgebench.cli import invoke
from edgebench.commands.options import note_no_data
from edgebench.errors import EdgebenchError
from edgebench.example import EXAMPLE_MODEL
from edgebench.resume import CONVERSION_FLAGS, RUN_RECORD_NAME, RunFolder, check_resume_flags, settings
from edgebench_records import Manifest, Measurement, Plan, RunRecord
from edgebench_records.catalogue import Options
from edgebench_records.options import Shape, declared
from tests.support.real_models import FLOAT_WEIGHTS, real_model

# One case per option: the flag as typed, and the option it must set (never the default).
CASES: dict[str, tuple[list[str], Any]] = {
    "sparsity": (["--sparsity", "0.75"], 0.75),
    "channel_ratio": (["--channel-ratio", "0.75"], 0.75),
    "stream_ratio": (["--stream-ratio", "0.75"], 0.75),
    "distill_temperature": (["--distill-temperature", "2"], 2.0),
    "distill_alpha": (["--distill-alpha", "0.3"], 0.3),
    "low_rank_energy": (["--low-rank-energy", "0.8"], 0.8),
    "recovery_factor": (["--recovery-factor", "2"], 2),
    "clusters": (["--clusters", "8"], 8),
    "epochs": (["--epochs", "2"], 2),
    "learning_rate": (["--lr", "0.001"], 0.001),
    "batch_size": (["--batch-size", "16"], 16),
    "float_io": (["--float-io"], True),
    "keep_sparsity": (["--keep-sparsity"], True),
    "seed": (["--seed", "7"], 7),
    "normalize": (["--normalize", "unit"], "unit"),
    "val_split": (["--val-split", "0.3"], 0.3),
    "task": (["--task", "regression"], "regression"),
    "loss": (["--loss", "mse"], "mse"),
    "input_shapes": (["--input-shape", "input_1:1x64x64x3"], ("input_1:1x64x64x3",)),
    "synthetic_samples": (["--synthetic-samples", "8"], 8),
    "student": (["--student", str(EXAMPLE_MODEL)], str(EXAMPLE_MODEL)),
    "mixed_float_layers": (["--mixed-float-layers", "2"], 2),
    "max_accuracy_drop": (["--max-accuracy-drop", "1.5"], 1.5),
    "custom_objects": (["--custom-objects", "my_layers.py"], "my_layers.py"),
    "trust_model_code": (["--trust-model-code"], True),
    "free_batch": (["--free-batch"], True),
}
COMMANDS = ["convert", "run", "push", "gate"]
MEASUREMENT_CASES: dict[str, tuple[list[str], Any]] = {
    "delegates": (["--delegates", "cpu"], ["cpu"]),
    "threads": (["--threads", "1-2"], [1, 2]),
    "apis": (["--api", "interpreter,compiled"], ["interpreter", "compiled"]),
    "runtime": (["--runtime", "tflite_runtime"], "tflite_runtime"),
    "cpus": (["--cpus", "0"], [0]),
    "cooldown_s": (["--cooldown-s", "2"], 2.0),
    "runs": (["--runs", "7"], 7),
    "min_s": (["--min-secs", "0.5"], 0.5),
    "warmup_runs": (["--warmup-runs", "3"], 3),
    "warmup_min_s": (["--warmup-secs", "0.1"], 0.1),
    "cell_timeout_s": (["--cell-timeout", "30"], 30.0),
    "numerics_min_agreement": (["--numerics-min-agreement", "0.5"], 0.5),
    "numerics_min_cosine": (["--numerics-min-cosine", "0.9"], 0.9),
    "numerics_max_error": (["--numerics-max-error", "0.1"], 0.1),
    "numerics_max_error_quantized": (["--numerics-max-error-quantized", "0.7"], 0.7),
    "numerics_max_steps": (["--numerics-max-steps", "5"], 5.0),
    "labels_output": (["--labels-output", "classificators"], "classificators"),
    "find_culprits": (["--find-culprits"], True),
    "precision": (["--precision", "0.02"], 0.02),
    "max_s": (["--max-secs", "20"], 20.0),
}
MEASURING = ["run", "push"]


def command_line(command: str, model: Path, tmp_path: Path) -> list[str]:
    """The command measuring or converting ``model`` with no --data."""
    work = ["--workdir", str(tmp_path / "work")]
    if command == "convert":
        return ["convert", "--model", str(model), *work]
    store = ["--store", str(tmp_path / "h.sqlite")]
    if command == "gate":
        return ["gate", "--baseline-model", str(model), "--candidate-model", str(model), *work, *store]
    return [command, "--model", str(model), *work, *store]


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What each command hands the converter process, which is then not started (it costs seconds)."""
    seen: list[dict[str, Any]] = []

    def stand_in(model: Path, data: Path | None, variants: list[str], workdir: Path, **kwargs: Any) -> Any:
        seen.append({"model": model, "data": data, "options": kwargs["options"]})
        raise EdgebenchError("converter reached")

    monkeypatch.setattr(edgebench.conversion, "convert", stand_in)
    return seen


def test_every_option_has_a_case_here() -> None:
    assert set(CASES) == {spec.name for spec in declared(Options)} == set(CONVERSION_FLAGS)
    assert set(MEASUREMENT_CASES) == {spec.name for spec in declared(Measurement)}


@pytest.mark.parametrize("family", [Options, Measurement], ids=lambda f: f.__name__)
def test_every_case_types_the_options_own_flag_and_sets_it_away_from_its_default(family: type) -> None:
    cases = CASES if family is Options else MEASUREMENT_CASES
    for spec in declared(family):
        flag, value = cases[spec.name]
        assert flag[0] in spec.flags and value != spec.default, spec.name


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", CASES)
def test_each_commands_help_shows_each_conversion_flag_with_the_options_default(
    capsys: pytest.CaptureFixture[str], command: str, name: str
) -> None:
    assert invoke([command, "--help"]) == 0
    page = capsys.readouterr().out.splitlines()
    assert [line for line in page if line.strip().startswith(CONVERSION_FLAGS[name])]  # in the page, as typed
    default = getattr(Options(), name)
    # flags, repeatable entries, files and values not set unless given (--max-accuracy-drop): none by default
    if not isinstance(default, bool | tuple) and default not in ("", None):
        help_text = " ".join(invoke_help_of(command, CONVERSION_FLAGS[name]).split())
        assert f"[default: {default}" in help_text


def invoke_help_of(command: str, flag: str) -> str:
    """The help text click shows beside ``flag`` (wrapped over several lines in the page itself)."""
    import click

    from edgebench.cli import cli

    root = click.Context(cli, info_name="edgebench")
    sub = cli.get_command(root, command)
    assert sub is not None
    ctx = click.Context(sub, info_name=command, parent=root)
    (record,) = [p.get_help_record(ctx) for p in sub.params if flag in p.opts]
    assert record is not None
    return record[1]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", CASES)
def test_each_conversion_flag_of_each_command_reaches_the_converter(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    conversions: list[dict[str, Any]],
    command: str,
    name: str,
) -> None:
    model = real_model(FLOAT_WEIGHTS)
    flag, expected = CASES[name]

    assert invoke([*command_line(command, model, tmp_path), *flag]) == 2
    assert capsys.readouterr().err == "edgebench: converter reached\n"

    assert conversions[0]["options"] == dataclasses.replace(Options(), **{name: expected})
    assert conversions[0]["data"] is None  # no --data: the converter makes the inputs


def test_the_lr_flag_has_the_options_own_name_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, conversions: list[dict[str, Any]]
) -> None:
    invoke([*command_line("run", real_model(FLOAT_WEIGHTS), tmp_path), "--learning-rate", "0.002"])
    assert conversions[0]["options"].learning_rate == 0.002


@pytest.fixture
def measurements(monkeypatch: pytest.MonkeyPatch) -> list[Measurement]:
    """What run and push hand the measuring work, which is then not started."""
    seen: list[Measurement] = []

    def stand_in(request: Any, device_names: list[str], listener: Any) -> Any:
        seen.append(request.measure)
        raise EdgebenchError("measurement reached")

    monkeypatch.setattr(edgebench.measure, "measure", stand_in)
    return seen


@pytest.mark.parametrize("command", MEASURING)
@pytest.mark.parametrize("name", [spec.name for spec in declared(Measurement)])
def test_each_measurement_flag_of_each_command_reaches_the_measurement(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    measurements: list[Measurement],
    command: str,
    name: str,
) -> None:
    flag, expected = MEASUREMENT_CASES[name]
    assert invoke([*command_line(command, real_model(FLOAT_WEIGHTS), tmp_path), *flag]) == 2
    assert capsys.readouterr().err == "edgebench: measurement reached\n"
    assert measurements == [dataclasses.replace(Measurement(), **{name: expected})]


@pytest.mark.parametrize("command", MEASURING)
@pytest.mark.parametrize("name", [spec.name for spec in declared(Measurement)])
def test_each_commands_help_shows_each_measurement_flag_with_the_records_default(
    capsys: pytest.CaptureFixture[str], command: str, name: str
) -> None:
    (spec,) = [spec for spec in declared(Measurement) if spec.name == name]
    assert invoke([command, "--help"]) == 0
    assert [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith(spec.flag)]
    shown = ",".join(map(str, spec.default)) if isinstance(spec.default, list) else spec.default
    # no --runtime (whichever is installed), no --cpus (no pinning), no switch (off unless given): none shown
    if shown not in (None, "") and spec.shape is not Shape.SWITCH:
        assert f"[default: {shown}" in " ".join(invoke_help_of(command, spec.flag).split())


def test_a_paired_gate_converts_both_models_with_the_same_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[Path, Options]] = []

    def stand_in(model: Path, data: Path | None, variants: list[str], workdir: Path, **kwargs: Any) -> Any:
        seen.append((model, kwargs["options"]))
        if len(seen) == 2:
            raise EdgebenchError("converter reached twice")
        return Manifest("m", "", "", "inputs.npz", []), tmp_path  # the baseline "converted"

    monkeypatch.setattr(edgebench.conversion, "convert", stand_in)
    model = real_model(FLOAT_WEIGHTS)
    argv = command_line("gate", model, tmp_path)
    assert invoke([*argv, "--seed", "5", "--input-shape", "input_1:1x64x64x3"]) == 2
    assert capsys.readouterr().err.endswith("edgebench: converter reached twice\n")
    expected = Options(seed=5, input_shapes=("input_1:1x64x64x3",))
    assert seen == [(model, expected), (model, expected)]


@pytest.mark.parametrize(
    ("flags", "precision", "runs"),
    [([], 0.01, 100), (["--precision", "0"], 0.0, 100), (["--precision", "0", "--runs", "200"], 0.0, 200)],
)
def test_a_paired_gate_is_adaptive_unless_given_precision_0(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    precision: float,
    runs: int,
) -> None:
    """Adaptive caught every model 10 % slower where 20 fixed blocks missed some (docs/benchmarks.md), so it is the
    gate's default; --precision 0 times --runs in --blocks as asked."""
    seen: list[Measurement] = []

    def stand_in(request: Any, listener: Any) -> Any:
        seen.append(request.measure)
        raise EdgebenchError("measurement reached")

    monkeypatch.setattr(edgebench.gate.paired, "measure", stand_in)
    assert invoke([*command_line("gate", real_model(FLOAT_WEIGHTS), tmp_path), *flags]) == 2
    assert capsys.readouterr().err == "edgebench: measurement reached\n"
    (measure,) = seen
    assert (measure.precision, measure.runs, measure.blocks, measure.max_s) == (precision, runs, 20, 30.0)


@pytest.mark.parametrize("command", COMMANDS)
def test_an_input_shape_for_an_input_the_tflite_lacks_is_refused_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, conversions: list[dict[str, Any]], command: str
) -> None:
    model = real_model(FLOAT_WEIGHTS)
    code = invoke([*command_line(command, model, tmp_path), "--input-shape", "image:1x64x64x3"])
    assert code == 2
    err = capsys.readouterr().err
    assert err == f"edgebench: --input-shape image: model {model} has no input 'image' (its inputs: input_1)\n"
    assert conversions == []


@pytest.mark.parametrize(
    ("entry", "why"),
    [("x:1xAx3", "expected NAME:DIMS"), ("1x64x64x3", "expected NAME:DIMS"), ("x:1x0x3", "expected NAME:DIMS")],
)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_malformed_input_shape_is_one_usage_line_naming_the_flag(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, entry: str, why: str
) -> None:
    code = invoke([*command_line(command, real_model(FLOAT_WEIGHTS), tmp_path), "--input-shape", entry])
    assert code == 2
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Error:")]
    assert line.startswith(f"Error: --input-shape {entry!r}: {why}")
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize("flag", [["--sparsity", "0.9"], ["--data", "d.npz"], ["--variants", "int8"]])
def test_stored_gate_refuses_a_flag_that_only_paired_mode_uses(
    capsys: pytest.CaptureFixture[str], flag: list[str]
) -> None:
    assert invoke(["gate", "--baseline", "latest", "--candidate", "latest", *flag]) == 2
    err = capsys.readouterr().err
    assert f"Error: {flag[0]}: paired mode only" in err


# ---- resume -------------------------------------------------------------------------------------


def run_folder(tmp_path: Path, record: RunRecord) -> RunFolder:
    """A run's folder as `run` leaves it: its record, manifest copy and plan."""
    run = RunFolder(tmp_path / "runs" / "r1")
    run.save(record, Manifest("m", "", "", "inputs.npz", []))
    schema.write(run.plan_path, Plan("r1", "m", [], "inputs.npz"))
    return run


def test_a_run_keeps_its_conversion_options_for_a_resume(tmp_path: Path) -> None:
    options = Options(sparsity=0.6, float_io=True, input_shapes=("input_1:1x64x64x3", "mask:1x8"))
    record = RunRecord("local", "/m.tflite", None, ["fp32"], {}, options)
    loaded, _, _ = run_folder(tmp_path, record).load()
    assert loaded == record


def test_a_run_recorded_before_the_options_were_kept_was_converted_with_the_defaults(tmp_path: Path) -> None:
    run = run_folder(tmp_path, RunRecord("local", "/m.keras", "/d.npz", ["fp32"]))
    old = json.loads((run.path / RUN_RECORD_NAME).read_text())
    del old["options"]
    (run.path / RUN_RECORD_NAME).write_text(json.dumps(old | {"schema_version": "1.1"}))
    loaded, _, _ = run.load()
    assert loaded.options == Options() and loaded.data == "/d.npz"


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--sparsity", 0.9), ("--float-io", True), ("--lr", 0.5), ("--input-shape", ("input_1:1x1x1x3",))],
)
def test_a_resume_refuses_a_conversion_flag_that_differs_naming_it(flag: str, value: object) -> None:
    record = RunRecord("local", "/m.tflite", None, ["fp32"], {}, Options(input_shapes=("input_1:1x64x64x3",)))
    with pytest.raises(EdgebenchError, match=f"--resume r1: {flag} .* differs from the run's own .*: drop {flag}$"):
        check_resume_flags("r1", {flag: value}, settings(record, Plan("r1", "m", [], "x").measure))


def test_a_resume_accepts_the_conversion_flags_the_run_was_started_with() -> None:
    record = RunRecord("local", "/m.tflite", None, ["fp32"], {}, Options(seed=3))
    check_resume_flags("r1", {"--seed": 3, "--sparsity": 0.5}, settings(record, Plan("r1", "m", [], "x").measure))


EVERY_OPTION = [*CASES.values(), *MEASUREMENT_CASES.values()]


@pytest.mark.parametrize(("flag", "value"), EVERY_OPTION, ids=lambda v: v[0] if isinstance(v, list) else "")
def test_run_resume_refuses_every_option_that_differs_from_the_runs_own_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flag: list[str], value: object
) -> None:
    """Every declared option is a setting the run keeps (its plan's measurement, its record's options), and a
    resume takes them all from the run: one given otherwise is refused, never silently ignored."""
    run_folder(tmp_path, RunRecord("local", str(real_model(FLOAT_WEIGHTS)), None, ["fp32"]))
    store = tmp_path / "h.sqlite"
    code = invoke(["run", "--resume", "r1", "--workdir", str(tmp_path), "--store", str(store), *flag])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"edgebench: --resume r1: {flag[0]} ") and err.endswith(f"drop {flag[0]}\n"), err


# ---- with no data at all -------------------------------------------------------------------------


def test_the_no_data_note_says_what_is_measured_and_that_accuracy_is_not(capsys: pytest.CaptureFixture[str]) -> None:
    note_no_data(32)
    assert capsys.readouterr().err == (
        "edgebench: note: no --data: latency, memory and output fidelity on 32 synthetic inputs; "
        "accuracy needs labelled data\n"
    )
