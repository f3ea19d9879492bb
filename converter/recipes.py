"""How each variant is made from the source model: one small function per variant.

A recipe that needs a Keras model (any fine-tuning) or a float graph (any re-conversion) is
``not_applicable`` when the source cannot give one, with the reason, rather than failing; so is one
that fine-tunes when the data has no labelled training set (synthetic inputs, no ``x_train``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from converter import techniques
from converter.keras_load import batch_one_converter
from converter.source import Data, SourceModel, load_student
from converter.structure import Unsupported
from converter.techniques import EpochCallback, FineTune, TrainingSet, Wrapper, training_set
from edgebench_records.catalogue import VARIANT_SPECS, VARIANTS, Options, VariantSpec

CALIBRATION_SAMPLES = 200
PRUNING, CLUSTERING, QAT = Wrapper.PRUNING, Wrapper.CLUSTERING, Wrapper.QAT


@dataclass(frozen=True)
class Context:
    source: SourceModel
    data: Data
    options: Options
    on_epoch: EpochCallback
    training: Callable[[], TrainingSet]  # what fine-tuning fits, made once per conversion (``shared_training``)
    # The last fine-tuned model by ``Recipe.tunes``, shared across the conversion: a pair's second variant
    # converts the first one's model instead of training its own (one kept: a pair is made in a row).
    tuned: dict[str, Any] = field(default_factory=dict)

    @property
    def tune(self) -> FineTune:
        o = self.options
        return FineTune(o.epochs, o.learning_rate, o.batch_size, self.on_epoch)

    @property
    def train(self) -> TrainingSet:
        return self.training()


def shared_training(source: SourceModel, data: Data, options: Options) -> Callable[[], TrainingSet]:
    """The training set, made on first use (it runs the source model over the training inputs) and then shared
    by every technique of the conversion."""
    return cache(lambda: training_set(source, data, options))


@dataclass(frozen=True)
class Built:
    flatbuffer: bytes
    finetune_s: float = 0.0
    notes: tuple[str, ...] = ()  # what was repaired or assumed on the way, for the variant record


@dataclass(frozen=True)
class Recipe:
    """How a variant of the catalogue (``spec``: its name, whether it trains, the options it reads) is made."""

    spec: VariantSpec
    describe: Callable[[Options], str]  # the manifest's line, with the options' values
    build: Callable[[Context], Built]
    converts: bool = True  # needs a float graph to convert (not possible from a .tflite) ...
    quantizes: bool = False  # ... unless ai-edge-quantizer makes it from a float .tflite instead
    calibrates: bool = False  # its int8 scales come from the calibration inputs
    # The fine-tuning it shares with the other variant of its pair (float32 and int8 of one technique): one
    # trained model, converted twice. "": its own.
    tunes: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def trains(self) -> bool:
        return self.spec.trains

    @property
    def reads(self) -> frozenset[str]:
        return self.spec.reads


def _representative(ctx: Context) -> Callable[[], Iterator[list[np.ndarray] | dict[str, np.ndarray]]]:
    """Calibration samples with every input: by input name when there are several (TF orders a converted
    model's inputs its own way, and its calibrator feeds a dict through the model's signature)."""
    inputs = ctx.data.calibration
    names = [tensor.name for tensor in ctx.source.inputs]
    order = np.random.default_rng(ctx.options.seed).permutation(len(inputs[0]))[:CALIBRATION_SAMPLES]

    def samples() -> Iterator[list[np.ndarray] | dict[str, np.ndarray]]:
        for i in order:
            sample = [x[i : i + 1] for x in inputs]
            yield sample if len(sample) == 1 else dict(zip(names, sample, strict=True))

    return samples


def _source_converter(ctx: Context) -> Any:
    assert ctx.source.make_converter is not None  # not_applicable() keeps .tflite sources away
    return ctx.source.make_converter()


def _convert(converter: Any) -> bytes:
    return bytes(converter.convert())


# TensorFlow's int8 calibrator crashes its process (a segfault) on a graph with a WHILE loop: what GRU and
# SimpleRNN layers become (an LSTM is fused into one op instead). Such a model's calibrated variants are refused
# before they are tried.
LOOP_REFUSAL = (
    "TensorFlow's int8 calibration crashes on a recurrent loop (WHILE, from a GRU or SimpleRNN layer: "
    "tensorflow/tensorflow#87468); dynamic_int8 needs no calibration"
)


def _source_ops(ctx: Context) -> frozenset[str]:
    """The ops of the source's float conversion: what a recipe that converts the source (or a fine-tuned copy of
    it, whose layers are the source's) calibrates."""
    return ctx.source.float_ops() if ctx.source.make_converter is not None else frozenset()


