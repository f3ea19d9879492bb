"""tests/data/one_op_delegate.c's corruptions, each checked value by value on a tiny chain (``a`` = x + x,
``b`` = a * a, ``y`` = b + x): what scripts/bench_trust.py's subtle corruptions do is what their names say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from device_runner.engines import DelegateUnavailable, InterpreterEngine
from device_runner.flatbuffer import read_model_file
from device_runner.runtime import load_runtime
from tests.conftest import require
from tests.support import one_op
from tests.support.one_op import Mode
from tests.support.tiny_models import chain

X = np.linspace(-1.0, 1.0, 8, dtype=np.float32).reshape(1, 8)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return one_op.build(require("gcc", "gcc"), tmp_path_factory.mktemp("one_op"))


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chain(tmp_path_factory.mktemp("chain") / "chain.tflite")


def y(model: Path, delegate: str) -> np.ndarray:
    engine = InterpreterEngine(load_runtime(), model, read_model_file(model), delegate, 1)
    engine.set_inputs([X])
    engine.invoke()
    (out,) = engine.outputs()
    return out


def test_each_mode_corrupts_the_op_it_takes_as_its_name_says(
    library: Path, model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = (2 * X) ** 2  # the MUL's right result
    monkeypatch.setenv(one_op.AMOUNT_ENV, "0.03")
    channel = b.copy()
    channel[..., 0] *= -1  # one channel of eight: index 0 of the last axis
    expected = {
        Mode.FLIP: -b + X,
        Mode.REPLACE: 2 * X + X,  # the MUL skipped: its first input, a, passed on
        Mode.SCALE: 1.03 * b + X,
        Mode.CHANNEL: channel + X,
    }
    for mode, want in expected.items():
        np.testing.assert_allclose(y(model, one_op.delegate(library, "MUL", mode)), want, rtol=1e-6, err_msg=mode)


def test_count_limits_the_claim_to_the_first_nodes_in_execution_order(library: Path, model: Path) -> None:
    b = (-2 * X) ** 2  # the first ADD flipped; the MUL squares the sign away
    np.testing.assert_allclose(y(model, one_op.delegate(library, "ADD", count=1)), b + X, rtol=1e-6)
    np.testing.assert_allclose(y(model, one_op.delegate(library, "ADD")), -(b + X), rtol=1e-6)  # both ADDs


def test_the_defaults_come_back_for_each_delegate_made_in_one_process(library: Path, model: Path) -> None:
    """The library is loaded once per process; a delegate without options is not the previous one's."""
    y(model, one_op.delegate(library, "MUL", Mode.REPLACE, count=1))
    np.testing.assert_allclose(y(model, f"external:{library}"), -((2 * X) ** 2 + X), rtol=1e-6)  # both ADDs flipped


@pytest.mark.parametrize("option", ["mode=sideways", "count=0", "op=CONV_2D"])
def test_a_bad_option_is_refused_when_the_delegate_is_made(library: Path, model: Path, option: str) -> None:
    with pytest.raises(DelegateUnavailable, match="cannot load delegate library"):
        y(model, f"external:{library};{option}")


def test_a_bad_amount_is_refused_too(library: Path, model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(one_op.AMOUNT_ENV, "few")
    with pytest.raises(DelegateUnavailable, match="cannot load delegate library"):
        y(model, one_op.delegate(library, "MUL", Mode.SCALE))
