"""Compression techniques, each fine-tuned: TFMOT's prune, cluster and quantisation-aware training, stacked as
TFMOT's collaborative optimisation does (QAT that keeps a pruned model's zeros or a clustered model's clusters,
clustering that keeps the zeros), the structural ones (``converter/structure.py``): channel pruning (optionally
distilled), low-rank factorisation; and distillation into a user's student model.

Every function takes its own freshly loaded copy of the base model: TFMOT wrappers mutate the model
they wrap, so a shared copy would carry one technique's wrappers into the next. Layers a technique
cannot wrap (e.g. Rescaling) are left as they are, so models with preprocessing layers still compress.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from converter import structure
from converter.checks import labels_are_class_ids
from converter.source import Data, SourceModel
from edgebench_records.catalogue import Options

# Called after each fine-tuning epoch with (epoch, epochs).
EpochCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class FineTune:
    epochs: int
    learning_rate: float
    batch_size: int
    on_epoch: EpochCallback
    decay: bool = False  # the rate falls to 0 along a cosine over the run, else stays constant


@dataclass(frozen=True)
class TrainingSet:
    """What every technique fine-tunes on: one input array per model input, one target and loss per output."""

    x: list[np.ndarray]
    y: list[np.ndarray]
    losses: list[Any]  # a Keras loss (name or object) per output


def _label_loss(source: SourceModel, options: Options, reference: np.ndarray) -> Any:
    """The first output's loss: ``--loss``, else the model's compiled one, else one that fits the labels."""
    if options.loss != "auto":
        return options.loss
    compiled = source.loss
    if isinstance(compiled, dict):
        compiled = compiled.get(source.outputs[0].name)
    elif isinstance(compiled, list):
        compiled = compiled[0] if compiled else None
    if compiled is not None:
        return compiled
    if not labels_are_class_ids(options.task, source.classes):
        return "mse"
    flat = reference.reshape(len(reference), -1)
    probabilities = bool((flat >= 0).all()) and bool(np.allclose(flat.sum(axis=1), 1.0, atol=1e-3))
    import tf_keras

    return tf_keras.losses.SparseCategoricalCrossentropy(from_logits=not probabilities)


def training_set(source: SourceModel, data: Data, options: Options) -> TrainingSet:
    """The labels train the first output; every other output is held to the source model's own outputs
    (what it did before the technique touched it), with mean squared error."""
    assert source.predict is not None and data.train is not None and data.y_train is not None
    own = source.predict(data.train)
    labels = data.y_train
    if not labels_are_class_ids(options.task, source.classes) and labels.size == own[0].size:
        labels = labels.reshape(own[0].shape).astype(np.float32)
    return TrainingSet(
        x=data.train,
        y=[labels, *own[1:]],
        losses=[_label_loss(source, options, own[0]), *("mse" for _ in own[1:])],
    )


class Wrapper(StrEnum):
    """A TFMOT technique that wraps the layers its registry supports and leaves the others as they are."""

    PRUNING = "pruning"
    CLUSTERING = "clustering"
    QAT = "QAT"


def _supports(wrapper: Wrapper) -> Callable[[Any], bool]:
    from tensorflow_model_optimization.python.core.clustering.keras.clustering_registry import ClusteringRegistry
    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
        default_8bit_quantize_registry,
    )
    from tensorflow_model_optimization.python.core.sparsity.keras.prune_registry import PruneRegistry

    if wrapper is Wrapper.PRUNING:
        return PruneRegistry.supports  # type: ignore[no-any-return]
    if wrapper is Wrapper.CLUSTERING:
        return ClusteringRegistry.supports  # type: ignore[no-any-return]
    return default_8bit_quantize_registry.Default8BitQuantizeRegistry().supports  # type: ignore[no-any-return]


def left_alone(model: Any, wrappers: tuple[Wrapper, ...]) -> list[str]:
    """A note per technique of ``wrappers`` that leaves some of ``model``'s layers with weights as they are, since
    TFMOT does not support them (QAT a recurrent layer, pruning a Bidirectional wrapper): the variant is made, and
    says what in it the technique did not touch."""
    notes = []
    for wrapper in wrappers:
        supports = _supports(wrapper)
        # QAT runs on the model with its BatchNorm folded (``_folded``): there is none left for it to skip
        folded = ("BatchNormalization",) if wrapper is Wrapper.QAT else ()
        skipped = [
            f"{layer.name} ({type(layer).__name__})"
            for layer in model.layers
            if layer.weights and type(layer).__name__ not in folded and not supports(layer)
        ]
        if skipped:
            notes.append(f"left as they were by TFMOT's {wrapper}, which does not support them: {', '.join(skipped)}")
    return notes


def _wrap_supported(model: Any, supports: Callable[[Any], bool], wrap: Callable[[Any], Any]) -> Any:
    import tf_keras

    # Unsupported layers are returned as they are: rebuilding them from config would drop their weights.
    return tf_keras.models.clone_model(model, clone_function=lambda layer: wrap(layer) if supports(layer) else layer)


def _steps_per_epoch(train: TrainingSet, tune: FineTune) -> int:
    return int(np.ceil(len(train.x[0]) / tune.batch_size))


def _one_or_all(arrays: list[Any]) -> Any:
    return arrays[0] if len(arrays) == 1 else arrays


def _optimizer(tune: FineTune, steps_per_epoch: int) -> Any:
    import tf_keras

    rate: Any = tune.learning_rate
    if tune.decay:
        rate = tf_keras.optimizers.schedules.CosineDecay(rate, tune.epochs * steps_per_epoch)
    return tf_keras.optimizers.Adam(rate)


def _progress(tune: FineTune) -> Any:
    import tf_keras

    class Progress(tf_keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            tune.on_epoch(epoch + 1, tune.epochs)

    return Progress()


def _fit(model: Any, x: Any, y: Any, tune: FineTune, callbacks: list[Any] | None = None) -> None:
    model.fit(
        x,
        y,
        epochs=tune.epochs,
        batch_size=tune.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=[*(callbacks or []), _progress(tune)],
    )


def reseeded(seed: int) -> None:
    """Python's, NumPy's and TensorFlow's random state set to ``seed``: each fine-tuning starts from it, so a
    variant's bytes depend on its own options and data, not on what the process made before it (which is what
    the per-variant cache assumes when it keys a variant by them)."""
    import tf_keras

    tf_keras.utils.set_random_seed(seed)


def fine_tune(model: Any, train: TrainingSet, tune: FineTune, callbacks: list[Any] | None = None) -> Any:
    model.compile(optimizer=_optimizer(tune, _steps_per_epoch(train, tune)), loss=_one_or_all(train.losses))
    _fit(model, _one_or_all(train.x), _one_or_all(train.y), tune, callbacks)
    return model


def prune(model: Any, train: TrainingSet, tune: FineTune, sparsity: float) -> Any:
    """Magnitude pruning, polynomial schedule reaching ``sparsity`` before the last epoch ends."""
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.sparsity.keras.prune_registry import PruneRegistry

    total = _steps_per_epoch(train, tune) * tune.epochs
    end = max(1, int(total * 0.8))  # hold the final sparsity for the last steps so accuracy recovers
    schedule = tfmot.sparsity.keras.PolynomialDecay(
        0.0, sparsity, begin_step=0, end_step=end, frequency=max(1, end // 10)
    )
    wrapped = _wrap_supported(
        model,
        PruneRegistry.supports,
        lambda layer: tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule),
    )
    fine_tune(wrapped, train, tune, [tfmot.sparsity.keras.UpdatePruningStep()])
    return tfmot.sparsity.keras.strip_pruning(wrapped)


def prune_2_by_4(model: Any, train: TrainingSet, tune: FineTune) -> Any:
    """Structured 2:4 pruning: in every block of 4 weights, 2 are zero (what sparse kernels exploit)."""
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.sparsity.keras.prune_registry import PruneRegistry

    schedule = tfmot.sparsity.keras.ConstantSparsity(0.5, begin_step=0, frequency=1)
    wrapped = _wrap_supported(
        model,
        PruneRegistry.supports,
        lambda layer: tfmot.sparsity.keras.prune_low_magnitude(
            layer, pruning_schedule=schedule, sparsity_m_by_n=(2, 4)
        ),
    )
    fine_tune(wrapped, train, tune, [tfmot.sparsity.keras.UpdatePruningStep()])
    return tfmot.sparsity.keras.strip_pruning(wrapped)


def cluster(model: Any, train: TrainingSet, tune: FineTune, clusters: int, preserve_sparsity: bool = False) -> Any:
    """Weight clustering with linear centroid initialisation, fine-tuned; ``preserve_sparsity`` keeps a pruned
    model's zeros (one centroid held at zero, the zero weights masked)."""
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.clustering.keras.clustering_registry import ClusteringRegistry

    init = tfmot.clustering.keras.CentroidInitialization.LINEAR
    wrapped = _wrap_supported(
        model,
        ClusteringRegistry.supports,
        lambda layer: tfmot.clustering.keras.cluster_weights(
            layer, number_of_clusters=clusters, cluster_centroids_init=init, preserve_sparsity=preserve_sparsity
        ),
    )
    fine_tune(wrapped, train, tune)
    return tfmot.clustering.keras.strip_clustering(wrapped)