def _student_ops(ctx: Context) -> frozenset[str]:
    """The ops of the --student's float conversion: a distilled variant converts the student, not the source."""
    from device_runner.flatbuffer import read_model_info

    if not ctx.options.student:  # the technique says what to give
        return frozenset()
    student = load_student(Path(ctx.options.student), ctx.source)
    converted = _convert(batch_one_converter(student, ctx.source.loading.free_batch))
    return frozenset(op.name for op in read_model_info(converted).ops)


def _refuse_loops(ops: frozenset[str]) -> None:
    if "WHILE" in ops:
        raise Unsupported(LOOP_REFUSAL)


def _full_integer(converter: Any, ctx: Context, sparse: bool = False) -> bytes:
    import tensorflow as tf

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if sparse:
        converter.optimizations.insert(0, tf.lite.Optimize.EXPERIMENTAL_SPARSITY)
    converter.representative_dataset = _representative(ctx)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if not ctx.options.float_io:
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return _convert(converter)


def _trained(
    technique: Callable[[Any, Context], Any],
    to_flatbuffer: Callable[[Any, Context], bytes],
    tunes: str = "",
    wraps: tuple[Wrapper, ...] = (),
    graph: Callable[[Context], frozenset[str]] = _source_ops,
) -> Callable[[Context], Built]:
    """Fine-tune a fresh copy of the Keras model with ``technique``, then convert it; with ``tunes``, convert
    the model its pair fine-tuned already in this conversion, if there is one (``Context.tuned``). ``wraps``: the
    TFMOT techniques it applies, whose unsupported layers it notes (``techniques.left_alone``); ``graph``: the ops
    of the model it converts (the source's layers, or the student's), whose loops int8 calibration cannot take."""

    def build(ctx: Context) -> Built:
        if to_flatbuffer is not _as_fp32:  # refused before it trains, not after
            _refuse_loops(graph(ctx))
        model, finetune_s = ctx.tuned.get(tunes), 0.0
        notes: tuple[str, ...] = ()
        if model is not None:
            # stripped of its wrappers, a pair's model has the source's layers: what the technique left alone, too
            notes = (
                f"the fine-tuned model of both {tunes} variants, trained once",
                *techniques.left_alone(model, wraps),
            )
        else:
            assert ctx.source.load_keras is not None
            start = time.perf_counter()
            techniques.reseeded(ctx.options.seed)
            source = ctx.source.load_keras()
            notes = tuple(techniques.left_alone(source, wraps))
            model = technique(source, ctx)
            finetune_s = time.perf_counter() - start
            if tunes:
                ctx.tuned.clear()
                ctx.tuned[tunes] = model
        flatbuffer = to_flatbuffer(batch_one_converter(model, ctx.source.loading.free_batch), ctx)
        return Built(flatbuffer, finetune_s, notes)

    return build


def _fp32(ctx: Context) -> Built:
    return Built(_convert(_source_converter(ctx)))


def _fp16(ctx: Context) -> Built:
    import tensorflow as tf

    converter = _source_converter(ctx)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    return Built(_convert(converter))


def _dynamic(ctx: Context) -> Built:
    import tensorflow as tf

    converter = _source_converter(ctx)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return Built(_convert(converter))


def _int8(ctx: Context) -> Built:
    _refuse_loops(_source_ops(ctx))
    return Built(_full_integer(_source_converter(ctx), ctx))


def float_model(source: SourceModel) -> bytes:
    """The float flatbuffer ai-edge-quantizer works from: the given .tflite, or the source converted to fp32."""
    if source.tflite is not None:
        return source.tflite.read_bytes()
    if source.make_converter is None:
        raise Unsupported("needs a Keras model, SavedModel or float .tflite to quantise")
    return _convert(source.make_converter())


