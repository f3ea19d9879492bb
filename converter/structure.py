"""Rewriting a Keras model's structure with its weights: BatchNorm folded into the convolution before it,
whole channels (filters) removed, kernels factorised by truncated SVD.

Each rewrite walks the model's graph once in topological order and rebuilds it layer by layer from the
layers' configs, carrying the (changed) weights across, so the result is a plain dense Keras model that
fine-tunes and converts like the original. Sequential and functional models alike; a layer used at more
than one place, a nested model, or a layer a rewrite cannot reason about raises ``Unsupported`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class Unsupported(Exception):
    """The model holds a layer this rewrite cannot handle: the variant is not applicable, not failed."""


@dataclass
class Step:
    layer: Any
    inputs: list[int]  # ids of the original Keras tensors the layer is called on
    outputs: list[int]
    node: Any = None  # the call: its arguments beside the tensors (``x + 3.0`` is a TFOpLambda with y=3.0)


def _steps(model: Any) -> list[Step]:
    import tensorflow as tf
    import tf_keras

    steps = []
    for layer in model.layers:
        if isinstance(layer, tf_keras.Model):
            raise Unsupported(f"layer {layer.name} is a nested model ({type(layer).__name__})")
        nodes = [n for n in layer._inbound_nodes if n.layer is layer]
        if len(nodes) != 1:
            raise Unsupported(f"layer {layer.name} ({type(layer).__name__}) is called {len(nodes)} times")
        node = nodes[0]
        ins = [] if node.is_input else [id(t) for t in tf.nest.flatten(node.input_tensors)]
        steps.append(Step(layer, ins, [id(t) for t in tf.nest.flatten(node.outputs)], node))
    return steps


# How a rewrite makes one layer: (original layer, its new input tensors) -> its new output tensor, or None
# for "as it was" (the same config and weights on the new inputs).
Make = Callable[[Any, list[Any]], Any]


def clone(layer: Any, inputs: list[Any], config: dict[str, Any] | None = None, weights: list[Any] | None = None) -> Any:
    new = type(layer).from_config(config if config is not None else layer.get_config())
    out = new(inputs[0] if len(inputs) == 1 else inputs)
    new.set_weights(layer.get_weights() if weights is None else weights)
    return out


def _call_again(step: Step, tensors: dict[int, Any]) -> Any:
    """The layer, rebuilt from its config with its weights, called as it was, on the new tensors."""
    import tensorflow as tf

    layer = step.layer
    new = type(layer).from_config(layer.get_config())

    def swap(value: Any) -> Any:
        return tensors.get(id(value), value)

    args = tf.nest.map_structure(swap, list(step.node.call_args))
    kwargs = tf.nest.map_structure(swap, dict(step.node.call_kwargs))
    out = new(*args, **kwargs)
    new.set_weights(layer.get_weights())
    return out


def rebuild(model: Any, make: Make) -> Any:
    import tf_keras

    tensors: dict[int, Any] = {}
    new_inputs = []
    for tensor, layer in zip(model.inputs, model.input_names, strict=True):
        new = tf_keras.Input(shape=tensor.shape[1:], dtype=tensor.dtype, name=layer)
        tensors[id(tensor)] = new
        new_inputs.append(new)
    for step in _steps(model):
        if not step.inputs:  # an InputLayer: made above
            continue
        inputs = [tensors[i] for i in step.inputs]
        out = make(step.layer, inputs)
        if out is None:
            out = _call_again(step, tensors)
        if len(step.outputs) != 1:
            raise Unsupported(f"layer {step.layer.name} ({type(step.layer).__name__}) has several outputs")
        tensors[step.outputs[0]] = out
    outputs = [tensors[id(t)] for t in model.outputs]
    return tf_keras.Model(new_inputs, outputs if len(outputs) > 1 else outputs[0], name=model.name)


def _consumers(model: Any) -> dict[int, list[Any]]:
    consumers: dict[int, list[Any]] = {}
    for step in _steps(model):
        for tensor in step.inputs:
            consumers.setdefault(tensor, []).append(step.layer)
    return consumers


def _is_conv(layer: Any) -> bool:
    from tf_keras import layers

    return type(layer) in (layers.Conv2D, layers.Conv1D) and layer.groups == 1


def _is_depthwise(layer: Any) -> bool:
    from tf_keras import layers

    return type(layer) is layers.DepthwiseConv2D


def _last_axis(layer: Any) -> bool:
    axis = layer.axis if isinstance(layer.axis, int) else (layer.axis[0] if len(layer.axis) == 1 else None)
    return axis is not None and (axis == -1 or axis == len(layer.input_shape) - 1)


def fold_batchnorm(model: Any) -> tuple[Any, int]:
    """The model with every BatchNormalization that follows a linear convolution (its only consumer) folded
    into that convolution's kernel and bias; returns it and how many were folded."""
    from tf_keras import layers

    consumers = _consumers(model)
    folds: dict[str, Any] = {}  # conv name -> the BN folded into it
    for step in _steps(model):
        layer = step.layer
        if not (_is_conv(layer) or _is_depthwise(layer)) or layer.get_config()["activation"] != "linear":
            continue
        after = consumers.get(step.outputs[0], [])
        bn = after[0] if len(after) == 1 else None
        is_output = step.outputs[0] in {id(t) for t in model.outputs}
        if isinstance(bn, layers.BatchNormalization) and not is_output and _last_axis(bn):
            folds[layer.name] = bn
    folded = {bn.name for bn in folds.values()}

    def make(layer: Any, inputs: list[Any]) -> Any:
        if layer.name in folded:
            return inputs[0]  # already applied by the convolution before it
        bn = folds.get(layer.name)
        if bn is None:
            return None
        kernel, *rest = layer.get_weights()
        channels = bn.moving_mean.shape[0]
        bias = rest[0] if rest else np.zeros(channels)
        gamma = bn.gamma.numpy() if bn.scale else np.ones(channels)
        beta = bn.beta.numpy() if bn.center else np.zeros(channels)
        scale = gamma / np.sqrt(bn.moving_variance.numpy() + bn.epsilon)
        # a depthwise kernel is (kh, kw, C, multiplier): output channel c·multiplier + m
        new_kernel = kernel * (scale if _is_conv(layer) else scale.reshape(kernel.shape[2], kernel.shape[3]))
        new_bias = (bias - bn.moving_mean.numpy()) * scale + beta
        config = {**layer.get_config(), "use_bias": True}
        return clone(layer, inputs, config, [new_kernel.astype(np.float32), new_bias.astype(np.float32)])

    return rebuild(model, make), len(folds)