def quantization_aware(model: Any, train: TrainingSet, tune: FineTune) -> Any:
    """QAT: fake-quantise supported layers, fine-tune, leave the rest float."""
    # BatchNorm folded first: QAT fake-quantises the convolution's own kernel, after which TFLite cannot fold
    # the BatchNorm into it any more (13 MUL and 13 ADD left on the bundled example)
    return _quantize_trained(_folded(model), train, tune)


def _quantize_trained(model: Any, train: TrainingSet, tune: FineTune, scheme: Any = None) -> Any:
    """QAT on ``model`` (BatchNorm already folded) with TFMOT's default 8-bit scheme, or a collaborative one
    that keeps what an earlier technique made (zeros, clusters) while it trains."""
    import tensorflow_model_optimization as tfmot

    scheme = _folded_layout(scheme or tfmot.quantization.keras.default_8bit.Default8BitQuantizeScheme())
    annotated = _wrap_supported(
        model, scheme.get_quantize_registry().supports, tfmot.quantization.keras.quantize_annotate_layer
    )
    with tfmot.quantization.keras.quantize_scope():
        quantized = tfmot.quantization.keras.quantize_apply(annotated, scheme)
    return fine_tune(quantized, train, tune)


def _folded_layout(scheme: Any) -> Any:
    """``scheme`` made right for a model whose BatchNorm is folded, in two places:

    - a convolution or Dense layer feeding a ReLU keeps its kernel fake-quantised, with no fake-quant between
      it and the ReLU (as TFMOT does for convolution + BatchNorm + ReLU). TFMOT's own transform for that pair is
      written for Add + ReLU and turns the whole layer's quantisation off: its kernel would train unquantised,
      and a prune- or cluster-preserving quantizer would never run on it (the zeros and clusters drift away);
    - only layers TFMOT's default registry takes too are quantised: the collaborative registries claim every
      layer without trainable weights (the example's Rescaling) and then ask the default one, which fails.
    """
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.quantization.keras import quantize_aware_activation
    from tensorflow_model_optimization.python.core.quantization.keras import utils as quantize_utils
    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
        default_8bit_quantize_layout_transform,
        default_8bit_quantize_registry,
        default_8bit_transforms,
    )
    from tensorflow_model_optimization.python.core.quantization.keras.graph_transformations import model_transformer

    default = default_8bit_quantize_registry.Default8BitQuantizeRegistry()
    registry = scheme.get_quantize_registry()
    kernels = ("Conv2D", "DepthwiseConv2D", "Dense")

    class KernelReLU(default_8bit_transforms.LayerReLUQuantize):  # type: ignore[misc]
        def replacement(self, match_layer: Any) -> Any:
            node = match_layer.input_layers[0]
            config = node.layer["config"]
            if node.layer["class_name"] not in kernels or config.get("activation") != "linear":
                return super().replacement(match_layer)  # Add + ReLU, as TFMOT meant it
            no_op = quantize_aware_activation.NoOpActivation()
            config["activation"] = quantize_utils.serialize_activation(no_op, use_legacy_format=True)
            return match_layer

        def custom_objects(self) -> dict[str, Any]:
            return {**super().custom_objects(), "NoOpActivation": quantize_aware_activation.NoOpActivation}

    class KernelReLUActivation(KernelReLU):
        pattern = default_8bit_transforms.LayerReluActivationQuantize.pattern

    class Layout(default_8bit_quantize_layout_transform.Default8BitQuantizeLayoutTransform):  # type: ignore[misc]
        def apply(self, model: Any, layer_quantize_map: dict[str, Any]) -> Any:
            t = default_8bit_transforms
            transforms = [
                t.InputLayerQuantize(),
                t.SeparableConv1DQuantize(),
                t.SeparableConvQuantize(),
                t.Conv2DReshapeBatchNormReLUQuantize(),
                t.Conv2DReshapeBatchNormActivationQuantize(),
                t.Conv2DBatchNormReLUQuantize(),
                t.Conv2DBatchNormActivationQuantize(),
                t.Conv2DReshapeBatchNormQuantize(),
                t.Conv2DBatchNormQuantize(),
                t.ConcatTransform6Inputs(),
                t.ConcatTransform5Inputs(),
                t.ConcatTransform4Inputs(),
                t.ConcatTransform3Inputs(),
                t.ConcatTransform(),
                t.DenseBatchNormQuantize(),
                t.DenseBatchNormReLUQuantize(),
                t.DenseBatchNormActivationQuantize(),
                KernelReLU(),  # TFMOT's default list, with these two in place of LayerReLUQuantize and its kin
                KernelReLUActivation(),
            ]
            names = set(layer_quantize_map)
            return model_transformer.ModelTransformer(model, transforms, names, layer_quantize_map).transform()

    class Registry(tfmot.quantization.keras.QuantizeRegistry):  # type: ignore[misc]
        def supports(self, layer: Any) -> bool:
            return bool(default.supports(layer) and registry.supports(layer))

        def get_quantize_config(self, layer: Any) -> Any:
            return registry.get_quantize_config(layer)

    class Scheme(tfmot.quantization.keras.QuantizeScheme):  # type: ignore[misc]
        def get_layout_transformer(self) -> Any:
            return Layout()

        def get_quantize_registry(self) -> Any:
            return Registry()

    return Scheme()


