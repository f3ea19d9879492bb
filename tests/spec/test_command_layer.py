"""The command layer only parses flags and renders results (issue 28): no function in edgebench/commands/
grows past a screen or takes a parameter per flag. Flags that belong together reach a command as one record
(commands/groups.py, the measurement and conversion options); the work lives below, in the packages it
belongs to, and never imports the command layer (tests/test_progress.py)."""

from __future__ import annotations

import ast
from pathlib import Path

COMMANDS = Path(__file__).parents[2] / "edgebench" / "commands"
MAX_LINES = 40  # from the def line to the last line of the body, signature and docstring included
MAX_PARAMETERS = 12


def functions() -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    found = []
    for path in sorted(COMMANDS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            (f"{path.name}:{node.lineno} {node.name}", node)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
    return found


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = node.args
    return len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs) + bool(args.vararg) + bool(args.kwarg)


def test_the_check_sees_the_commands() -> None:
    assert {"gate", "run", "report", "history", "convert_command"} <= {node.name for _, node in functions()}


def test_no_command_function_is_longer_than_a_screen() -> None:
    long = {name: (node.end_lineno or node.lineno) - node.lineno + 1 for name, node in functions()}
    assert {name: lines for name, lines in long.items() if lines > MAX_LINES} == {}


def test_no_command_function_takes_a_parameter_per_flag() -> None:
    many = {name: parameters(node) for name, node in functions()}
    assert {name: count for name, count in many.items() if count > MAX_PARAMETERS} == {}
