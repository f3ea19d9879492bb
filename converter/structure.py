"""Rewriting a Keras model's structure with its weights: BatchNorm folded into the convolution before it,
whole channels (filters) removed, kernels factorised by truncated SVD.

Each rewrite walks the model's graph once in topological order and rebuilds it layer by layer from the
layers' configs, carrying the (changed) weights across, so the result is a plain dense Keras model that
fine-tunes and converts like the original. Sequential and functional models alike; a layer used at more
than one place, a nested model, or a layer a rewrite cannot reason about raises ``Unsupported`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


class Unsupported(Exception):
    """The model holds a layer this rewrite cannot handle: the variant is not applicable, not failed."""


@dataclass
class Step:
    layer: Any
    inputs: list[int]  # ids of the original Keras tensors the layer is called on
    outputs: list[int]


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
        steps.append(Step(layer, ins, [id(t) for t in tf.nest.flatten(node.outputs)]))
    return steps


# How a rewrite makes one layer: (original layer, its new input tensors) -> its new output tensor, or None
# for "as it was" (the same config and weights on the new inputs).
Make = Callable[[Any, list[Any]], Any]


def clone(layer: Any, inputs: list[Any], config: dict[str, Any] | None = None, weights: list[Any] | None = None) -> Any:
    new = type(layer).from_config(config if config is not None else layer.get_config())
    out = new(inputs[0] if len(inputs) == 1 else inputs)
    new.set_weights(layer.get_weights() if weights is None else weights)
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
            out = clone(step.layer, inputs)
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