def every(tune: FineTune, runs: int) -> EpochCallback:
    """An epoch callback for ``runs`` × ``tune.epochs`` epochs run in all (in one fit or in several) that reports
    ``tune.epochs`` of them to ``tune.on_epoch``, one after every ``runs`` run: the progress a caller counts per
    variant (``--epochs`` steps) advances evenly and ends where it should."""
    run = itertools.count(1)

    def report(epoch: int, epochs: int) -> None:
        done = next(run)
        if done % runs == 0:
            tune.on_epoch(done // runs, tune.epochs)

    return report


def stages(tune: FineTune, count: int) -> list[FineTune]:
    """``count`` fine-tuning stages of ``tune.epochs`` each, for techniques stacked on one another; together
    they report ``tune.epochs`` epochs (``every``)."""
    report = every(tune, count)
    return [FineTune(tune.epochs, tune.learning_rate, tune.batch_size, report) for _ in range(count)]


def _folded(model: Any) -> Any:
    """BatchNorm folded, on a copy with layers of its own: TFMOT's wrapping and stripping hand the layers it does
    not wrap (a Rescaling) on as they are, so after a technique they belong to several models, and
    ``structure``'s rewrites refuse a layer called in several places."""
    import tf_keras

    copy = tf_keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return structure.fold_batchnorm(copy)[0]


# Each stacked technique runs in stages of --epochs (``stages``). Pruning runs before BatchNorm is folded (the
# BatchNorm helps it recover, and folding scales each output channel, which keeps the zeros); clustering runs
# after (folding would rescale each output channel of a clustered kernel: the cluster-preserving QAT would find
# thousands of values in it and keep none).


def pruned_qat(model: Any, train: TrainingSet, tune: FineTune, sparsity: float) -> Any:
    """Pruned to ``sparsity``, then QAT that keeps the zeros (TFMOT's prune-preserving scheme)."""
    import tensorflow_model_optimization as tfmot

    first, second = stages(tune, 2)
    pruned = _folded(prune(model, train, first, sparsity))
    scheme = tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme()
    return _quantize_trained(pruned, train, second, scheme)


def clustered_qat(model: Any, train: TrainingSet, tune: FineTune, clusters: int) -> Any:
    """Clustered to ``clusters`` values per kernel, then QAT that keeps the clusters."""
    import tensorflow_model_optimization as tfmot

    first, second = stages(tune, 2)
    clustered = cluster(_folded(model), train, first, clusters)
    scheme = tfmot.experimental.combine.Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=False)
    return _quantize_trained(clustered, train, second, scheme)


