"""Write the docs that are derived from the code, so they cannot drift from it:

- docs/cli.md, the CLI reference, from the click commands themselves (every command and subcommand:
  usage, help text, options with their values, defaults and ranges);
- the variant and conversion option tables in docs/converting.md, from the catalogue in edgebench_records (with
  each option's help, default and range from its click flag), between their marker lines.

The output depends on the code alone: a fixed width (never the terminal's), no dates. ``--check`` writes
nothing and exits 1 naming each stale file; a spec (tests/spec/test_generated_docs.py) does the same.

    .venv/bin/python scripts/gen_docs.py [--check]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import click
from doc_tables import DOCS, ROOT, begin_marker, end_marker, replace_block

from edgebench.cli import cli
from edgebench_records import catalogue

CLI_DOC = DOCS / "cli.md"
CONVERTING_DOC = DOCS / "converting.md"
VARIANTS_BLOCK = "variants"
OPTIONS_BLOCK = "options"
WIDTH = 100  # help text is wrapped at this width whatever the terminal, so the page is the same everywhere


def conversion_options() -> list[str]:
    """The conversion options' names (as their click parameters are named), in the catalogue's order."""
    return [field.name for field in dataclasses.fields(catalogue.Options)]


def cell(text: str) -> str:
    """Text made safe for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def variant_table(specs: Sequence[catalogue.VariantSpec]) -> str:
    """Every variant, in the order the converter makes them, as the catalogue declares it."""
    lines = ["| variant | trains | what it is |", "|---|---|---|"]
    for spec in specs:
        trains = "yes: fine-tuned" if spec.trains else "no: post-training"
        lines.append(f"| `{spec.name}` | {trains} | {cell(spec.summary)} |")
    return "\n".join(lines)


def conversion_option_table(names: list[str]) -> str:
    """Each conversion option as `edgebench convert` declares it: flags, value, help, default, range."""
    convert = cli.get_command(context(cli, "edgebench", None), "convert")
    assert convert is not None
    ctx = context(convert, "convert", None)
    params = {param.name: param for param in convert.get_params(ctx)}
    return option_table([params[name] for name in names], ctx)


def generated_block(name: str, body: str) -> str:
    return f"{begin_marker(name, 'gen_docs')}\n{body}\n{end_marker(name)}"


def context(command: click.Command, name: str, parent: click.Context | None) -> click.Context:
    return click.Context(command, info_name=name, parent=parent, terminal_width=WIDTH, max_content_width=WIDTH)


def walk(command: click.Command, ctx: click.Context) -> Iterator[tuple[click.Command, click.Context]]:
    """The command and every subcommand under it, depth first, in the order their group lists them."""
    yield command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, context(sub, name, ctx))


def prose(command: click.Command, ctx: click.Context) -> str:
    """Usage, help text and epilog as click prints them, at the fixed width."""
    formatter = click.HelpFormatter(width=WIDTH, max_width=WIDTH)
    command.format_usage(ctx, formatter)
    command.format_help_text(ctx, formatter)
    command.format_epilog(ctx, formatter)
    return formatter.getvalue().rstrip()


def option_table(params: list[click.Parameter], ctx: click.Context) -> str:
    """One row per option as --help shows it (flags and value; help, default, range); arguments are in the usage."""
    records = [record for param in params if (record := param.get_help_record(ctx)) is not None]
    lines = ["| option | what it does |", "|---|---|"]
    lines += [f"| `{cell(flags)}` | {cell(help_text)} |" for flags, help_text in records]
    return "\n".join(lines)


def subcommand_table(group: click.Group, ctx: click.Context) -> str:
    lines = ["| command | what it does |", "|---|---|"]
    for name in group.list_commands(ctx):
        sub = group.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            lines.append(
                f"| [`{ctx.command_path} {name}`](#{anchor(f'{ctx.command_path} {name}')}) | "
                f"{cell(sub.get_short_help_str(limit=WIDTH))} |"
            )
    return "\n".join(lines)


def anchor(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading made of words and spaces."""
    return heading.lower().replace(" ", "-")


def command_section(command: click.Command, ctx: click.Context) -> str:
    usage_and_help = f"```text\n{prose(command, ctx)}\n```"
    parts = [f"## {ctx.command_path}", usage_and_help, option_table(command.get_params(ctx), ctx)]
    if isinstance(command, click.Group):
        parts.append(subcommand_table(command, ctx))
    return "\n\n".join(parts)


def render_cli() -> str:
    root = context(cli, "edgebench", None)
    intro = (
        "# CLI reference\n\n"
        "<!-- Written by scripts/gen_docs.py from the click commands; do not edit by hand: change the command and "
        "run `python scripts/gen_docs.py`. -->\n\n"
        "Every command, subcommand and option, as `--help` shows them. The guides say when to use which: "
        "start at the [README](../README.md)."
    )
    return "\n\n".join([intro, *(command_section(command, ctx) for command, ctx in walk(cli, root))]) + "\n"


def render_converting(page: str) -> str:
    page = replace_block(page, VARIANTS_BLOCK, generated_block(VARIANTS_BLOCK, variant_table(catalogue.CATALOGUE)))
    options = conversion_option_table(conversion_options())
    return replace_block(page, OPTIONS_BLOCK, generated_block(OPTIONS_BLOCK, options))


def expected() -> dict[Path, str]:
    """Each generated file with the text it should hold."""
    return {CLI_DOC: render_cli(), CONVERTING_DOC: render_converting(CONVERTING_DOC.read_text(encoding="utf-8"))}


def stale() -> list[Path]:
    return [path for path, text in expected().items() if not path.exists() or path.read_text(encoding="utf-8") != text]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file is stale")
    args = parser.parse_args()
    if args.check:
        outdated = stale()
        for path in outdated:
            print(f"{path.relative_to(ROOT)} is stale: run python scripts/gen_docs.py", file=sys.stderr)
        return 1 if outdated else 0
    for path, text in expected().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
