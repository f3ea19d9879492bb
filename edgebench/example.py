"""The bundled example: a compact MobileNet-style CNN on scikit-learn's digits (scripts/make_example.py)."""

from __future__ import annotations

from pathlib import Path

EXAMPLE_DIR = Path(__file__).resolve().parent / "example"
EXAMPLE_MODEL = EXAMPLE_DIR / "digits_mobilenet.keras"
EXAMPLE_DATA = EXAMPLE_DIR / "digits.npz"
