"""What a board says about itself: its cores by name, its model, the CPU features that decide kernel choice,
and whether it is emulated."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path
from typing import Any

from device_runner.facts import cpu_cores, cpu_features, emulation
from edgebench.cpu_features import difference, listed
from edgebench.report.devices_view import check_lines
from edgebench_records import CpuFeature as F
from edgebench_records import DeviceFacts

PI4 = "".join(f"processor\t: {n}\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n\n" for n in range(4))
BIG_LITTLE = "CPU part\t: 0xd05\n" * 4 + "CPU part\t: 0xd0b\n" * 4


def test_arm_cores_are_named_and_counted_from_cpuinfo() -> None:
    assert cpu_cores(PI4) == "4× Cortex-A72"
    assert cpu_cores(BIG_LITTLE) == "4× Cortex-A55 + 4× Cortex-A76"
    assert cpu_cores("CPU part\t: 0xfff\n") == "1× ARM core 0xfff"  # unknown parts keep their number
    assert cpu_cores("model name\t: Intel(R) Xeon(R)\n") is None  # x86 names its model, not ARM parts


def test_a_native_process_is_not_emulated() -> None:
    assert emulation() is None


# Trimmed samples of real /proc/cpuinfo: a Sapphire Rapids Xeon, a Pi 4 and Pi 5 (as scripts/board.py writes
# them, Raspberry Pi OS's words), and an ARMv9 core with SVE2, SME and i8mm.
XEON_AMX = (
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C\nflags\t\t: fpu sse4_2 avx avx2 fma avx512f "
    "avx512dq avx512bw avx512vl avx512_bf16 avx512_vnni avx_vnni amx_bf16 amx_tile amx_int8 avx512_fp16\n"
    "vmx flags\t: vnmi preemption_timer\n\n"
)
ARMV9 = (
    "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop "
    "asimddp sve sve2 i8mm bf16 sme smei8i32 svebf16\nCPU part\t: 0xd81\n"
)


def board_cpuinfo(model: str) -> str:
    """The /proc/cpuinfo scripts/board.py mounts on its emulated Pi (loaded by path: scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("board", Path(__file__).parents[2] / "scripts" / "board.py")
    assert spec is not None and spec.loader is not None
    board: Any = sys.modules.setdefault("board", importlib.util.module_from_spec(spec))  # its dataclasses look it up
    spec.loader.exec_module(board)
    return str(board.cpuinfo(board.PI_MODELS[model]))


def test_x86_features_are_read_from_flags() -> None:
    assert cpu_features(XEON_AMX) == [
        F.AVX2, F.AVX512F, F.AVX512BW, F.AVX512VL, F.AVX512_VNNI, F.AVX_VNNI, F.AMX_TILE, F.AMX_INT8, F.AMX_BF16
    ]  # fmt: skip
    assert cpu_features("flags\t\t: fpu sse4_2 avx\n") == []  # an old x86: no kernel-deciding feature


def test_arm_features_are_read_from_features_in_the_same_vocabulary() -> None:
    assert cpu_features(board_cpuinfo("pi4")) == []  # Cortex-A72: NEON only, no dot product
    assert cpu_features(board_cpuinfo("pi5")) == [F.DOTPROD, F.FP16]  # Cortex-A76
    assert cpu_features(ARMV9) == [F.DOTPROD, F.I8MM, F.BF16, F.FP16, F.SVE, F.SVE2, F.SME]
    assert F.DOTPROD.int8 and F.AVX512_VNNI.int8 and not F.FP16.int8
    assert F.AVX512_VNNI.label == "AVX-512 VNNI"


def test_a_feature_counts_only_when_every_core_has_it_and_no_cpuinfo_is_unknown() -> None:
    big_little = "Features\t: fp asimd asimddp i8mm\n" * 4 + "Features\t: fp asimd asimddp\n" * 4
    assert cpu_features(big_little) == [F.DOTPROD]
    assert cpu_features("") is None  # unreadable cpuinfo: not looked at, not a CPU without features


def facts(*features: F) -> DeviceFacts:
    return DeviceFacts("ai_edge_litert", "2.1", "3.11", "2.0", "x86_64", "Xeon", 2, "Debian", "6.1", None, None,
                       cpu_features=list(features))  # fmt: skip


def test_a_difference_in_features_is_one_line_naming_it() -> None:
    xeon, older = facts(F.AVX2, F.AVX512F, F.AVX512_VNNI), facts(F.AVX2, F.AVX512F)
    assert difference(xeon, older, "baseline", "candidate") == (
        "baseline had AVX-512 VNNI, candidate did not: int8 timings are not comparable"
    )
    assert difference(facts(F.DOTPROD), facts(F.FP16), "pi5", "phone") == (
        "pi5 had int8 dot product, phone did not; phone had fp16 arithmetic, pi5 did not: timings are not comparable"
    )
    assert difference(xeon, xeon, "baseline", "candidate") == ""
    unread = dataclasses.replace(xeon, cpu_features=None)  # an older runner: unknown is no difference
    assert difference(xeon, unread, "baseline", "candidate") == difference(None, xeon, "a", "b") == ""
    assert listed(unread.cpu_features) == "not read (an older runner)"
    assert listed(older.cpu_features) == "AVX2, AVX-512F" and listed([]) == "none of those that decide kernel choice"


def test_devices_check_lists_a_boards_cpu_features() -> None:
    report: dict[str, object] = {"device": dataclasses.asdict(facts(F.DOTPROD, F.FP16))}
    assert "  CPU features: int8 dot product, fp16 arithmetic" in check_lines("pi5", report)
    report = {"device": dataclasses.asdict(facts()) | {"cpu_features": None}}
    assert "  CPU features: not read (an older runner)" in check_lines("old", report)