def _prune_then_cluster(model: Any, train: TrainingSet, tunes: list[FineTune], sparsity: float, clusters: int) -> Any:
    pruned = _folded(prune(model, train, tunes[0], sparsity))
    return cluster(pruned, train, tunes[1], clusters, preserve_sparsity=True)


def pruned_clustered(model: Any, train: TrainingSet, tune: FineTune, sparsity: float, clusters: int) -> Any:
    """Pruned to ``sparsity``, then clustered keeping the zeros (sparsity-preserving clustering)."""
    return _prune_then_cluster(model, train, stages(tune, 2), sparsity, clusters)


def pruned_clustered_qat(model: Any, train: TrainingSet, tune: FineTune, sparsity: float, clusters: int) -> Any:
    """Pruned, clustered keeping the zeros, then QAT that keeps both (TFMOT's PCQAT)."""
    import tensorflow_model_optimization as tfmot

    *first, last = stages(tune, 3)
    clustered = _prune_then_cluster(model, train, first, sparsity, clusters)
    scheme = tfmot.experimental.combine.Default8BitClusterPreserveQuantizeScheme(preserve_sparsity=True)
    return _quantize_trained(clustered, train, last, scheme)


def _is_class_ids(train: TrainingSet) -> bool:
    import tf_keras

    loss = train.losses[0]
    return len(train.y) == 1 and (
        loss == "sparse_categorical_crossentropy" or isinstance(loss, tf_keras.losses.SparseCategoricalCrossentropy)
    )


