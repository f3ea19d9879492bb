"""`edgebench gate` given hostile input: one line naming the file, key or flag at fault, exit 2, nothing run."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebench.cli import invoke
from edgebench.errors import EdgebenchError
from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL
from edgebench.gate.paired import paired_variants
from edgebench.gate.policy import Override, Policy, Thresholds, load_policy
from edgebench.store import Store, store_url
from edgebench_records import CellResult, Manifest, Plan, Status, StoredRun, VariantRecord, VariantState, write_bundle

# ---- the policy file ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('latency_floor = "five"', 'latency_floor = "five": not a number'),
        ("memory_mb = true", "memory_mb = true: not a number"),
        ("size_pct = [0.01]", "size_pct = [0.01]: not a number"),
        ("latency_floor = -0.05", "latency_floor = -0.05: must be a finite number >= 0"),
        ("memory_mb = -16", "memory_mb = -16: must be a finite number >= 0"),
        ("latency_floor = inf", "latency_floor = inf: must be a finite number >= 0"),
        ("memory_pct = nan", "memory_pct = nan: must be a finite number >= 0"),
        ("alpha = 0", "alpha = 0: must be between 0 and 1, exclusive"),
        ("alpha = 1", "alpha = 1: must be between 0 and 1, exclusive"),
        ("alpha = 5", "alpha = 5: must be between 0 and 1, exclusive"),
        ("alpha = nan", "alpha = nan: must be between 0 and 1, exclusive"),
        ("accuracy_points = 101", "accuracy_points = 101: must be between 0 and 100 points"),
        ('inconclusive_fails = "yes"', 'inconclusive_fails = "yes": must be true or false'),
        ("inconclusive_fails = 1", "inconclusive_fails = 1: must be true or false"),
        ('ignore = "size"', 'ignore = "size": must be a list of metric names, e.g. ["gzip_size"]'),
        ("ignore = [1]", 'ignore = [1]: must be a list of metric names, e.g. ["gzip_size"]'),
        ("override = 3", "override = 3: must be [[override]] tables"),
        ("override = [1]", "override = [1]: must be [[override]] tables"),
        ('[override]\nvariant = "int8"', 'override = {variant = "int8"}: must be [[override]] tables'),
        ("[[override]]\ndevice = 3", "override 1: device = 3: must be a device name in quotes"),
        ('[[override]]\nvariant = ["int8"]', 'override 1: variant = ["int8"]: must be a variant name in quotes'),
        ('[[override]]\nvariant = "int8"\nlatency_floor = "x"', 'override 1: latency_floor = "x": not a number'),
        (
            '[[override]]\nvariant = "a"\n[[override]]\nalpha = 2',
            "override 2: alpha = 2: must be between 0 and 1, exclusive",
        ),
    ],
)
def test_a_bad_policy_value_is_one_line_naming_the_file_and_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, toml: str, expected: str
) -> None:
    policy = tmp_path / "gate.toml"
    policy.write_text(toml + "\n")
    assert invoke(["gate", "--baseline", "latest", "--candidate", "latest", "--policy", str(policy)]) == 2
    assert capsys.readouterr().err == f"edgebench: policy {policy}: {expected}\n"


def test_a_binary_policy_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = tmp_path / "gate.toml"
    policy.write_bytes(b"alpha = \xff\xfe\x00")
    assert invoke(["gate", "--baseline", "latest", "--candidate", "latest", "--policy", str(policy)]) == 2
    assert capsys.readouterr().err == f"edgebench: policy {policy}: not a TOML file (not UTF-8 text at byte 8)\n"


def test_values_at_the_edges_of_their_ranges_are_accepted(tmp_path: Path) -> None:
    policy = tmp_path / "gate.toml"
    policy.write_text(
        "alpha = 0.5\nlatency_floor = 0\nmemory_pct = 0\nmemory_mb = 0\nsize_pct = 0\naccuracy_points = 100\n"
        'inconclusive_fails = true\nignore = []\n[[override]]\ndevice = "pi4"\nvariant = "int8"\nlatency_floor = 3\n'
    )
    assert load_policy(policy) == Policy(
        thresholds=Thresholds(0.5, 0.0, 0.0, 0.0, 0.0, 100.0),
        inconclusive_fails=True,
        ignore=frozenset(),
        overrides=(Override("pi4", "int8", {"latency_floor": 3.0}),),
    )


# ---- run bundles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a run bundle (binary, not JSON text: byte 0)"),
        (b"[" * 100_000, "not a run bundle (JSON nested too deeply)"),
    ],
)
def test_a_bundle_that_is_no_json_text_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, expected: str
) -> None:
    bundle = tmp_path / "baseline.json"
    bundle.write_bytes(content)
    url = keep(tmp_path)
    assert invoke(["gate", "--store", url, "--baseline", str(bundle), "--candidate", "latest"]) == 2
    assert capsys.readouterr().err == f"edgebench: {bundle}: {expected}\n"


# ---- which models are gated against each other ---------------------------------------------------

DIGITS, OTHER = "a" * 64, "b" * 64


def run_of(run_id: str, model: str, sha256: str, tags: dict[str, str] | None = None) -> StoredRun:
    """A stored run on `local` of one fp32 cell whose delegate the device lacks: enough for the gate to match
    and decide (absent on both sides: a fact of the device, which passes)."""
    return StoredRun(
        run_id=run_id,
        created_at="2026-11-20T10:00:00+00:00",
        device="local",
        plan=Plan(run_id, model, [], "inputs.npz"),
        manifest=Manifest(model, sha256, "key", "inputs.npz", []),
        git_commit=None,
        tags=tags or {},
        cells=[CellResult(run_id, "fp32", "gpu", 1, Status.DELEGATE_UNAVAILABLE, message="no GPU delegate")],
    )


def keep(tmp_path: Path, *runs: StoredRun) -> str:
    url = store_url(str(tmp_path / "h.sqlite"))
    with Store(url) as store:
        for run in runs:
            store.save_run(
                device=run.device,
                plan=run.plan,
                manifest=run.manifest,
                created_at=run.created_at,
                git_commit=None,
                cells=run.cells,
                tags=run.tags,
            )
    return url


UNRELATED = (
    "different models: local: baseline run base is model digits (sha256 aaaaaaaaaaaa), "
    "candidate run cand is other (sha256 bbbbbbbbbbbb)"
)


def test_runs_of_unrelated_models_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = keep(tmp_path, run_of("base", "digits", DIGITS), run_of("cand", "other", OTHER))
    assert invoke(["gate", "--store", url, "--baseline", "base", "--candidate", "cand"]) == 2
    assert capsys.readouterr().err == f"edgebench: {UNRELATED}; give --allow-different-models to gate them anyway\n"


def test_allow_different_models_gates_them_with_one_warning(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = keep(tmp_path, run_of("base", "digits", DIGITS), run_of("cand", "other", OTHER))
    code = invoke(["gate", "--store", url, "--baseline", "base", "--candidate", "cand", "--allow-different-models"])
    assert code == 0
    assert capsys.readouterr().err == f"edgebench: warning: {UNRELATED}\n"


@pytest.mark.parametrize(
    ("name", "sha256", "tags"),
    [
        ("digits", OTHER, {}),  # a new version of the model: the gate's everyday case
        ("renamed", DIGITS, {}),  # the same file under another name
        ("other", OTHER, {"gate": "g1"}),  # the two sides of one paired gate, stored
    ],
)
def test_runs_of_the_same_model_are_gated_without_a_word(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, sha256: str, tags: dict[str, str]
) -> None:
    url = keep(tmp_path, run_of("base", "digits", DIGITS, tags), run_of("cand", name, sha256, tags))
    assert invoke(["gate", "--store", url, "--baseline", "base", "--candidate", "cand"]) == 0
    assert capsys.readouterr().err == ""


def test_a_bundle_of_an_unrelated_model_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bundle = tmp_path / "baseline.json"
    write_bundle(bundle, [run_of("base", "digits", DIGITS)])
    url = keep(tmp_path, run_of("cand", "other", OTHER))
    assert invoke(["gate", "--store", url, "--baseline", str(bundle), "--candidate", "cand"]) == 2
    assert capsys.readouterr().err == f"edgebench: {UNRELATED}; give --allow-different-models to gate them anyway\n"


def test_a_bundle_with_two_runs_on_one_device_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bundle = tmp_path / "baseline.json"
    write_bundle(bundle, [run_of("base", "digits", DIGITS), run_of("other", "digits", DIGITS)])
    url = keep(tmp_path, run_of("cand", "digits", DIGITS))
    assert invoke(["gate", "--store", url, "--baseline", str(bundle), "--candidate", "cand"]) == 2
    assert capsys.readouterr().err == (
        f"edgebench: run bundle {bundle} holds 2 runs on device local (base, other): gate against one run "
        "per device (export it with `edgebench history --export RUN_ID`)\n"
    )


# ---- paired mode with a finished .tflite ----------------------------------------------------------


@pytest.mark.parametrize("flag", ["--baseline-model", "--candidate-model"])
def test_a_tflite_against_a_keras_model_is_refused_before_converting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flag: str
) -> None:
    given = tmp_path / "new.tflite"
    given.write_bytes(b"not even read")
    models = {"--baseline-model": EXAMPLE_MODEL, "--candidate-model": EXAMPLE_MODEL, flag: given}
    other = next(f for f in models if f != flag)
    argv = ["gate", *(a for pair in models.items() for a in map(str, pair)), "--data", str(EXAMPLE_DATA)]
    assert invoke([*argv, "--workdir", str(tmp_path / "work"), "--store", str(tmp_path / "h.sqlite")]) == 2
    assert capsys.readouterr().err == (
        f"edgebench: {flag} {given}: a .tflite is measured as given, so {other} must be a .tflite too "
        f"(e.g. the variant to compare with, from `edgebench convert --model {EXAMPLE_MODEL} --variants int8`)\n"
    )
    assert not (tmp_path / "work" / "variants").exists()


def manifest_of(*variants: VariantRecord) -> Manifest:
    return Manifest("digits", DIGITS, "key", "inputs.npz", list(variants))


def test_a_pair_with_no_variant_made_on_both_sides_is_refused_saying_why() -> None:
    made = VariantRecord("fp32", VariantState.OK, "float32", file="fp32.tflite", sha256=DIGITS)
    broken = VariantRecord("fp32", VariantState.FAILED, "float32", message="MLIR could not legalize op")
    with pytest.raises(EdgebenchError) as caught:
        paired_variants(manifest_of(made), manifest_of(broken))
    assert (
        str(caught.value)
        == "no variant was made for both models: fp32 failed for the candidate (MLIR could not legalize op)"
    )


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--delegates", ""),
        ("--delegates", "xnnpack,xnnpack"),
        ("--delegates", "external:"),
        ("--variants", "fp32,fp32"),
        ("--junit-xml", "{tmp}/missing/gate.xml"),
    ],
)
def test_a_bad_paired_flag_is_refused_before_converting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flag: str, value: str
) -> None:
    argv = ["gate", "--baseline-model", str(EXAMPLE_MODEL), "--candidate-model", str(EXAMPLE_MODEL)]
    argv += ["--data", str(EXAMPLE_DATA), "--workdir", str(tmp_path / "work"), "--store", str(tmp_path / "h.sqlite")]
    assert invoke([*argv, flag, value.format(tmp=tmp_path)]) == 2
    assert flag in capsys.readouterr().err
    assert not (tmp_path / "work").exists() and not (tmp_path / "h.sqlite").exists()


def test_a_store_that_cannot_be_written_is_refused_before_converting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("not a folder")
    argv = ["gate", "--baseline-model", str(EXAMPLE_MODEL), "--candidate-model", str(EXAMPLE_MODEL)]
    argv += ["--data", str(EXAMPLE_DATA), "--workdir", str(tmp_path / "work")]
    assert invoke([*argv, "--store", str(tmp_path / "file" / "h.sqlite")]) == 2
    assert "store folder" in capsys.readouterr().err
    assert not (tmp_path / "work").exists()