# Channel pruning: which layers keep the channel axis as it is (a channel in, the same channel out) ...
_PASS = (
    "BatchNormalization",
    "ReLU",
    "LeakyReLU",
    "ELU",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "GaussianNoise",
    "MaxPooling1D",
    "MaxPooling2D",
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "Cropping2D",
    "UpSampling2D",
)
# ... which tie the channels of all their inputs together (a residual sum) ...
_MERGE = ("Add", "Subtract", "Maximum", "Minimum", "Average")
# ... and which need every channel of their inputs, so those stay whole (they are not pruned).
_FIX = ("Flatten", "Reshape", "Concatenate", "Multiply", "Softmax", "Permute", "Dot", "Lambda", "TFOpLambda")


_MIXING = ("softmax", "log_softmax")  # activations across the channels: those stay whole


@dataclass
class _Groups:
    """Union-find over tensors whose channels must be kept (or dropped) together."""

    parent: dict[int, int] = field(default_factory=dict)
    fixed: set[int] = field(default_factory=set)
    sources: dict[int, list[Any]] = field(default_factory=dict)

    def find(self, t: int) -> int:
        self.parent.setdefault(t, t)
        while self.parent[t] != t:
            self.parent[t] = self.parent[self.parent[t]]
            t = self.parent[t]
        return t

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.sources.setdefault(ra, []).extend(self.sources.pop(rb, []))
            if rb in self.fixed:
                self.fixed.add(ra)

    def fix(self, t: int) -> None:
        self.fixed.add(self.find(t))


