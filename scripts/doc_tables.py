"""Benchmark scripts write their own tables into docs/: one generated block per script, stamped with when,
where and with what it was measured, so no figure in the docs is pasted by hand or left without its context.

A block sits between two marker lines naming its script; writing it again replaces only that block (the
rest of the page is prose written by people). A page without the block gets it appended.

    write_block(DOCS / "benchmarks.md", "bench_runner", table, packages=["ai-edge-litert", "numpy"])
    publish("bench_cli", table, packages=["click"])  # the same into docs/benchmarks.md, printed as well
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BENCHMARKS = DOCS / "benchmarks.md"


def begin_marker(name: str, script: str | None = None) -> str:
    """The block's first line; ``script`` names the writer when one script writes several blocks."""
    return f"<!-- BEGIN {name}: written by scripts/{script or name}.py, do not edit by hand -->"


def end_marker(name: str) -> str:
    return f"<!-- END {name} -->"


def cpu_model() -> str:
    """The CPU's marketing name (what decides which kernels ran), or the architecture where /proc says none."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def git_commit() -> str:
    """HEAD, with "+changes" when the work tree differs from it."""
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=ROOT, capture_output=True).returncode
    return out.stdout.strip() + (" +changes" if dirty else "")


# The code a benchmark measured is the code at its start: a bench runs for up to an hour, and the checkout may
# move under it (the imported modules do not).
COMMIT = git_commit()


def version_of(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def stamp(packages: Sequence[str] = ()) -> str:
    """One line saying when, on what machine and with which versions a table was measured."""
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(f"{name} {version_of(name)}" for name in ("edgebench", *packages))
    python = ".".join(map(str, sys.version_info[:3]))
    return (
        f"_Measured {when} on {cpu_model()} ({os.cpu_count()} cores, {platform.system()} {platform.release()}), "
        f"Python {python}, {versions}, commit {COMMIT}._"
    )


def render_block(name: str, body: str, packages: Sequence[str] = (), script: str | None = None) -> str:
    return f"{begin_marker(name, script)}\n{stamp(packages)}\n\n{body.strip()}\n{end_marker(name)}"


def replace_block(page: str, name: str, block: str) -> str:
    """The page with its block for ``name`` replaced by ``block`` (appended when the page has none)."""
    begin, end = f"<!-- BEGIN {name}:", end_marker(name)  # whichever script the marker names
    start = page.find(begin)
    if start < 0:
        return page.rstrip("\n") + "\n\n" + block + "\n"
    stop = page.find(end, start)
    if stop < 0:
        raise ValueError(f"{name}: the page has its BEGIN marker but no END marker")
    return page[:start] + block + page[stop + len(end) :]


def write_block(doc: Path, name: str, body: str, packages: Sequence[str] = (), script: str | None = None) -> None:
    """Write the script ``name``'s table (Markdown) into ``doc``, atomically, stamped with its context
    (``script``: the script's name when it is not ``name``, for a script that writes several blocks)."""
    page = doc.read_text() if doc.exists() else ""
    text = replace_block(page, name, render_block(name, body, packages, script))
    with tempfile.NamedTemporaryFile("w", dir=doc.parent, delete=False, suffix=".tmp") as tmp:
        tmp.write(text)
    os.replace(tmp.name, doc)
    print(f"wrote {name}'s table into {doc.relative_to(ROOT)}", file=sys.stderr)


def publish(name: str, body: str, packages: Sequence[str] = (), script: str | None = None) -> None:
    """A benchmark's result: printed as it always was, and written into docs/benchmarks.md as its block."""
    print(body)
    write_block(BENCHMARKS, name, body, packages, script)
