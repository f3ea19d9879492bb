"""The docs' command lines stay true: every ``edgebench …`` line the README or a page of ``docs/`` shows names
a command that exists, and every flag it names exists for that command. The README stays a front page (at
most 250 lines), and every link between the pages resolves, anchors included.

Lines come from fenced code blocks (a line that starts with ``edgebench``, with its ``\\`` continuations)
and from inline code: from ``edgebench`` to the end of the span; ``scripts/run.sh ARGS`` is
``edgebench run ARGS``; a flag after "flags of `CMD`" is ``edgebench CMD FLAG``. They are checked
against click's command objects, never executed.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from edgebench.cli import cli
from edgebench.gate.policy import Thresholds

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 250
# A relative link to a Markdown page, with an optional #anchor: [text](docs/gate.md#in-ci)
PAGE_LINK = re.compile(r"\]\(((?!https?:)[^)#\s]+\.md)(?:#([^)\s]+))?\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.MULTILINE)
FENCED_BLOCK = re.compile(r"^\s*```.*?^\s*```", re.MULTILINE | re.DOTALL)  # a "# comment" in one is no heading
FENCE = re.compile(r"^\s*```")
INLINE_CODE = re.compile(r"`([^`]+)`")
# "edgebench" as a command word: not a path (edgebench/…), a package (pip install edgebench) or a
# message ("edgebench: model file not found").
COMMAND_WORD = re.compile(r"(?<![\w/.\-])(?<!install )edgebench (?=[\-\w\[])")
SHELL_STOPS = {">", ">>", "2>", "|", "&&", ";", "<"}  # the command ends where the shell takes over
FLAGS_OF = re.compile(r"flags of `(\w+)`")  # "Measurement flags of `run`: `--threads 1,2,4`, …"
PLACEHOLDER = re.compile(r"[A-Z][A-Z_]*")  # e.g. COMMAND in "edgebench COMMAND --help"


def fenced_and_prose(text: str) -> tuple[list[str], list[str]]:
    """The README's fenced code lines, and its prose paragraphs (where an inline span may cross a line)."""
    code: list[str] = []
    paragraphs: list[str] = []
    current: list[str] = []
    inside = False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
            paragraphs.append(" ".join(current))
            current = []
        elif inside:
            code.append(line)
        elif line.strip():
            current.append(line.strip())
        else:
            paragraphs.append(" ".join(current))
            current = []
    paragraphs.append(" ".join(current))
    return code, [p for p in paragraphs if p]


def joined(lines: list[str]) -> list[str]:
    """Shell lines with their backslash continuations joined."""
    out: list[str] = []
    pending = ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
        else:
            out.append(pending + line)
            pending = ""
    return out


def readme_commands(text: str) -> list[str]:
    code, prose = fenced_and_prose(text)
    commands = [line.strip() for line in joined(code) if line.strip().startswith("edgebench ")]
    for paragraph in prose:
        subject = FLAGS_OF.search(paragraph)
        for span in INLINE_CODE.findall(paragraph):
            if span.startswith("scripts/run.sh "):
                commands.append("edgebench run " + span.removeprefix("scripts/run.sh "))
            elif subject and span.startswith("--") and paragraph.index(f"`{span}`") > subject.start():
                commands.append(f"edgebench {subject[1]} {span}")
            commands.extend(span[match.start() :] for match in COMMAND_WORD.finditer(span))
    return list(dict.fromkeys(commands))  # each once, in README order


def words(command: str) -> list[str]:
    """The arguments edgebench would receive: up to a comment or redirection, optional [brackets] and … removed."""
    out = []
    for token in shlex.split(command, comments=True)[1:]:
        if token in SHELL_STOPS:
            break
        if token.startswith("["):  # [--json], [--csv FILE]; but --device pi4[,pi5] keeps its brackets
            token = token[1:]
        if token.endswith("]") and "[" not in token:
            token = token[:-1]
        if token and token != "…":
            out.append(token)
    return out


def _takes_value(option: click.Option) -> bool:
    return not option.is_flag and not option.count and option.nargs != 0


