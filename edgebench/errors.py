"""Exit codes CI can rely on, and the one error type the CLI turns into a single line."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a regression or a failed measurement was found
    USAGE = 2  # bad input or broken infrastructure: nothing trustworthy was decided


class EdgebenchError(Exception):
    """A problem the user can fix; the message names the file, device, flag or delegate at fault."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code


class LinkLost(EdgebenchError):
    """The connection to a device broke; what was already pulled is kept. Transports raise it with the
    transport's own words; the device adds its name and the resume command."""