def calibration_samples(ctx: Context) -> list[list[np.ndarray]]:
    """Up to ``CALIBRATION_SAMPLES`` samples, one array per input, in the source's input order (a given file's
    own; a converted float model's as its signature names them)."""
    inputs = ctx.data.calibration
    count = min(CALIBRATION_SAMPLES, len(inputs[0]))
    return [[x[i : i + 1] for x in inputs] for i in range(count)]


def _quantized(scheme: str) -> Callable[[Context], Built]:
    """The variant made by ai-edge-quantizer from the float flatbuffer: the given .tflite, or the source
    converted to fp32 (a recipe TensorFlow's converter has no switch for, such as weight-only int8)."""

    def build(ctx: Context) -> Built:
        from converter.tflite_quantize import Scheme, quantize_tflite

        given = float_model(ctx.source)
        calibration = calibration_samples(ctx) if scheme == Scheme.FULL_INT8 else None
        made = quantize_tflite(given, Scheme(scheme), calibration, float_io=ctx.options.float_io)
        origin = f"the given {ctx.source.tflite.name}" if ctx.source.tflite else "the source converted to float32"
        return Built(made.flatbuffer, notes=(f"made by ai-edge-quantizer from {origin}", *made.notes))

    return build


def _graph_or_quantized(from_graph: Callable[[Context], Built], scheme: str) -> Callable[[Context], Built]:
    """TensorFlow's converter where there is a graph to convert, else ai-edge-quantizer on the .tflite."""
    from_file = _quantized(scheme)
    return lambda ctx: from_graph(ctx) if ctx.source.make_converter is not None else from_file(ctx)


def _mixed(ctx: Context) -> Built:
    from converter import mixed  # it builds on this module's Context and helpers

    return mixed.build(ctx)


def _mixed_describe(o: Options) -> str:
    from converter import mixed

    return mixed.describe(o)


def _as_fp32(converter: Any, ctx: Context) -> bytes:
    return _convert(converter)


def _as_int8(converter: Any, ctx: Context) -> bytes:
    return _full_integer(converter, ctx)


def _as_sparse_int8(converter: Any, ctx: Context) -> bytes:
    return _full_integer(converter, ctx, sparse=ctx.options.keep_sparsity)


def _as_qat_int8(converter: Any, ctx: Context) -> bytes:
    # The fake-quant ranges learned in training set the scales; calibration only covers unwrapped layers.
    return _full_integer(converter, ctx)


def _prune(model: Any, ctx: Context) -> Any:
    return techniques.prune(model, ctx.train, ctx.tune, ctx.options.sparsity)


def _cluster(model: Any, ctx: Context) -> Any:
    return techniques.cluster(model, ctx.train, ctx.tune, ctx.options.clusters)


def _channel_pruned(model: Any, ctx: Context) -> Any:
    """Channels removed, then distilled from the source model (``model``, left whole) as teacher."""
    o = ctx.options
    distill = techniques.Distill(model, o.distill_temperature, o.distill_alpha)
    tune = techniques.recovering(ctx.tune, o.recovery_factor)
    return techniques.channel_pruned(model, ctx.train, tune, o.channel_ratio, o.stream_ratio, distill)


def _low_rank(model: Any, ctx: Context) -> Any:
    tune = techniques.recovering(ctx.tune, ctx.options.recovery_factor)
    return techniques.low_rank(model, ctx.train, tune, ctx.options.low_rank_energy)


def _pruned_qat(model: Any, ctx: Context) -> Any:
    return techniques.pruned_qat(model, ctx.train, ctx.tune, ctx.options.sparsity)


def _clustered_qat(model: Any, ctx: Context) -> Any:
    return techniques.clustered_qat(model, ctx.train, ctx.tune, ctx.options.clusters)


def _pruned_clustered(model: Any, ctx: Context) -> Any:
    return techniques.pruned_clustered(model, ctx.train, ctx.tune, ctx.options.sparsity, ctx.options.clusters)


