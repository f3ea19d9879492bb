"""A crashed cell's status line names what killed it: the exception a traceback ends with, not its first line."""

from __future__ import annotations

from device_runner.sweep import crash_cause

TRACEBACK = """Traceback (most recent call last):
  File "/board/device_runner/cell.py", line 88, in run_cell
    interpreter.allocate_tensors()
RuntimeError: tensorflow/lite/kernels/reshape.cc:92 num_input_elements != num_output_elements (36 != 48)
"""


def test_a_traceback_is_summed_up_by_its_exception_line_first_with_the_tail_after() -> None:
    first, *rest = crash_cause(TRACEBACK).splitlines()
    assert (
        first
        == "RuntimeError: tensorflow/lite/kernels/reshape.cc:92 num_input_elements != num_output_elements (36 != 48)"
    )
    assert "\n".join(rest) == TRACEBACK.strip()  # the whole tail is kept for whoever reads the message


def test_a_single_line_is_said_once_and_silence_is_said_so() -> None:
    assert crash_cause("Fatal Python error: Segmentation fault\n") == "Fatal Python error: Segmentation fault"
    assert crash_cause("") == "no stderr"
