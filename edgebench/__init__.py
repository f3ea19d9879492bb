"""edgebench: LiteRT variants measured on real devices, stored, reported and gated."""

__version__ = "0.1.0"
