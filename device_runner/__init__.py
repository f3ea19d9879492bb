"""Runs on the device: measures each (variant x delegate x threads) cell of a plan.

Self-contained by design (standard library, numpy, and ai_edge_litert or tflite_runtime) so the
folder can be copied onto a board, with edgebench_records/ (the plan and cell result it reads and
writes) beside it, and run with ``python -m device_runner``.
"""

__version__ = "0.1.0"
# The folders a board needs side by side (edgebench/devices/remote.py copies them; the host's own runs find
# them beside each other in the install).
PACKAGES = ("device_runner", "edgebench_records")
