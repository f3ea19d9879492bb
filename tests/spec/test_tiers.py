"""The test tiers: every spec module sits in a tier's folder, where scripts/test.sh's tiers find it."""

from __future__ import annotations

from tests.conftest import ROOT

TIERS = ("spec", "integration", "e2e")


def test_every_test_module_is_in_a_tier_folder() -> None:
    tests = ROOT / "tests"
    modules = [path.relative_to(tests) for path in tests.rglob("test_*.py")]
    stray = [str(module) for module in modules if module.parts[0] not in TIERS]
    assert stray == [], "move each into tests/spec, tests/integration or tests/e2e by what it needs (tests/conftest.py)"
