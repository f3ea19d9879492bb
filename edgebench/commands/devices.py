"""``edgebench devices``: the inventory, and a check of what a device can run."""

from __future__ import annotations

import json
from typing import Any

import click
from click.core import ParameterSource

from edgebench.commands.options import accept_host_key_option, inventory_option, json_option
from edgebench.errors import ExitCode
from edgebench.inventory import AdbTarget, load_inventory

EPILOG = """\b
Examples:
  edgebench devices                      # every device edgebench knows
  edgebench devices check pi4            # can pi4 run the runner? Python, runtime, disk, CPU, temperature
  edgebench devices check pixel          # a phone: model, SoC, Android/API, ABI, free space, runner present
  edgebench devices setup pi4 --offline  # a venv with numpy and LiteRT on the board, wheels sent from here
  edgebench devices --inventory lab.toml --json

\b
The inventory is TOML, read from --inventory, else ./edgebench.toml, else ~/.config/edgebench/devices.toml:
  [devices.pi4]
  kind = "ssh"
  host = "192.168.1.40"
  user = "pi"
  key = "~/.ssh/id_ed25519"
  workdir = "edgebench"
Optional: python (else the venv `devices setup` made in workdir, else python3), port,
host_key (pinned "ssh-ed25519 AAAA…"), known_hosts, connect_timeout_s, command_timeout_s.

\b
An Android phone (see `edgebench push --help`):
  [devices.pixel]
  kind = "adb"
  serial = "R5CT1234ABC"        # or "192.168.1.50:5555"
  transport = "adb-server"      # or "direct" (adb-shell, edgebench's own key; no SDK needed)
  runner = "app"                # or "benchmark_model" with benchmark_model = "/path/on/host"
  apk = "android_app/app/build/outputs/apk/release/app-release.apk"
"""


@click.group(invoke_without_command=True, epilog=EPILOG)
@inventory_option
@json_option
@click.pass_context
def devices(ctx: click.Context, inventory: str | None, as_json: bool) -> None:
    """List the devices in the inventory (`local` is always there)."""
    ctx.obj = {"inventory": inventory, "as_json": as_json}
    if ctx.invoked_subcommand is not None:
        return
    from edgebench.report import devices_view

    inv = load_inventory(inventory)
    rows = devices_view.rows(inv)
    if as_json:
        click.echo(json.dumps({"inventory": str(inv.path) if inv.path else None, "devices": rows}, indent=1))
        return
    from edgebench.report.table import console_for_stdout

    devices_view.render(rows, f"devices ({inv.path or 'no inventory file'})", console_for_stdout())


def _own_or_group(ctx: click.Context, param: str, own: object) -> Any:
    """``devices --inventory F check X`` and ``devices check X --inventory F`` alike: the flag after `check`
    wins, else the group's (which holds the environment variable or default when neither was typed)."""
    return own if ctx.get_parameter_source(param) is ParameterSource.COMMANDLINE else ctx.obj[param]


@devices.command(epilog="\b\nExample:\n  edgebench devices check pi4 --json --inventory lab.toml")
@click.argument("name")
@inventory_option
@accept_host_key_option
@json_option
@click.pass_context
def check(ctx: click.Context, name: str, inventory: str | None, accept_new_host_key: bool, as_json: bool) -> int:
    """Connect to NAME and report what it can run: Python/runtime (boards) or model/SoC/API/runner (phones)."""
    from edgebench.devices import get_device

    inventory, as_json = _own_or_group(ctx, "inventory", inventory), _own_or_group(ctx, "as_json", as_json)
    report = get_device(name, load_inventory(inventory), accept_new_host_key, flag="devices check NAME").check()
    if as_json:
        click.echo(json.dumps({"name": name, **report}, indent=1))
    else:
        from edgebench.report.devices_view import check_lines

        click.echo("\n".join(check_lines(name, report)))
    return int(ExitCode.OK)


SETUP_EPILOG = """\b
Examples:
  edgebench devices setup pi4                      # the board's pip installs numpy and ai-edge-litert
  edgebench devices setup pi4 --offline            # an air-gapped bench: wheels fetched here, sent over SSH
  edgebench devices setup pi3 --runtime tflite-runtime   # 32-bit boards have no ai-edge-litert wheel

\b
The venv goes in the device's workdir; `run` and `push` use it when the inventory names no python.
Running setup again changes nothing unless the runtime asked for changed.
"""


@devices.command(epilog=SETUP_EPILOG)
@click.argument("name")
@click.option("--offline", is_flag=True, help="Fetch the board's wheels on this machine and send them over.")
@click.option(
    "--runtime",
    type=click.Choice(["ai-edge-litert", "tflite-runtime"]),
    help="Default: ai-edge-litert where it has wheels (aarch64, x86_64), else tflite-runtime 2.14.",
)
@inventory_option
@accept_host_key_option
@json_option
@click.pass_context
def setup(
    ctx: click.Context,
    name: str,
    offline: bool,
    runtime: str | None,
    inventory: str | None,
    accept_new_host_key: bool,
    as_json: bool,
) -> int:
    """Provision board NAME: a venv with numpy and a LiteRT runtime, checked by importing it there."""
    from edgebench.devices import get_device
    from edgebench.devices.provision import Runtime
    from edgebench.devices.remote import RemoteDevice
    from edgebench.errors import EdgebenchError

    inventory, as_json = _own_or_group(ctx, "inventory", inventory), _own_or_group(ctx, "as_json", as_json)
    inv = load_inventory(inventory)
    device = get_device(name, inv, accept_new_host_key, flag="devices setup NAME")
    if not isinstance(device, RemoteDevice) or isinstance(inv.devices.get(name), AdbTarget):
        raise EdgebenchError(f"devices setup {name}: only SSH boards are set up (`local` and phones need none)")
    done = device.setup(Runtime(runtime) if runtime else None, offline)
    if as_json:
        click.echo(json.dumps({"name": name, "python": done.python, "runtime": done.runtime, "changed": done.changed}))
    else:
        state = "set up" if done.changed else "already set up"
        click.echo(f"{name}: {state}: {done.runtime} in {done.python}")
    return int(ExitCode.OK)
