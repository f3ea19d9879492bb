"""Debian's headless Chromium as the report tests start it: its own profile, no background traffic, and
every request through a proxy the test chooses (a recording one, or a dead port: nothing may be fetched)."""

from __future__ import annotations

from pathlib import Path


def chromium_command(
    chromium: str, profile: Path, *, proxy_port: int, window: tuple[int, int], local_app: bool = False
) -> list[str]:
    """``local_app``: a web app served on 127.0.0.1 that draws with WebGL (Model Explorer): loopback is reached
    directly rather than through the proxy, and WebGL runs on SwiftShader, Chromium's CPU renderer."""
    graphics = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader"] if local_app else ["--disable-gpu"]
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        *graphics,
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        f"--proxy-bypass-list={'127.0.0.1' if local_app else '<-loopback>'}",
        f"--window-size={window[0]},{window[1]}",
    ]
