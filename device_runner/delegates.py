"""Builds an interpreter for one delegate, turning each way a delegate can fail into a status."""

from __future__ import annotations

from typing import Any

from device_runner.runtime import Runtime


class DelegateUnavailable(RuntimeError):
    """The delegate does not exist on this device (or this runtime)."""


class DelegateFailed(RuntimeError):
    """The delegate exists but could not prepare this model."""


# Delegates that only the Android runners (android_app/, benchmark_model) can reach.
ANDROID_ONLY = ("nnapi", "gpu")


def parse_external(delegate: str) -> tuple[str, dict[str, str]]:
    """``external:/path/lib.so;key=value;key=value`` -> (path, options)."""
    spec = delegate.removeprefix("external:")
    path, *pairs = spec.split(";")
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"delegate option {pair!r} in {delegate!r} is not key=value")
        options[key] = value
    return path, options


def make_interpreter(runtime: Runtime, model_path: str, delegate: str, threads: int) -> Any:
    """Construct and allocate; raises DelegateUnavailable / DelegateFailed with the reason."""
    api = runtime.interpreter
    kwargs: dict[str, Any] = {"model_path": model_path, "num_threads": threads}
    if delegate == "xnnpack":
        pass  # LiteRT applies XNNPACK by default
    elif delegate == "cpu":
        kwargs["experimental_op_resolver_type"] = api.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    elif delegate.startswith("external:"):
        path, options = parse_external(delegate)
        try:
            kwargs["experimental_delegates"] = [api.load_delegate(path, options)]
        except (ValueError, OSError) as exc:
            raise DelegateUnavailable(f"cannot load delegate library {path}: {exc}") from exc
        kwargs["experimental_op_resolver_type"] = api.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    elif delegate in ANDROID_ONLY:
        raise DelegateUnavailable(f"{delegate} delegate is only reachable on Android (android_app or benchmark_model)")
    else:
        raise DelegateUnavailable(f"unknown delegate {delegate!r}")
    try:
        interpreter = api.Interpreter(**kwargs)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        if delegate == "cpu":
            raise  # no delegate involved: the model itself is at fault
        raise DelegateFailed(f"{delegate} failed to prepare the model: {exc}") from exc
    return interpreter
