"""List flags are bounded before they are expanded: a typo like --threads 1-100000 is refused at once, naming the
flag and the count, instead of parsing for minutes (each repeated value was counted by a scan of the whole list)."""

from __future__ import annotations

import time

import pytest

from edgebench.cli import invoke
from edgebench.commands.options import MAX_LIST_ENTRIES


@pytest.mark.parametrize(
    ("flag", "value", "count"), [("--threads", "1-100000000", "100,000,000"), ("--cpus", "0-2,3-5000", "5,001")]
)
def test_a_huge_range_is_refused_at_once_with_its_count(
    capsys: pytest.CaptureFixture[str], flag: str, value: str, count: str
) -> None:
    start = time.monotonic()
    assert invoke(["run", flag, value]) == 2
    assert time.monotonic() - start < 5
    err = capsys.readouterr().err
    assert f"Invalid value for {flag}: {value!r} names {count} values; at most {MAX_LIST_ENTRIES}" in err


def test_the_largest_list_still_parses_and_repeats_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert invoke(["run", "--cpus", f"0-{MAX_LIST_ENTRIES - 2},{MAX_LIST_ENTRIES - 2}"]) == 2
    assert f"{MAX_LIST_ENTRIES - 2} given more than once" in capsys.readouterr().err