@dataclass(frozen=True)
class Distill:
    """Knowledge distillation: the teacher's outputs, softened by ``temperature``; the loss is ``alpha`` × the
    hard-label loss + (1 − alpha) × T² × KL(teacher ‖ student) at temperature T."""

    teacher: Any  # a Keras model whose first output (probabilities or logits) the student learns
    temperature: float
    alpha: float


# Images are distilled shifted by up to this share of their side, a fresh draw every step, the teacher labelling
# each shifted image itself, so a narrower model learns the teacher's function rather than a few training images
# (the MobileNetV2 of scripts/make_bench_model.py needed shifts itself: 94 % top-1 without, 97.8 % with). At 30
# epochs they made no clear difference to its channel-pruned student (0.0 to -2.2 points with, -0.8 to -2.2
# without); the 60-epoch default was measured with them (-0.3 to -0.6), not without.
SHIFT = 0.1


def image_side(train: TrainingSet) -> int | None:
    """The smaller side of the one input when it is a batch of images (N, H, W, 1..4 channels), else None."""
    if len(train.x) != 1 or train.x[0].ndim != 4 or not 1 <= train.x[0].shape[-1] <= 4:
        return None
    side = min(train.x[0].shape[1:3])
    return int(side) if side >= 8 else None


def _shifter(side: int | None) -> Callable[[Any], Any]:
    """A batch of images moved by up to ``SHIFT`` × ``side`` pixels each way (edges mirrored), or as it is. The
    offsets come from a generator seeded by the process's seed, drawn for the whole batch outside the per-image
    loop: a random op inside ``map_fn`` draws in whatever order its parallel iterations run, and the same seed
    then gave a differently trained model in each run."""
    import tensorflow as tf

    if side is None:
        return lambda x: x
    pad = max(1, round(SHIFT * side))
    draws = tf.random.Generator.from_seed(int(np.random.randint(2**31)))  # np is seeded by ``reseeded``

    def shift(images: Any) -> Any:
        padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="SYMMETRIC")
        offsets = draws.uniform([tf.shape(images)[0], 2], 0, 2 * pad + 1, dtype=tf.int32)
        size = tf.shape(images)[1:3]
        return tf.map_fn(
            lambda pair: tf.slice(pair[0], [pair[1][0], pair[1][1], 0], [size[0], size[1], -1]),
            (padded, offsets),
            fn_output_signature=images.dtype,
        )

    return shift


def distillation_loss(distill: Distill, from_logits: bool) -> Any:
    """A loss whose ``y_true`` is [class id, teacher output...] per sample (what ``distilled`` feeds)."""
    import tensorflow as tf
    import tf_keras

    t = distill.temperature

    def log_soft(output: Any) -> Any:
        logits = output if from_logits else tf.math.log(tf.clip_by_value(output, 1e-7, 1.0))
        return tf.nn.log_softmax(logits / t)

    def loss(y_true: Any, y_pred: Any) -> Any:
        labels = tf.cast(y_true[:, 0], tf.int32)
        hard = tf_keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits)
        teacher = tf.exp(log_soft(y_true[:, 1:]))
        soft = tf.reduce_sum(teacher * (tf.math.log(tf.clip_by_value(teacher, 1e-7, 1.0)) - log_soft(y_pred)), -1)
        return distill.alpha * hard + (1.0 - distill.alpha) * t * t * soft

    return loss