def _pruned_clustered_qat(model: Any, ctx: Context) -> Any:
    return techniques.pruned_clustered_qat(model, ctx.train, ctx.tune, ctx.options.sparsity, ctx.options.clusters)


def _distilled(model: Any, ctx: Context) -> Any:
    """The user's ``--student`` trained from the source model (``model``) as teacher."""
    o = ctx.options
    if not o.student:
        raise Unsupported("needs a student model: give --student PATH (a .keras or .h5 file with the source's shapes)")
    student = load_student(Path(o.student), ctx.source)
    assert ctx.source.predict is not None and ctx.data.train is not None
    teacher = ctx.source.predict(ctx.data.train)
    distill = techniques.Distill(model, o.distill_temperature, o.distill_alpha)
    tune = techniques.recovering(ctx.tune, o.recovery_factor)
    return techniques.student_distilled(student, ctx.train, tune, distill, teacher)


def _channels(o: Options) -> str:
    return (
        f"channel-pruned to {o.channel_ratio:g} of the filters (L1 norm × BatchNorm scale; a smaller dense model; "
        f"residual streams {f'to {o.stream_ratio:g}' if o.stream_ratio < 1 else 'kept whole'}), "
        f"distilled from the source (T={o.distill_temperature:g}, alpha={o.distill_alpha:g}) where labels are "
        f"class ids, {_recovery(o)}"
    )


FOLDED = "BatchNorm folded"


def _stacked(o: Options, *steps: str) -> str:
    """Techniques stacked, each fine-tuned --epochs (``techniques.stages``), BatchNorm folded among them."""
    tuned = [step for step in steps if step != FOLDED]
    return (
        f"{', then '.join(steps)}; each technique fine-tuned {o.epochs} epochs at lr {o.learning_rate:g} "
        f"({len(tuned)}× --epochs in all); full-integer int8 ({_io(o)})"
    )


def _student(o: Options) -> str:
    return (
        f"the --student model {Path(o.student).name or '(none given)'} distilled from the source "
        f"(T={o.distill_temperature:g}, alpha={o.distill_alpha:g}) where labels are class ids, else fitted to "
        f"the source's outputs, {_recovery(o)}"
    )


def _recovery(o: Options) -> str:
    factor, rate = o.recovery_factor, techniques.RECOVERY_LR
    return (
        f"fine-tuned {o.epochs * factor} epochs at lr {o.learning_rate * rate:g} ({factor}× --epochs, {rate:g}× --lr)"
    )


def _io(o: Options) -> str:
    return "float32 I/O" if o.float_io else "int8 I/O"


def _tuned(o: Options) -> str:
    return f"fine-tuned {o.epochs} epochs at lr {o.learning_rate:g}"


def _recipe(name: str, describe: Callable[[Options], str], build: Callable[[Context], Built], **how: Any) -> Recipe:
    return Recipe(VARIANT_SPECS[name], describe, build, **how)


def _float_and_int8(
    name: str,
    how: Callable[[Options], str],
    technique: Callable[[Any, Context], Any],
    wraps: tuple[Wrapper, ...] = (),
    graph: Callable[[Context], frozenset[str]] = _source_ops,
) -> tuple[Recipe, Recipe]:
    """A fine-tuned technique as two variants: ``name`` in float32 and ``name_int8`` in full-integer int8, of one
    fine-tuned model (whose ops ``graph`` gives)."""
    float32 = _trained(technique, _as_fp32, name, wraps)
    return (
        _recipe(name, lambda o: f"{how(o)}; float32", float32, tunes=name),
        _recipe(
            f"{name}_int8",
            lambda o: f"{how(o)}; full-integer int8 ({_io(o)})",
            _trained(technique, _as_int8, name, wraps, graph),
            tunes=name,
        ),
    )


