"""``mixed_int8``: full-integer int8 but for the layers that add the most int8 error, which stay float32.

Made by ai-edge-quantizer from the float ``.tflite`` (the given file, or the source converted to float32) for
every source, in its isolated child like the other variants it makes: its full int8 is compared with the float
model layer by layer (``converter.layer_error``), the ops ranked by the error each adds, and the model quantised
again with a selective recipe that leaves the first N of them unquantised (each between a DEQUANTIZE and a
QUANTIZE). One path for Keras, SavedModel and ``.tflite`` sources: the ranking's tensor names are the float
``.tflite``'s own, which is what the recipe's scopes match, whereas TensorFlow's ``QuantizationDebugger`` denylist
names graph nodes of a Keras or SavedModel conversion only and has no ``.tflite`` path.

N is ``--mixed-float-layers``; 0 (the default) chooses it. With labelled data and ``--max-accuracy-drop``, N is the
fewest of the ``MIXED_CAP`` worst layers that keep top-1 within the drop of float32 (one quantisation per count
tried); when no count up to the cap does, the best one tried is kept and the variant's notes say so. Otherwise N
is read off the ranking alone, at no further quantisation: the layers that add at least ``STANDOUT`` of what the
worst one adds (up to ``MIXED_CAP``), the few that stand out where int8 breaks one layer.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from converter.host_scoring import run_on_host
from converter.layer_error import Unavailable, layer_errors
from converter.ports import layout_of
from converter.recipes import Built, Context, calibration_samples, float_model
from converter.structure import Unsupported
from converter.tflite_quantize import Scheme, quantize_tflite
from device_runner import accuracy
from device_runner.flatbuffer import read_model_info
from device_runner.signature import output_names
from edgebench_records import LayerError, worst_layers
from edgebench_records.catalogue import Options

MIXED_CAP = 8  # most layers a search keeps in float: past that, the variant is hardly int8 any more
STANDOUT = 0.5  # without a drop to meet: a layer stays float if it adds at least this share of the worst one's error


@dataclass(frozen=True)
class Judged:
    """One count of float layers, tried: its figure against the target (lower is better) and whether it meets it."""

    count: int
    figure: float
    meets: bool


def standing_out(layers: list[LayerError]) -> list[LayerError]:
    """The worst layers (at most ``MIXED_CAP``) that add at least ``STANDOUT`` of what the worst one adds; none when
    no layer adds any error."""
    ranked = worst_layers(layers, MIXED_CAP)
    top = ranked[0].added if ranked else 0.0
    return [layer for layer in ranked if top > 0 and layer.added >= STANDOUT * top]


def smallest_meeting(counts: range, judge: Callable[[int], Judged]) -> tuple[Judged, list[Judged]]:
    """The first count (in order) whose candidate meets the target, else the best tried (the smallest figure,
    then the fewest layers); with every candidate tried, in order."""
    tried = []
    for count in counts:
        tried.append(judge(count))
        if tried[-1].meets:
            return tried[-1], tried
    if not tried:
        raise ValueError("no count of float layers to try")
    return min(tried, key=lambda j: (j.figure, j.count)), tried


@dataclass(frozen=True)
class _Target:
    """What a candidate is judged by: a figure of its outputs (lower is better) and the most it may be."""

    describe: str  # "top-1 drop (points)", "output error"
    figure: Callable[[list[np.ndarray]], float]
    limit: float


def describe(o: Options) -> str:
    """The manifest's line for the variant, from its options (the layers it kept are in its notes)."""
    io = "float32 I/O" if o.float_io else "int8 I/O"
    if o.mixed_float_layers:
        which = f"the {o.mixed_float_layers} layers"
    elif o.max_accuracy_drop is not None:
        which = (
            f"the fewest (at most {MIXED_CAP}) layers that keep top-1 within {o.max_accuracy_drop:g} points of "
            f"float32 (with labels; else those adding ≥ {STANDOUT:g}× the worst one's error), taken from those"
        )
    else:
        which = f"the layers (at most {MIXED_CAP}) adding ≥ {STANDOUT:g}× the worst one's error, taken from those"
    return (
        f"full-integer int8 ({io}) but for {which} that add the most int8 error, kept in float32 "
        "(ai-edge-quantizer selective recipe)"
    )


