"""Options shared by several commands, defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
store_option = click.option(
    "--store",
    metavar="PATH|URL",
    envvar="EDGEBENCH_STORE",
    show_envvar=True,
    help="History store: an SQLite file path or a database URL (postgresql://…). [default: .edgebench/history.sqlite]",
)
inventory_option = click.option(
    "--inventory",
    metavar="PATH",
    envvar="EDGEBENCH_INVENTORY",
    show_envvar=True,
    help="Device inventory (TOML). [default: ./edgebench.toml, then ~/.config/edgebench/devices.toml]",
)
accept_host_key_option = click.option(
    "--accept-new-host-key",
    is_flag=True,
    help="Trust an SSH host key seen for the first time and remember it in known_hosts (refused otherwise).",
)
markdown_option = click.option(
    "--markdown",
    "markdown_path",
    metavar="PATH|-",
    help="Also write Markdown, e.g. for a CI job summary ('-': stdout).",
)
workdir_option = click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=str),
    default=".edgebench",
    show_default=True,
    help="Where variants, plans, results and logs are kept.",
)


def csv_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def int_list(value: str, flag: str) -> list[int]:
    """``1,2,4`` or ranges ``0-3`` as integers; a bad value names the flag."""
    numbers: list[int] = []
    try:
        for item in csv_list(value):
            low, _, high = item.partition("-")
            numbers.extend(range(int(low), int(high) + 1) if high else [int(low)])
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a list like 1,2,4 or 0-3", param_hint=flag) from exc
    return numbers


def parse_tags(values: tuple[str, ...]) -> dict[str, str]:
    """``--tag release=4.2`` (repeatable) as a dict; a value without ``=`` names the flag."""
    tags = {}
    for value in values:
        key, sep, tag = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="--tag")
        tags[key] = tag
    return tags


def write_markdown(target: str | None, text: str) -> None:
    """``--markdown``: to a file, or to stdout for ``-`` (then nothing else goes to stdout)."""
    if target == "-":
        click.echo(text, nl=False)
    elif target:
        Path(target).write_text(text, encoding="utf-8")