RECIPES = {
    recipe.name: recipe
    for recipe in (
        _recipe("fp32", lambda o: "float32, no optimisation", _fp32),
        _recipe(
            "fp16",
            lambda o: "float16 weights (float32 compute where the kernel needs it)",
            _graph_or_quantized(_fp16, "fp16"),
            quantizes=True,
        ),
        _recipe(
            "dynamic_int8",
            lambda o: "dynamic-range int8: int8 weights, float activations",
            _graph_or_quantized(_dynamic, "dynamic_int8"),
            quantizes=True,
        ),
        _recipe(
            "weight_int8",
            lambda o: "weight-only int8: int8 weights de-quantised at load, float32 compute",
            _quantized("weight_int8"),
            quantizes=True,
        ),
        _recipe(
            "int8",
            lambda o: f"full-integer int8 ({_io(o)}), calibrated on {CALIBRATION_SAMPLES} samples",
            _graph_or_quantized(_int8, "full_int8"),
            quantizes=True,
            calibrates=True,
        ),
        _recipe("mixed_int8", _mixed_describe, _mixed, quantizes=True, calibrates=True),
        _recipe(
            "pruned",
            lambda o: f"magnitude-pruned to {o.sparsity:g} sparsity (polynomial), {_tuned(o)}; float32",
            _trained(_prune, _as_fp32, "pruned", (PRUNING,)),
            tunes="pruned",
        ),
        _recipe(
            "pruned_int8",
            lambda o: (
                f"pruned to {o.sparsity:g}, {_tuned(o)}; full-integer int8 ({_io(o)})"
                + ("; stored sparse (EXPERIMENTAL_SPARSITY)" if o.keep_sparsity else "")
            ),
            _trained(_prune, _as_sparse_int8, "pruned", (PRUNING,)),
            tunes="pruned",
        ),
        _recipe(
            "pruned_2x4",
            lambda o: f"structured 2:4 pruning, {_tuned(o)}; float32",
            _trained(lambda m, ctx: techniques.prune_2_by_4(m, ctx.train, ctx.tune), _as_fp32, wraps=(PRUNING,)),
        ),
        *_float_and_int8(
            "clustered", lambda o: f"{o.clusters} clusters (linear init), {_tuned(o)}", _cluster, (CLUSTERING,)
        ),
        _recipe(
            "qat_int8",
            lambda o: f"quantisation-aware training, {_tuned(o)}; int8 ({_io(o)})",
            _trained(lambda m, ctx: techniques.quantization_aware(m, ctx.train, ctx.tune), _as_qat_int8, wraps=(QAT,)),
        ),
        _recipe(
            "pqat_int8",
            lambda o: _stacked(o, f"pruned to {o.sparsity:g} sparsity", FOLDED, "QAT keeping the zeros"),
            _trained(_pruned_qat, _as_qat_int8, wraps=(PRUNING, QAT)),
        ),
        _recipe(
            "cqat_int8",
            lambda o: _stacked(o, FOLDED, f"{o.clusters} clusters", "QAT keeping the clusters"),
            _trained(_clustered_qat, _as_qat_int8, wraps=(CLUSTERING, QAT)),
        ),
        _recipe(
            "pruned_clustered_int8",
            lambda o: _stacked(
                o, f"pruned to {o.sparsity:g} sparsity", FOLDED, f"{o.clusters} clusters keeping the zeros"
            ),
            _trained(_pruned_clustered, _as_int8, wraps=(PRUNING, CLUSTERING)),
        ),
        _recipe(
            "pcqat_int8",
            lambda o: _stacked(
                o,
                f"pruned to {o.sparsity:g} sparsity",
                FOLDED,
                f"{o.clusters} clusters keeping the zeros",
                "QAT keeping both",
            ),
            _trained(_pruned_clustered_qat, _as_qat_int8, wraps=(PRUNING, CLUSTERING, QAT)),
        ),
        *_float_and_int8("channel_pruned", _channels, _channel_pruned),
        _recipe(
            "low_rank",
            lambda o: (
                f"Dense and 1x1 convolution kernels factorised by truncated SVD keeping {o.low_rank_energy:g} of the "
                f"singular-value energy where that makes them smaller, {_recovery(o)}; float32"
            ),
            _trained(_low_rank, _as_fp32),
        ),
        *_float_and_int8("distilled", _student, _distilled, graph=_student_ops),
    )
}
if tuple(RECIPES) != VARIANTS:  # the catalogue the CLI lists and the recipes name the same variants, in order
    raise ImportError(f"converter/recipes.py makes {', '.join(RECIPES)}; the catalogue lists {', '.join(VARIANTS)}")
