"""The app's minSdk check (android_app/minsdk/): Java compiled against Android API 23's real class files,
members missing there allowed only when they are reviewed API 24-26 ones. It must catch an API 33 call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MINSDK = ROOT / "android_app" / "minsdk"


@pytest.fixture(scope="module")
def system() -> str:
    built = subprocess.run(
        ["bash", str(MINSDK / "android23_system.sh"), str(ROOT / "android_app" / "build" / "android-23")],
        capture_output=True,
        text=True,
        check=True,
    )
    return built.stdout.strip()


def check(
    system: str, tmp_path: Path, body: str, baseline: Path = MINSDK / "api23-baseline.txt", *extra: str
) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "Probe.java"
    source.write_text(f"import java.io.*;\nimport java.nio.file.*;\nclass Probe {{\n{body}\n}}\n")
    return subprocess.run(
        [
            sys.executable,
            str(MINSDK / "api_check.py"),
            "--system",
            system,
            "--baseline",
            str(baseline),
            *extra,
            str(source),
        ],
        capture_output=True,
        text=True,
    )


def test_read_all_bytes_an_api_33_method_fails_by_name(system: str, tmp_path: Path) -> None:
    result = check(system, tmp_path, "byte[] all(InputStream in) throws IOException { return in.readAllBytes(); }")
    assert result.returncode == 1
    assert "InputStream.readAllBytes()" in result.stderr


def test_api_23_members_pass(system: str, tmp_path: Path) -> None:
    result = check(system, tmp_path, "int one(InputStream in) throws IOException { return in.read(); }")
    assert (result.returncode, result.stderr) == (0, "")


def test_a_reviewed_api_26_member_passes(system: str, tmp_path: Path) -> None:
    result = check(system, tmp_path, "byte[] all(File f) throws IOException { return Files.readAllBytes(f.toPath()); }")
    assert (result.returncode, result.stderr) == (0, "")


def test_another_error_is_not_taken_for_a_missing_member(system: str, tmp_path: Path) -> None:
    result = check(system, tmp_path, 'int wrong() { return "text"; }')
    assert result.returncode == 1
    assert "another reason" in result.stderr


def test_a_member_newer_than_its_api_26_class_fails_by_name(system: str, tmp_path: Path) -> None:
    # java.nio.file.Path is API 26, Path.of API 34 (api-versions.xml): the class must not let its members through.
    result = check(system, tmp_path, 'Object path() { return Path.of("model.tflite"); }')
    assert result.returncode == 1
    assert "Path.of(String)" in result.stderr


def test_a_rewritten_baseline_keeps_the_reviewed_levels_and_marks_a_new_member(system: str, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.txt"
    baseline.write_text("# header: where the levels were read\nFile.toPath()   # API 26\n")
    body = "Object p(File f) { return f.toPath(); }\nboolean b(double d) { return Double.isFinite(d); }"
    result = check(system, tmp_path, body, baseline, "--write-baseline")
    assert (result.returncode, result.stderr) == (0, "")
    assert baseline.read_text().splitlines() == [
        "# header: where the levels were read",
        "Double.isFinite(double)   # API ?: REVIEW before committing",
        "File.toPath()             # API 26",
    ]
