"""Runs on the device: measures each (variant x delegate x threads) cell of a plan.

Self-contained by design (standard library, numpy, and ai_edge_litert or tflite_runtime) so the
folder can be copied onto a board and run with ``python -m device_runner``.
"""

__version__ = "0.1.0"