def distilled(model: Any, train: TrainingSet, tune: FineTune, distill: Distill) -> Any:
    """Fine-tune ``model`` (the student) on the hard labels mixed with the teacher's soft targets, the teacher
    run on each batch as the student sees it: images shifted anew every step (``SHIFT``)."""
    import tensorflow as tf
    import tf_keras

    loss = train.losses[0]
    from_logits = bool(getattr(loss, "from_logits", False)) if not isinstance(loss, str) else False
    objective = distillation_loss(distill, from_logits)
    shift = _shifter(image_side(train))
    student, teacher = model, distill.teacher

    class Distiller(tf_keras.Model):  # type: ignore[misc]
        def train_step(self, batch: Any) -> dict[str, Any]:
            x, labels = batch
            x = shift(x)
            soft = tf.reshape(teacher(x, training=False), [tf.shape(x)[0], -1])
            targets = tf.concat([tf.reshape(tf.cast(labels, soft.dtype), [-1, 1]), soft], axis=1)
            with tf.GradientTape() as tape:
                value = tf.reduce_mean(objective(targets, student(x, training=True)))
            grads = tape.gradient(value, student.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, student.trainable_variables, strict=True))
            return {"loss": value}

    trainer = Distiller(student.inputs, student.outputs)
    trainer.compile(optimizer=_optimizer(tune, _steps_per_epoch(train, tune)))
    _fit(trainer, train.x[0], train.y[0].reshape(len(train.y[0])).astype(np.float32), tune)
    return student


# A structural change is recovered from rather than nudged: those techniques fine-tune at this multiple of --lr.
RECOVERY_LR = 10.0
# ... for --recovery-factor × --epochs (20 by default): at 3 epochs the bundled example's channel-pruned model stayed
# 6.4 points below the source, at 15 within 1 (scripts/bench_compression.py --explore); MobileNetV2 on digits,
# channel-pruned, was 0.0 to 2.2 points below at 30 (three seeds), 0.3 to 0.6 at 60.


def recovering(tune: FineTune, factor: int) -> FineTune:
    """``tune`` from ``RECOVERY_LR`` × its rate, decaying, for ``factor`` × its epochs, still reporting
    ``tune.epochs`` epochs (``every``). The decay is what lets the narrower model settle: at a constant rate
    its validation top-1 still swung by 3 points from one epoch to the next at the end."""
    return FineTune(tune.epochs * factor, tune.learning_rate * RECOVERY_LR, tune.batch_size, every(tune, factor), True)


def channel_pruned(
    model: Any, train: TrainingSet, tune: FineTune, ratio: float, stream_ratio: float, distill: Distill | None
) -> Any:
    """Filters removed to ``ratio`` of each prunable group (``stream_ratio`` of a residual stream), then
    fine-tuned with ``tune`` (a ``recovering`` one): distilled from the original when ``distill`` is given and
    the labels are class ids, else on the targets."""
    student, _, _ = structure.channel_prune(model, ratio, stream_ratio)
    if distill is not None and _is_class_ids(train):
        return distilled(student, train, tune, distill)
    return fine_tune(student, train, tune)


def student_distilled(
    student: Any, train: TrainingSet, tune: FineTune, distill: Distill, teacher: list[np.ndarray]
) -> Any:
    """A user's student trained from the teacher (``teacher``: its outputs on ``train.x``) with ``tune`` (a
    ``recovering`` one): by ``distilled`` where the labels are class ids, else fitted to the teacher's outputs
    (mean squared error on each): what it should imitate when there are no classes to soften."""
    if _is_class_ids(train):
        return distilled(student, train, tune, distill)
    return fine_tune(student, TrainingSet(train.x, teacher, ["mse" for _ in teacher]), tune)


def low_rank(model: Any, train: TrainingSet, tune: FineTune, energy: float) -> Any:
    """Dense and 1×1 convolution kernels factorised by truncated SVD where that makes them smaller, fine-tuned
    with ``tune`` (a ``recovering`` one)."""
    factorised, done = structure.low_rank(model, energy)
    if not done:
        raise structure.Unsupported(
            f"no Dense or 1×1 convolution kernel gets smaller at {energy:g} of its singular-value energy"
        )
    return fine_tune(factorised, train, tune)