def build(ctx: Context) -> Built:
    float32 = float_model(ctx.source)
    calibration = calibration_samples(ctx)
    float_io = ctx.options.float_io

    def quantized(layers: tuple[str, ...]) -> bytes:
        return quantize_tflite(float32, Scheme.FULL_INT8, calibration, float_io=float_io, keep_float=layers).flatbuffer

    full = quantized(())
    val = ctx.data.val
    float_feed = layout_of(float32, read_model_info(float32), ctx.source).feed(val)
    full_feed = layout_of(full, read_model_info(full), ctx.source).feed(val)
    try:
        errors = layer_errors(float32, float_feed, full, full_feed)
    except Unavailable as exc:  # no ranking, nothing to choose from: the variant does not apply, and says why
        raise Unsupported(f"mixed_int8 needs its full int8's {exc}") from None
    wanted = ctx.options.mixed_float_layers
    ranking = tuple(layer.tensor for layer in worst_layers(errors, wanted or MIXED_CAP))
    if wanted:
        kept = ranking[:wanted]
        short = f" (the model has only {len(ranking)} to rank)" if len(ranking) < wanted else ""
        return Built(quantized(kept), notes=(_kept(kept) + short,))
    target = _target(ctx, float32, val)
    if target is None:  # no labels or no drop given: the layers that stand out, read off the ranking
        kept = tuple(layer.tensor for layer in standing_out(errors))
        count = f"{len(kept)} layer{'' if len(kept) == 1 else 's'}"
        note = f"{count} adding ≥ {STANDOUT:g}× the worst one's error kept in float32"
        return Built(quantized(kept), notes=(note, _kept(kept)))
    return _search(ctx, ranking, quantized, target)


def _search(
    ctx: Context, ranking: tuple[str, ...], quantized: Callable[[tuple[str, ...]], bytes], target: _Target
) -> Built:
    """The fewest of ``ranking``'s first layers kept float whose candidate meets ``target``, else the best tried."""
    made: dict[int, bytes] = {}

    def judge(count: int) -> Judged:
        made[count] = quantized(ranking[:count])
        feed = layout_of(made[count], read_model_info(made[count]), ctx.source).feed(ctx.data.val)
        figure = target.figure(_outputs(made[count], feed))
        return Judged(count, figure, figure <= target.limit)

    chosen, tried = smallest_meeting(range(1, len(ranking) + 1), judge)
    figures = ", ".join(f"{j.count}: {j.figure:.3g}" for j in tried)
    goal = f"{target.describe} ≤ {target.limit:.3g}"
    verdict = (
        f"{chosen.count} of the worst layers kept in float32, the fewest with {goal}"
        if chosen.meets
        else f"warning: no count of float layers up to {len(ranking)} reached {goal}; kept the best, {chosen.count}"
    )
    return Built(made[chosen.count], notes=(f"{verdict} (by layers kept: {figures})", _kept(ranking[: chosen.count])))


def _kept(layers: tuple[str, ...]) -> str:
    return f"kept in float32: {', '.join(repr(name) for name in layers) or 'none'}"


def _target(ctx: Context, float32: bytes, val: list[np.ndarray]) -> _Target | None:
    """Top-1 within --max-accuracy-drop of float32, when the data has labels and the drop is given."""
    drop, labels = ctx.options.max_accuracy_drop, ctx.data.y_val
    if drop is None or labels is None or ctx.data.synthetic:
        return None
    info = read_model_info(float32)
    names = output_names(float32, info)
    float_top1 = _top1(_outputs(float32, layout_of(float32, info, ctx.source).feed(val)), labels, ctx, names)
    if float_top1 is None:  # labels that are not class ids: no top-1 to hold
        return None
    return _Target(
        "top-1 drop in points",
        lambda outs: 100 * (float_top1 - (_top1(outs, labels, ctx, names) or 0.0)),
        drop,
    )


def _top1(outputs: list[np.ndarray], labels: np.ndarray, ctx: Context, names: list[str]) -> float | None:
    return accuracy.score(outputs, labels, None, ctx.options.task, names).top1


def _outputs(flatbuffer: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The model's outputs on the host (XNNPACK, as the variants are scored), de-quantised."""
    with tempfile.TemporaryDirectory(prefix="edgebench-mixed-") as folder:
        path = Path(folder) / "candidate.tflite"
        path.write_bytes(flatbuffer)
        host = run_on_host(path, read_model_info(flatbuffer), inputs)
    if host.outputs is None:
        raise ValueError(f"the host cannot run a mixed_int8 candidate: {host.problem}")
    return host.outputs