def _options(command: click.Command, ctx: click.Context) -> dict[str, click.Option]:
    params = command.get_params(ctx)  # with the help option the context adds
    return {name: p for p in params if isinstance(p, click.Option) for name in (*p.opts, *p.secondary_opts)}


def _check_flags(command: click.Command, ctx: click.Context, args: list[str], where: str) -> list[str]:
    """Problems with the flags in ``args`` for ``command``; positional words are left to it."""
    options = _options(command, ctx)
    found = []
    for i, arg in enumerate(args):
        if not arg.startswith("-") or arg == "-":
            continue
        name, has_value, _ = arg.partition("=")
        option = options.get(name)
        if option is None:
            found.append(f"{where} has no option {name}")
        # A flag alone at the end is prose naming it ("`--runs`/`--min-secs`"); before another flag, a slip.
        elif _takes_value(option) and not has_value and args[i + 1 : i + 2] and args[i + 1].startswith("--"):
            found.append(f"{where} {name} needs a value")
    return found


def _leading_options(command: click.Command, ctx: click.Context, args: list[str]) -> int:
    """How many of ``args`` are a group's own options (with their values) before its subcommand's name."""
    options = _options(command, ctx)
    i = 0
    while i < len(args) and args[i].startswith("-"):
        name, has_value, _ = args[i].partition("=")
        option = options.get(name)
        i += 2 if option is not None and _takes_value(option) and not has_value else 1
    return i


def _problems(command: click.Command, ctx: click.Context, where: str, args: list[str]) -> list[str]:
    if not isinstance(command, click.Group):
        return _check_flags(command, ctx, args, where)
    own = _leading_options(command, ctx, args)
    found = _check_flags(command, ctx, args[:own], where)
    rest = args[own:]
    if found or not rest:
        return found
    name, rest = rest[0], rest[1:]
    for sub_name in command.list_commands(ctx) if PLACEHOLDER.fullmatch(name) else [name]:
        sub = command.get_command(ctx, sub_name)
        if sub is None:
            return [f"{where} has no command {sub_name} (it has {', '.join(command.list_commands(ctx))})"]
        sub_ctx = click.Context(sub, info_name=sub_name, parent=ctx)
        found += _problems(sub, sub_ctx, f"{where} {sub_name}", rest)
    return found


def problems(command_line: str) -> list[str]:
    """Why ``command_line`` would not parse as an edgebench command; empty if it would."""
    ctx = click.Context(cli, info_name="edgebench", **cli.context_settings)
    return _problems(cli, ctx, "edgebench", words(command_line))


COMMANDS_OF = {page.relative_to(ROOT).as_posix(): readme_commands(page.read_text(encoding="utf-8")) for page in PAGES}
COMMANDS = list(dict.fromkeys(command for commands in COMMANDS_OF.values() for command in commands))


def test_the_docs_show_command_lines_from_code_blocks_and_inline_code() -> None:
    assert len(COMMANDS) >= 25
    assert len(COMMANDS_OF["README.md"]) >= 10  # the workflow's commands, on the front page
    reports = COMMANDS_OF["docs/history-and-reports.md"]
    assert "edgebench report RUN --html report.html               # one file, opens offline: tables + plots" in reports
    assert "edgebench devices check pi4 --inventory lab.toml" in COMMANDS_OF["docs/boards.md"]  # inline
    assert "edgebench history --export release=4.1 --to baseline.json" in COMMANDS_OF["docs/gate.md"]  # across lines
    measuring = COMMANDS_OF["docs/measuring.md"]
    assert "edgebench run --cpus 0-1" in measuring  # "Measurement flags of `run`: … `--cpus 0-1`"
    assert any(
        c.startswith("edgebench gate --baseline-model models/released.keras") and "--junit-xml" in c
        for c in COMMANDS_OF["docs/gate.md"]
    )
    assert not [c for c in COMMANDS if c.startswith("edgebench:")]  # error messages are not commands


