"""What a board says about itself: its cores by name, its model, and whether it is emulated."""

from __future__ import annotations

from device_runner.facts import cpu_cores, emulation

PI4 = "".join(f"processor\t: {n}\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n\n" for n in range(4))
BIG_LITTLE = "CPU part\t: 0xd05\n" * 4 + "CPU part\t: 0xd0b\n" * 4


def test_arm_cores_are_named_and_counted_from_cpuinfo() -> None:
    assert cpu_cores(PI4) == "4× Cortex-A72"
    assert cpu_cores(BIG_LITTLE) == "4× Cortex-A55 + 4× Cortex-A76"
    assert cpu_cores("CPU part\t: 0xfff\n") == "1× ARM core 0xfff"  # unknown parts keep their number
    assert cpu_cores("model name\t: Intel(R) Xeon(R)\n") is None  # x86 names its model, not ARM parts


def test_a_native_process_is_not_emulated() -> None:
    assert emulation() is None
