"""Compression techniques, each fine-tuned: TFMOT's prune, cluster and quantisation-aware training, and the
structural ones (``converter/structure.py``): channel pruning (optionally distilled), low-rank factorisation.

Every function takes its own freshly loaded copy of the base model: TFMOT wrappers mutate the model
they wrap, so a shared copy would carry one technique's wrappers into the next. Layers a technique
cannot wrap (e.g. Rescaling) are left as they are, so models with preprocessing layers still compress.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from converter import structure
from converter.catalogue import Options
from converter.checks import labels_are_class_ids
from converter.source import Data, SourceModel

# Called after each fine-tuning epoch with (epoch, epochs).
EpochCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class FineTune:
    epochs: int
    learning_rate: float
    batch_size: int
    on_epoch: EpochCallback


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


def _wrap_supported(model: Any, supports: Callable[[Any], bool], wrap: Callable[[Any], Any]) -> Any:
    import tf_keras

    # Unsupported layers are returned as they are: rebuilding them from config would drop their weights.
    return tf_keras.models.clone_model(model, clone_function=lambda layer: wrap(layer) if supports(layer) else layer)


def _steps_per_epoch(train: TrainingSet, tune: FineTune) -> int:
    return int(np.ceil(len(train.x[0]) / tune.batch_size))


def _one_or_all(arrays: list[Any]) -> Any:
    return arrays[0] if len(arrays) == 1 else arrays


def fine_tune(model: Any, train: TrainingSet, tune: FineTune, callbacks: list[Any] | None = None) -> Any:
    import tf_keras

    class Progress(tf_keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            tune.on_epoch(epoch + 1, tune.epochs)

    model.compile(optimizer=tf_keras.optimizers.Adam(tune.learning_rate), loss=_one_or_all(train.losses))
    model.fit(
        _one_or_all(train.x),
        _one_or_all(train.y),
        epochs=tune.epochs,
        batch_size=tune.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=[*(callbacks or []), Progress()],
    )
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


def cluster(model: Any, train: TrainingSet, tune: FineTune, clusters: int) -> Any:
    """Weight clustering with linear centroid initialisation, fine-tuned."""
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.clustering.keras.clustering_registry import ClusteringRegistry

    init = tfmot.clustering.keras.CentroidInitialization.LINEAR
    wrapped = _wrap_supported(
        model,
        ClusteringRegistry.supports,
        lambda layer: tfmot.clustering.keras.cluster_weights(
            layer, number_of_clusters=clusters, cluster_centroids_init=init
        ),
    )
    fine_tune(wrapped, train, tune)
    return tfmot.clustering.keras.strip_clustering(wrapped)


def quantization_aware(model: Any, train: TrainingSet, tune: FineTune) -> Any:
    """QAT: fake-quantise supported layers, fine-tune, leave the rest float."""
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
        default_8bit_quantize_registry,
    )

    # BatchNorm folded first: QAT fake-quantises the convolution's own kernel, after which TFLite cannot fold
    # the BatchNorm into it any more (13 MUL and 13 ADD left on the bundled example)
    model, _ = structure.fold_batchnorm(model)
    registry = default_8bit_quantize_registry.Default8BitQuantizeRegistry()
    annotated = _wrap_supported(model, registry.supports, tfmot.quantization.keras.quantize_annotate_layer)
    with tfmot.quantization.keras.quantize_scope():
        quantized = tfmot.quantization.keras.quantize_apply(annotated)
    return fine_tune(quantized, train, tune)


def _is_class_ids(train: TrainingSet) -> bool:
    import tf_keras

    loss = train.losses[0]
    return len(train.y) == 1 and (
        loss == "sparse_categorical_crossentropy" or isinstance(loss, tf_keras.losses.SparseCategoricalCrossentropy)
    )


@dataclass(frozen=True)
class Distill:
    """Knowledge distillation: the teacher's outputs on the training inputs, softened by ``temperature``;
    the loss is ``alpha`` × the hard-label loss + (1 − alpha) × T² × KL(teacher ‖ student) at temperature T."""

    teacher: np.ndarray  # the teacher's first output on ``train.x``: probabilities or logits as the model gives
    temperature: float
    alpha: float


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
    """Fine-tune ``model`` (the student) on the hard labels mixed with the teacher's soft targets."""
    loss = train.losses[0]
    from_logits = bool(getattr(loss, "from_logits", False)) if not isinstance(loss, str) else False
    labels = train.y[0].reshape(len(train.y[0]), 1).astype(np.float32)
    teacher = distill.teacher.reshape(len(labels), -1).astype(np.float32)
    targets = np.concatenate([labels, teacher], axis=1)
    soft = TrainingSet(x=train.x, y=[targets], losses=[distillation_loss(distill, from_logits)])
    return fine_tune(model, soft, tune)


# A structural change is recovered from rather than nudged: those techniques fine-tune at this multiple of --lr.
RECOVERY_LR = 10.0


def _recovering(tune: FineTune) -> FineTune:
    return FineTune(tune.epochs, tune.learning_rate * RECOVERY_LR, tune.batch_size, tune.on_epoch)


def channel_pruned(model: Any, train: TrainingSet, tune: FineTune, ratio: float, distill: Distill | None) -> Any:
    """Filters removed to ``ratio`` of each prunable group, then fine-tuned (at ``RECOVERY_LR`` × the rate):
    distilled from the original when ``distill`` is given and the labels are class ids, else on the targets."""
    student, _, _ = structure.channel_prune(model, ratio)
    tune = _recovering(tune)
    if distill is not None and _is_class_ids(train):
        return distilled(student, train, tune, distill)
    return fine_tune(student, train, tune)


def low_rank(model: Any, train: TrainingSet, tune: FineTune, energy: float) -> Any:
    """Dense and 1×1 convolution kernels factorised by truncated SVD where that makes them smaller, fine-tuned
    (at ``RECOVERY_LR`` × the rate)."""
    factorised, done = structure.low_rank(model, energy)
    if not done:
        raise structure.Unsupported(
            f"no Dense or 1×1 convolution kernel gets smaller at {energy:g} of its singular-value energy"
        )
    return fine_tune(factorised, train, _recovering(tune))
