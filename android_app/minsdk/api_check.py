"""minSdk check: compile the app's Java against Android API 23's real class library and name every
java.*/javax.* member it lacks.

    python3 api_check.py --system IMG --baseline FILE [--classpath CP] [--write-baseline] SOURCES...

Debian ships one real Android class library (API 23, android23_system.sh); the app's minSdk is 26. A
member javac cannot find against API 23 is therefore either an API 24-26 member (allowed: listed in the
baseline, each one reviewed against the Android reference when added) or newer than minSdk (a crash on
old phones: `InputStream.readAllBytes()` is API 33). Anything not in the baseline fails. Keys name the
member, not the line: `InputStream.readAllBytes()`, `Double.isFinite(double)`. Classes wholly new at API 24-26
come from api24-26-classes/ (only the members the app uses, each read in api-versions.xml), patched into the
API 23 image's java.base, so a member newer than its class (`Path.of`, API 34) fails like any other.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_ERROR = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+): error: (?P<msg>.*)$")
_SYMBOL = re.compile(r"^\s+symbol:\s+(?P<kind>class|method|variable|constructor)\s+(?P<what>.+?)\s*$")
_LOCATION = re.compile(r"^\s+location:\s+(?P<where>.+?)\s*$")
_OF_TYPE = re.compile(r"of type (?P<type>[\w.$<>?, ]+)$")
_PACKAGE = re.compile(r"^package (?P<pkg>[\w.]+) does not exist$")
_CANNOT_ACCESS = re.compile(r"^cannot access (?P<cls>[\w.$]+)$")


def _owner(location: str) -> str:
    typed = _OF_TYPE.search(location)
    if typed:
        return typed.group("type").split("<")[0]
    words = location.split()
    return words[-1].split("<")[0] if words else "?"


def _signature(what: str) -> str:
    """`removeIf((unit)->!u[...]only))` → `removeIf(?)`: argument types javac could not name are `?`."""
    if "(" not in what:
        return what
    name, args = what.split("(", 1)
    args = args[:-1] if args.endswith(")") else args
    parts, depth, current = [], 0, ""
    for ch in args:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch in "(<"
        depth -= ch in ")>"
        current += ch
    if current:
        parts.append(current)
    named = ["?" if "->" in part or "<null>" in part or "::" in part else part.strip() for part in parts]
    return f"{name}({','.join(named)})"


def missing_members(javac_output: str) -> tuple[list[str], list[str]]:
    """(keys of API members javac could not find, other errors verbatim)."""
    keys: list[str] = []
    other: list[str] = []
    lines = javac_output.splitlines()
    for i, line in enumerate(lines):
        error = _ERROR.match(line)
        if not error:
            continue
        msg = error.group("msg")
        package = _PACKAGE.match(msg)
        if package:
            keys.append(f"package {package.group('pkg')}")
            continue
        access = _CANNOT_ACCESS.match(msg)
        if access:
            keys.append(f"class {access.group('cls')}")
            continue
        if msg != "cannot find symbol":
            other.append(line)
            continue
        symbol = location = None
        for follow in lines[i + 1 : i + 6]:
            symbol = symbol or _SYMBOL.match(follow)
            location = location or _LOCATION.match(follow)
        if symbol is None:
            other.append(line)
            continue
        kind, what = symbol.group("kind"), symbol.group("what")
        if kind == "class" or (kind == "variable" and what[:1].isupper() and not what.isupper()):
            # an unresolved type (a class, or an unresolved import's simple name used as a qualifier)
            keys.append(f"class {what}")
        else:
            owner = _owner(location.group("where")) if location else "?"
            keys.append(f"{owner.rsplit('.', 1)[-1]}.{_signature(what)}")
    return sorted(set(keys)), other


def rewritten_baseline(previous: str, keys: list[str]) -> str:
    """The baseline for `keys`, keeping the previous file's header comments and each kept key's level note;
    a key new to the file is marked for review (its level read in api-versions.xml, see the header)."""
    header = [line for line in previous.splitlines() if line.startswith("#")]
    notes: dict[str, str] = {}
    for line in previous.splitlines():
        key, _, note = line.partition("#")
        if key.strip():
            notes[key.strip()] = note.strip()
    width = max((len(key) for key in keys), default=0) + 3
    body = [f"{key.ljust(width)}# {notes.get(key) or 'API ?: REVIEW before committing'}" for key in keys]
    return "".join(f"{line}\n" for line in header + body)


NEWER = Path(__file__).resolve().parent / "api24-26-classes"


def newer_classes(system: str, sources: Path, out: Path) -> tuple[list[str], list[str]]:
    """Compiles the classes wholly new at API 24-26 that the app uses (`sources`: each holding only the members
    the app calls, every one read in api-versions.xml at 24-26) into `out`, as a patch of the API 23 image's
    java.base; gives the javac options that put them beside it, and javac's errors (none expected)."""
    files = sorted(str(f) for f in sources.rglob("*.java"))
    packages = sorted({str(Path(f).parent.relative_to(sources)).replace("/", ".") for f in files})
    patch = ["--system", system, "--patch-module", f"java.base={sources}"]
    built = subprocess.run(["javac", *patch, "-d", str(out), *files], capture_output=True, text=True)
    errors = [line for line in (built.stdout + built.stderr).splitlines() if line.strip()]
    options = ["--patch-module", f"java.base={out}"]
    for package in packages:
        options += ["--add-exports", f"java.base/{package}=ALL-UNNAMED"]
    return options, errors


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", required=True, help="the API 23 system image (android23_system.sh)")
    parser.add_argument("--baseline", required=True, type=Path)
    parser.add_argument("--newer", type=Path, default=NEWER, help="the API 24-26 classes' reviewed members")
    parser.add_argument("--classpath", default="")
    parser.add_argument("--write-baseline", action="store_true")
    parser.add_argument("sources", nargs="+")
    args = parser.parse_args(argv)
    out = Path(tempfile.mkdtemp(prefix="api_check_"))
    try:
        newer, errors = newer_classes(args.system, args.newer, out / "newer")
        if errors:
            print("api_check: the API 24-26 classes do not compile:", *errors, sep="\n", file=sys.stderr)
            return 1
        cmd = [
            "javac",
            "-proc:none",
            "-Xmaxerrs",
            "10000",
            "-XDstringConcat=inline",
            "--system",
            args.system,
            *newer,
            "-d",
            str(out / "app"),
            *(["-cp", args.classpath] if args.classpath else []),
            *args.sources,
        ]
        javac = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    keys, other = missing_members(javac.stdout + javac.stderr)
    if other:
        reason = "api_check: javac failed for another reason than a missing API member:"
        print(reason, *other, sep="\n", file=sys.stderr)
        return 1
    if args.write_baseline:
        args.baseline.write_text(rewritten_baseline(args.baseline.read_text() if args.baseline.exists() else "", keys))
        return 0
    allowed = {line.split("#")[0].strip() for line in args.baseline.read_text().splitlines()} - {""}
    new = [key for key in keys if key not in allowed]
    if new:
        print(
            "api_check: not in Android API 23 and not a reviewed API 24-26 member (minSdk 26): " + ", ".join(new),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
