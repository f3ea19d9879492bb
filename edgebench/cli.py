"""The ``edgebench`` command: subcommands, and the one place errors become exit codes.

Each subcommand's module is imported only when that subcommand runs (or shows its help), and the
command modules import their work inside the command: ``edgebench --help`` loads click and nothing
heavy (no TensorFlow, SQLAlchemy, numpy or rich).
"""

from __future__ import annotations

import importlib
import io
import signal
import sys
import traceback
from dataclasses import dataclass

import click

from edgebench import __version__
from edgebench.errors import EdgebenchError, ExitCode
from edgebench_records import SchemaError

EPILOG = """\b
Examples:
  edgebench run                       # measure the bundled example on this machine
  edgebench convert                   # every compressed variant of it, compared with fp32
  edgebench run --model m.keras --data d.npz --delegates xnnpack,cpu
  edgebench run --help                # every command explains itself with examples

\b
Exit codes: 0 ok · 1 a regression or failed measurement was found · 2 usage or infrastructure error.
"""


class _State:
    debug = False


@dataclass(frozen=True)
class LazyCommand:
    module: str
    attribute: str
    summary: str  # the line `edgebench --help` shows, so listing the commands imports none of them


COMMANDS = {
    "convert": LazyCommand(
        "edgebench.commands.convert", "convert_command", "Make every compressed variant of a model, with its figures."
    ),
    "run": LazyCommand("edgebench.commands.run", "run", "Convert, measure every cell on a device, store, print."),
    "push": LazyCommand("edgebench.commands.run", "run", "The same as run, on devices named in the inventory."),
    "devices": LazyCommand("edgebench.commands.devices", "devices", "List the inventory; check what a device can run."),
    "history": LazyCommand("edgebench.commands.history", "history", "List stored runs; export some as a bundle."),
    "report": LazyCommand("edgebench.commands.report", "report", "Compare variants with fp32 and say what to ship."),
    "forecast": LazyCommand(
        "edgebench.commands.forecast", "forecast", "Predict which ops fall off each delegate, from a device's history."
    ),
    "tune": LazyCommand(
        "edgebench.commands.tune", "tune", "Search the recipes' settings for the best variant on a device."
    ),
    "gate": LazyCommand("edgebench.commands.gate", "gate", "Fail the release on a real regression, and only then."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        command = getattr(importlib.import_module(entry.module), entry.attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry.summary) for name, entry in COMMANDS.items()])


@click.group(
    cls=LazyGroup,
    epilog=EPILOG,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(__version__, prog_name="edgebench")
def cli(debug: bool) -> None:
    """Measure LiteRT model variants on real devices, keep the history, and gate releases."""
    _State.debug = debug


def main(argv: list[str] | None = None) -> None:
    # A terminal or CI log that cannot show ×, ·, — gets a '?' rather than a crash after the work is done.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill`, a CI job cancelled: stop as cleanly as on Ctrl-C
    sys.exit(invoke(argv))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def invoke(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this)."""
    _State.debug = False
    if argv and any("\0" in arg for arg in argv):  # only reachable in-process: exec cannot pass a NUL byte
        click.echo("edgebench: an argument contains a NUL byte", err=True)
        return ExitCode.USAGE
    try:
        result = cli.main(args=argv, prog_name="edgebench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE
    except click.Abort:
        click.echo("edgebench: aborted", err=True)
        return ExitCode.USAGE
    except EdgebenchError as exc:
        if _State.debug:
            traceback.print_exc()
        click.echo(f"edgebench: {exc}", err=True)
        return exc.code
    except (OSError, SchemaError) as exc:  # the file system, or a record file: the message names the file
        if _State.debug:
            traceback.print_exc()
        click.echo(f"edgebench: {_os_error(exc)}", err=True)
        return ExitCode.USAGE
    except Exception as exc:
        return internal_error(exc)
    return int(result) if isinstance(result, int) else ExitCode.OK


def internal_error(exc: Exception) -> int:
    """A bug (a foreign exception no boundary translated): still one line, the traceback on request.
    The tests replace this with a re-raise, so no spec can pass while printing it."""
    if _State.debug:
        traceback.print_exc()
    click.echo(f"edgebench: internal error: {type(exc).__name__}: {exc} (rerun with --debug)", err=True)
    return ExitCode.USAGE


def _os_error(exc: OSError | SchemaError) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)
