"""The generated docs match the code: docs/cli.md is what the click commands render, and the variant table
in docs/converting.md is what the catalogue holds. A flag, help text or variant changed without running
``python scripts/gen_docs.py`` fails here, saying so."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pytest

from edgebench_records.catalogue import CATALOGUE, VariantSpec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import gen_docs  # noqa: E402

REGENERATE = "stale: run `python scripts/gen_docs.py` and commit what it writes"


@pytest.mark.parametrize("path", list(gen_docs.expected()), ids=lambda path: path.name)
def test_a_generated_page_is_what_the_code_renders(path: Path) -> None:
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `python scripts/gen_docs.py`"
    assert path.read_text(encoding="utf-8") == gen_docs.expected()[path], f"{path.relative_to(ROOT)} is {REGENERATE}"


def test_the_reference_has_every_command_and_option() -> None:
    page = gen_docs.render_cli()
    for heading in ("edgebench", "edgebench run", "edgebench push", "edgebench devices check", "edgebench gate"):
        assert f"\n## {heading}\n" in page
    assert "| `--numerics-min-cosine FINITE FLOAT` |" in page  # flag, value, and its default and range:
    assert "is wrong_output. [default: 0.99; -1<=x<=1] |" in page


def test_an_option_renders_with_its_value_choices_default_and_help() -> None:
    @click.command(help="Do a thing.\n\nMore about it.")
    @click.option("--mode", type=click.Choice(["a", "b"]), default="a", show_default=True, help="Which way.")
    @click.option("--count", type=click.IntRange(min=1), default=3, show_default=True, help="How many.")
    def thing(mode: str, count: int) -> None: ...

    section = gen_docs.command_section(thing, gen_docs.context(thing, "thing", None))
    assert section.startswith("## thing\n\n```text\nUsage: thing [OPTIONS]\n\n  Do a thing.\n\n  More about it.\n```")
    assert "| `--mode [a\\|b]` | Which way. [default: a] |" in section  # a | in a cell is escaped
    assert "| `--count INTEGER RANGE` | How many. [default: 3; x>=1] |" in section


def test_the_rendering_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    wide = gen_docs.render_cli()
    monkeypatch.setenv("COLUMNS", "40")
    assert gen_docs.render_cli() == wide


def test_the_variant_table_lists_every_variant_and_whether_it_trains() -> None:
    table = gen_docs.variant_table(CATALOGUE)
    assert table.splitlines()[0] == "| variant | trains | what it is |"
    assert "| `fp32` | no: post-training | float32, no optimisation |" in table
    assert "| `qat_int8` | yes: fine-tuned |" in table
    assert len(table.splitlines()) == 2 + len(CATALOGUE)
    described = gen_docs.variant_table([VariantSpec("x", "a | b", trains=True)])
    assert "| `x` | yes: fine-tuned | a \\| b |" in described


def test_check_names_a_stale_page_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale_page = tmp_path / "cli.md"
    stale_page.write_text("# CLI reference\n\nan old page\n")
    monkeypatch.setattr(gen_docs, "expected", lambda: {stale_page: gen_docs.render_cli()})
    monkeypatch.setattr(sys, "argv", ["gen_docs.py", "--check"])
    monkeypatch.setattr(gen_docs, "ROOT", tmp_path)
    assert gen_docs.main() == 1
    assert capsys.readouterr().err == "cli.md is stale: run python scripts/gen_docs.py\n"
    assert stale_page.read_text() == "# CLI reference\n\nan old page\n"  # --check writes nothing


def test_the_option_table_has_every_conversion_option_with_its_help_and_default() -> None:
    names = gen_docs.conversion_options()
    table = gen_docs.conversion_option_table(names)
    assert len(table.splitlines()) == 2 + len(names)  # one row per option of the catalogue
    assert "| `--lr, --learning-rate FINITE FLOAT` | Fine-tuning learning rate. [default: 0.0001; x>0] |" in table
    assert "| `--float-io` |" in table and "| `--student PATH` |" in table