def _elementwise(layer: Any) -> bool:
    kind = type(layer).__name__
    if kind == "Activation":
        return layer.get_config()["activation"] not in _MIXING
    if kind == "Rescaling":
        return bool(np.ndim(layer.scale) == 0 and np.ndim(layer.offset) == 0)
    return False


def _filter_norms(layer: Any, consumers: dict[int, list[Any]]) -> np.ndarray:
    """Each filter's L1 norm, scaled as the BatchNorm right after it scales that channel: abs(gamma) / std."""
    from tf_keras import layers

    kernel = layer.get_weights()[0]
    norms: np.ndarray = np.abs(kernel).reshape(-1, kernel.shape[-1]).sum(axis=0)
    after = consumers.get(id(layer.output), [])
    if len(after) == 1 and isinstance(after[0], layers.BatchNormalization) and after[0].scale:
        bn = after[0]
        norms = norms * np.abs(bn.gamma.numpy()) / np.sqrt(bn.moving_variance.numpy() + bn.epsilon)
    return norms


def _normalised(norms: np.ndarray) -> np.ndarray:
    return norms / max(float(norms.max()), 1e-12)


# CPU kernels (XNNPACK's among them) compute channels in tiles of 8: a layer of 9 costs about what 16 do. On the
# bundled example 0.55 of 16, 32, 64 filters (9, 18, 35) ran at 0.70x fp32's p50, 0.5 (8, 16, 32) at 0.52x.
TILE = 8


def _kept_count(channels: int, ratio: float) -> int:
    """``ratio`` of ``channels``, to the nearest multiple of ``TILE`` when there are two tiles or more."""
    if channels < 2 * TILE:
        return max(1, round(channels * ratio))
    return max(TILE, TILE * round(channels * ratio / TILE))


def channel_prune(model: Any, ratio: float, stream_ratio: float = 1.0) -> tuple[Any, int, int]:
    """The model with ``ratio`` of the channels of every prunable group kept (``_kept_count``), the filters
    ranked by the L1 norm of their kernels scaled by the BatchNorm after them (summed over a residual group's
    layers, each normalised to its largest); BatchNorm stays (sliced), so fine-tuning re-learns the statistics of the
    narrower layers. A residual stream (the channels tied across an Add and the layers feeding it) keeps
    ``stream_ratio`` of its channels instead: it is the bottleneck between blocks, narrow by design. On
    MobileNetV2 (width 0.35, 32×32) at 0.55, streams pruned too ran at 0.54× its p50 but stayed 3.1 to 5.6 points
    below after 30 epochs of recovery; kept whole, 0.62× and 0.0 to 2.2 below.
    Returns the model, and the channels before and after."""
    groups = _Groups()
    merged: list[int] = []  # the outputs of residual Adds: their groups are streams
    steps = _steps(model)
    consumers = _consumers(model)
    for step in steps:
        layer, kind = step.layer, type(step.layer).__name__
        out = step.outputs[0]
        if not step.inputs:
            groups.fix(out)
        elif _is_conv(layer) or kind == "Dense":
            groups.find(out)
            groups.sources.setdefault(groups.find(out), []).append(layer)
        elif kind in _PASS or _elementwise(layer) or _is_depthwise(layer):
            if _is_depthwise(layer) and layer.depth_multiplier != 1:
                raise Unsupported(f"layer {layer.name} (DepthwiseConv2D, depth_multiplier {layer.depth_multiplier})")
            if kind == "BatchNormalization" and not _last_axis(layer):
                raise Unsupported(f"layer {layer.name} (BatchNormalization on axis {layer.axis})")
            groups.union(step.inputs[0], out)
        elif kind in _MERGE:
            for tensor in step.inputs:
                groups.union(tensor, out)
            merged.append(out)
        elif kind in _FIX or (kind == "Activation" and layer.get_config()["activation"] in _MIXING):
            for tensor in step.inputs:
                groups.fix(tensor)
            groups.fix(out)
        else:
            raise Unsupported(f"layer {layer.name} ({kind}): channel pruning does not know how its channels map")
    for tensor in model.outputs:
        groups.fix(id(tensor))

    keep: dict[int, np.ndarray] = {}
    before = after = 0
    streams = {groups.find(t) for t in merged}
    for root, sources in groups.sources.items():
        if groups.find(root) != root or root in groups.fixed or not sources:
            continue
        score: np.ndarray = np.sum([_normalised(_filter_norms(source, consumers)) for source in sources], axis=0)
        channels = len(score)
        count = _kept_count(channels, stream_ratio if root in streams else ratio)
        if count == channels:
            continue
        keep[root] = np.sort(np.argsort(-score, kind="stable")[:count])
        before, after = before + channels, after + count
    if not keep:
        raise Unsupported("no convolution or dense layer whose channels can be removed")
    by_layer = {step.layer.name: step for step in steps}

    def kept(tensor: int) -> np.ndarray | None:
        return keep.get(groups.find(tensor))

    def make(layer: Any, inputs: list[Any]) -> Any:
        step = by_layer[layer.name]
        kind = type(layer).__name__
        k_in, k_out = kept(step.inputs[0]), kept(step.outputs[0])
        weights = layer.get_weights()
        if _is_conv(layer) or kind == "Dense":
            kernel = weights[0]
            if k_in is not None:
                kernel = np.take(kernel, k_in, axis=-2)
            config = layer.get_config()
            if k_out is not None:
                kernel = kernel[..., k_out]
                config["filters" if kind != "Dense" else "units"] = len(k_out)
            rest = [b[k_out] if k_out is not None else b for b in weights[1:]]
            return clone(layer, inputs, config, [kernel, *rest])
        if k_out is None or not weights:
            return None
        if _is_depthwise(layer):
            return clone(layer, inputs, None, [weights[0][:, :, k_out, :], *(b[k_out] for b in weights[1:])])
        if kind == "BatchNormalization":
            return clone(layer, inputs, None, [w[k_out] for w in weights])
        raise Unsupported(f"layer {layer.name} ({kind}) has weights channel pruning does not know how to slice")

    return rebuild(model, make), before, after


