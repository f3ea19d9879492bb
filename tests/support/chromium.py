"""Debian's headless Chromium as the report tests start it: its own profile, no background traffic, and
every request through a proxy the test chooses (a recording one, or a dead port: nothing may be fetched)."""

from __future__ import annotations

from pathlib import Path


def chromium_command(chromium: str, profile: Path, *, proxy_port: int, window: tuple[int, int]) -> list[str]:
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--proxy-server=http://127.0.0.1:{proxy_port}",
        "--proxy-bypass-list=<-loopback>",
        f"--window-size={window[0]},{window[1]}",
    ]