@pytest.mark.parametrize("command_line", COMMANDS)
def test_a_documented_command_line_names_a_real_command_and_real_flags(command_line: str) -> None:
    assert problems(command_line) == []


def test_the_readme_stays_a_front_page() -> None:
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: move the detail into a guide under docs/"


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")


def broken_links(page: Path) -> list[str]:
    """Each relative link to a Markdown page from ``page`` that names no file, or no heading in it."""
    found = []
    for target, fragment in PAGE_LINK.findall(page.read_text(encoding="utf-8")):
        linked = (page.parent / target).resolve()
        if not linked.is_file():
            found.append(f"{target}: no such page")
        elif fragment not in {"", *map(anchor, HEADING.findall(FENCED_BLOCK.sub("", linked.read_text("utf-8"))))}:
            found.append(f"{target}#{fragment}: no such heading")
    return found


def test_the_readme_links_into_docs_and_every_link_resolves() -> None:
    linked = {target for target, _ in PAGE_LINK.findall(README.read_text(encoding="utf-8"))}
    guides = {page.relative_to(ROOT).as_posix() for page in PAGES if page.parent.name == "docs"}
    assert guides - linked == set(), "every guide is reached from the front page"
    for page in PAGES:
        assert broken_links(page) == [], page.relative_to(ROOT)


def test_a_broken_link_is_named(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("# A guide\n\n## In CI\n\n```toml\n# port = 22\n```\n")
    page = tmp_path / "README.md"
    page.write_text("[g](guide.md#in-ci) [x](missing.md) [y](guide.md#port--22) [web](https://example.com/a.md)\n")
    assert broken_links(page) == ["missing.md: no such page", "guide.md#port--22: no such heading"]


@pytest.mark.parametrize(
    ("command_line", "problem"),
    [
        ("edgebench runn --json", "edgebench has no command runn"),
        ("edgebench run --no-such-flag", "edgebench run has no option --no-such-flag"),
        ("edgebench report --delegates cpu", "edgebench report has no option --delegates"),
        ("edgebench devices chek pi4", "edgebench devices has no command chek"),
        ("edgebench devices check pi4 --inventry lab.toml", "edgebench devices check has no option --inventry"),
        ("edgebench run --threads --json", "edgebench run --threads needs a value"),
        ("edgebench --debg run", "edgebench has no option --debg"),
        ("edgebench COMMAND --jsn", "edgebench convert has no option --jsn"),
    ],
)
def test_a_wrong_command_line_is_caught_naming_what_is_wrong(command_line: str, problem: str) -> None:
    assert any(found.startswith(problem) for found in problems(command_line)), problems(command_line)


def test_the_gate_help_states_the_policy_defaults() -> None:
    """Its thresholds are Thresholds()'s, whatever those become: the help is built from them, never copied."""
    root = click.Context(cli, info_name="edgebench", **cli.context_settings)
    gate = cli.get_command(root, "gate")
    assert gate is not None
    text = " ".join(gate.get_help(click.Context(gate, info_name="gate", parent=root)).split())
    limits = Thresholds()
    assert f"(p < {limits.alpha:g}, floor {limits.latency_floor * 100:g} %)" in text
    assert f"Memory: max({limits.memory_pct * 100:g} %, {limits.memory_mb:g} MB)" in text
    assert f"any growth past {limits.size_pct * 100:g} %" in text
    assert f"floor {limits.accuracy_points:g} points" in text


# A repository path a guide names: scripts/…, tests/…, edgebench/…, converter/…, device_runner/…, android_app/…
REPO_PATH = re.compile(
    r"`((?:scripts|tests|edgebench|edgebench_records|converter|device_runner)/[\w/.-]+\.(?:py|sh|c))`"
)


def test_every_file_a_guide_names_exists() -> None:
    """Files move (tests into tiers, records into one package): a guide that names an old path is stale."""
    missing = [
        f"{page.relative_to(ROOT)}: {path}"
        for page in PAGES
        if page.name != "CHANGELOG.md"  # history names files as they were
        for path in REPO_PATH.findall(page.read_text())
        if not (ROOT / path).exists()
    ]
    assert missing == []