def low_rank(model: Any, energy: float) -> tuple[Any, list[str]]:
    """Dense and 1×1 convolution kernels replaced by two layers of rank r, the smallest rank whose singular
    values keep ``energy`` of the squared sum, wherever r·(in+out) < in·out; returns it and what was factorised
    ("name: rank r of n")."""
    done: list[str] = []

    def make(layer: Any, inputs: list[Any]) -> Any:
        kind = type(layer).__name__
        one_by_one = _is_conv(layer) and kind == "Conv2D" and tuple(layer.kernel_size) == (1, 1)
        if kind != "Dense" and not one_by_one:
            return None
        if one_by_one and (tuple(layer.strides) != (1, 1) or tuple(layer.dilation_rate) != (1, 1)):
            return None
        kernel, *rest = layer.get_weights()
        matrix = kernel.reshape(kernel.shape[-2], kernel.shape[-1])
        u, s, vt = np.linalg.svd(matrix, full_matrices=False)
        kept = np.cumsum(s**2) / max(float((s**2).sum()), 1e-12)
        rank = int(np.searchsorted(kept, energy) + 1)
        n_in, n_out = matrix.shape
        if rank * (n_in + n_out) >= n_in * n_out:
            return None
        root = np.sqrt(s[:rank])
        first, second = u[:, :rank] * root, root[:, None] * vt[:rank]
        config = layer.get_config()
        size = "units" if kind == "Dense" else "filters"
        shape = (n_in, rank) if kind == "Dense" else (1, 1, n_in, rank)
        a_config = {**config, size: rank, "use_bias": False, "activation": "linear", "name": f"{layer.name}_svd"}
        for key in ("activity_regularizer", "bias_regularizer", "bias_constraint"):
            a_config.pop(key, None)
        a = clone(layer, inputs, a_config, [first.reshape(shape).astype(np.float32)])
        second_shape = (rank, n_out) if kind == "Dense" else (1, 1, rank, n_out)
        out = clone(layer, [a], config, [second.reshape(second_shape).astype(np.float32), *rest])
        done.append(f"{layer.name}: rank {rank} of {min(n_in, n_out)}")
        return out

    return rebuild(model, make), done
