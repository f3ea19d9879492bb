"""Loading a Keras model file with the Keras that wrote it, safely, and converting it at a static batch of 1.

- **Which Keras.** TFMOT fine-tunes tf_keras (Keras 2) models, and a file saved by Keras 3 (TensorFlow's default
  Keras since 2.16) does not load in tf_keras. The file says which Keras wrote it (``keras_files.saved_by``), so a
  Keras 3 file is loaded by Keras 3, in this same process (``TF_USE_LEGACY_KERAS`` only redirects ``tf.keras``;
  ``import keras`` is still Keras 3): every variant TensorFlow's converter and ai-edge-quantizer make is made from
  it, and the fine-tuning ones are not applicable.
- **Safe mode.** Models load with ``safe_mode=True``, which refuses a Lambda layer's Python code (both Kerases, for
  ``.keras``; Keras 3 for ``.h5`` too) unless ``--trust-model-code``. tf_keras's ``.h5`` and SavedModels have no
  safe mode: their code runs on load, and a Lambda layer in such an ``.h5`` is warned about.
- **Custom classes.** ``--custom-objects`` (a ``.py`` file or an importable dotted module) is imported once and
  its classes registered with both Kerases before anything loads: its ``CUSTOM_OBJECTS`` dict when it defines
  one, else every Keras layer class (models included) it defines itself.
- **Batch 1.** A Keras model is converted from its call traced at batch 1 (``--free-batch``: a free batch axis),
  since recurrent layers (GRU, LSTM) lower to TFLite only with static element shapes. The signature keeps the
  model's own input and output names, as ``TFLiteConverter.from_keras_model`` does.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Any

from converter.checks import SourceError, first_line
from converter.keras_files import (
    H5_SUFFIXES,
    MODEL_CLASSES,
    LayerEntry,
    is_keras_3,
    lambda_layers,
    layers,
    model_config,
    saved_by,
    short_reason,
)
from edgebench_records.catalogue import Options

CUSTOM_OBJECTS = "CUSTOM_OBJECTS"  # the dict a --custom-objects module may define to say exactly what it gives
MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
TRUST_FLAG = "--trust-model-code"
CUSTOM_FLAG = "--custom-objects"


class Keras(StrEnum):
    """The Keras a model was loaded with."""

    TF_KERAS = "tf_keras"  # Keras 2: what TFMOT and the structural rewrites fine-tune
    KERAS_3 = "Keras 3"


@dataclass(frozen=True)
class Loading:
    """How this conversion loads and converts Keras models (from its options)."""

    custom_objects: str = ""
    trust_code: bool = False
    free_batch: bool = False

    @classmethod
    def of(cls, options: Options) -> Loading:
        return cls(options.custom_objects, options.trust_model_code, options.free_batch)


@dataclass(frozen=True)
class Loaded:
    model: Any
    keras: Keras
    version: str | None  # as the file says it, None when it does not


def _import_file(path: Path) -> ModuleType:
    name = path.stem if path.stem not in sys.modules else f"edgebench_custom_objects_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"not a Python module: {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses, pickling and Keras look classes up by their module
    spec.loader.exec_module(module)
    return module


def _module(given: str) -> ModuleType:
    """The --custom-objects module: a .py file, or a dotted module importable from here (or the working folder)."""
    path = Path(given)
    is_file = path.suffix == ".py" or "/" in given or not MODULE_NAME.fullmatch(given)
    if is_file and not path.is_file():
        raise SourceError(f"{CUSTOM_FLAG} {given}: file not found (a .py file or an importable module name)")
    try:
        return _import_file(path) if is_file else importlib.import_module(given)
    except Exception as exc:  # the user's code: anything from SyntaxError to its own imports failing
        raise SourceError(f"{CUSTOM_FLAG} {given}: cannot import it: {type(exc).__name__}: {first_line(exc)}") from exc


def _layer_bases() -> tuple[type, ...]:
    import keras
    import tf_keras

    return (tf_keras.layers.Layer, keras.layers.Layer)


def _defined_classes(module: ModuleType) -> dict[str, Any]:
    """Every Keras layer (or model) class ``module`` defines itself: not those it imports."""
    bases = _layer_bases()
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isclass(value) and value.__module__ == module.__name__ and issubclass(value, bases)
    }


@functools.cache
def register_custom_objects(given: str) -> dict[str, Any]:
    """Import ``given`` once and register what it gives with both Kerases; refused in one line naming it."""
    module = _module(given)
    declared = getattr(module, CUSTOM_OBJECTS, None)
    if declared is not None and not (isinstance(declared, dict) and all(isinstance(k, str) for k in declared)):
        raise SourceError(f"{CUSTOM_FLAG} {given}: {CUSTOM_OBJECTS} is not a dict of names to classes")
    objects = dict(declared) if declared is not None else _defined_classes(module)
    if not objects:
        raise SourceError(f"{CUSTOM_FLAG} {given} defines no Keras layer class and no {CUSTOM_OBJECTS} dict")
    import keras
    import tf_keras

    tf_keras.utils.get_custom_objects().update(objects)
    keras.saving.get_custom_objects().update(objects)
    return objects


def _registered(keras: Keras, name: str) -> bool:
    if keras is Keras.KERAS_3:
        import keras as keras3

        return keras3.saving.get_registered_object(name) is not None
    import tf_keras

    return tf_keras.utils.get_registered_object(name) is not None


def _unknown(keras: Keras, layer: LayerEntry, message: str) -> bool:
    """Whether ``keras`` cannot make ``layer``: a class from the user's own module that is not registered, or (an
    .h5 says no module) one the load's error names and that is neither Keras's own nor registered."""
    if _registered(keras, layer.registered_name or layer.class_name):
        return False
    if layer.custom:
        return True
    if layer.module is not None or layer.class_name in MODEL_CLASSES or f"'{layer.class_name}'" not in message:
        return False
    if keras is Keras.KERAS_3:
        import keras as keras3

        return not hasattr(keras3.layers, layer.class_name)
    import tf_keras

    return not hasattr(tf_keras.layers, layer.class_name)


def why_not_loaded(path: Path, keras: Keras, exc: BaseException) -> str:
    """One line saying why ``path`` did not load: the Lambda layer safe mode refused, the custom class Keras does
    not know (named in the error), else the loader's own first line without the config it may paste in."""
    config = model_config(path)
    text = str(exc)
    if "safe_mode" in text:
        names = lambda_layers(config)
        what = f"layer '{names[0]}' is a Lambda layer, whose" if names else "it holds"
        return (
            f"{what} Python code would run on load (refused in safe mode): give {TRUST_FLAG} if you trust this "
            f"file, or make it a custom layer and give {CUSTOM_FLAG}"
        )
    for layer in layers(config) if config else ():
        if _unknown(keras, layer, text):
            return (
                f"layer '{layer.name}' is a {layer.class_name}, which {keras} does not know: give the module that "
                f"defines it with {CUSTOM_FLAG} PATH_OR_MODULE"
            )
    return short_reason(exc)


def load(path: Path, loading: Loading, refusal: str, compiled: bool = False) -> Loaded:
    """The model in ``path`` (a .keras, an .h5 or a Keras SavedModel folder), loaded by the Keras that wrote it;
    a failure is one line opening with ``refusal`` ("cannot load model M")."""
    if loading.custom_objects:
        register_custom_objects(loading.custom_objects)
    version = saved_by(path)
    keras = Keras.KERAS_3 if is_keras_3(version) else Keras.TF_KERAS
    safe = not loading.trust_code
    try:
        if keras is Keras.KERAS_3:
            import keras as keras3

            model = keras3.saving.load_model(path, compile=compiled, safe_mode=safe)
        else:
            import tf_keras

            model = tf_keras.models.load_model(path, compile=compiled, safe_mode=safe)
    except Exception as exc:  # Keras raises anything from ValueError to zipfile/h5py errors
        raise SourceError(f"{refusal}: {why_not_loaded(path, keras, exc)}") from exc
    return Loaded(model, keras, version)


def is_model(loaded: Loaded) -> bool:
    """A Keras model with known inputs (tf_keras restores a plain SavedModel as a bare object, and a subclassed
    model saved without its graph has no inputs)."""
    if loaded.keras is Keras.KERAS_3:
        import keras as keras3

        base: type = keras3.Model
    else:
        import tf_keras

        base = tf_keras.Model
    return isinstance(loaded.model, base) and bool(getattr(loaded.model, "inputs", None))


def input_names(model: Any) -> list[str]:
    names = getattr(model, "input_names", None)  # tf_keras
    return list(names) if names else [str(t.name) for t in model.inputs]  # Keras 3: its Input layers' names


def output_names(model: Any) -> list[str]:
    names = getattr(model, "output_names", None)  # tf_keras; Keras 3's functional models
    return list(names) if names else [str(t._keras_history[0].name) for t in model.outputs]  # Keras 3 Sequential


def lambda_warning(path: Path, loaded: Loaded, loading: Loading) -> str | None:
    """The warning for a model whose Lambda layers ran their code as it loaded though --trust-model-code was not
    given: a tf_keras .h5, which has no safe mode."""
    h5 = path.is_file() and path.suffix.lower() in H5_SUFFIXES
    if loading.trust_code or loaded.keras is not Keras.TF_KERAS or not h5:
        return None
    names = lambda_layers(model_config(path))
    if not names:
        return None
    return (
        f"warning: model {path.name} has Lambda layer '{names[0]}', whose Python code ran as it loaded (an .h5 has "
        "no safe mode): load only models you trust, or save it as .keras"
    )


def _signature(model: Any, free_batch: bool) -> tuple[list[Any], Callable[..., dict[str, Any]]]:
    """The input specs (batch 1, or free) and the serving function, named as the model names its inputs and
    outputs, as ``from_keras_model`` names them."""
    import tensorflow as tf

    names_out = output_names(model)
    specs = []
    for name, tensor in zip(input_names(model), model.inputs, strict=True):
        dims = list(tensor.shape)
        batch = dims[0] if dims[0] is not None or free_batch else 1  # a batch the model fixes itself stays
        specs.append(tf.TensorSpec([batch, *dims[1:]], tf.as_dtype(tensor.dtype), name=name))

    def serve(*inputs: Any) -> dict[str, Any]:
        outputs = model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)
        if isinstance(outputs, dict):
            return dict(outputs)
        return dict(zip(names_out, tf.nest.flatten(outputs), strict=True))

    return specs, serve


def batch_one_converter(model: Any, free_batch: bool = False) -> Any:
    """A TFLiteConverter for a tf_keras ``model`` traced at batch 1 (or with a free batch axis): saved with that
    signature and converted from it, the path ``from_keras_model`` takes."""
    import tensorflow as tf

    specs, serve = _signature(model, free_batch)
    concrete = tf.function(serve, input_signature=specs).get_concrete_function()
    return tf.lite.TFLiteConverter.from_concrete_functions([concrete], _variables_only(model, concrete))


def _variables_only(model: Any, concrete: Any) -> Any:
    """What the converter saves as a SavedModel beside the function: a module holding only the model's variables,
    when they are all the function captures. Saving the Keras model itself traces every layer's call again (about
    four times the whole conversion's time on the bundled example); the bytes converted are the same. Anything
    else captured (a lookup table, say) keeps the model, which tracks it."""
    import tensorflow as tf

    handles = [variable.handle for variable in model.variables]
    if not all(any(captured is handle for handle in handles) for captured in concrete.captured_inputs):
        return model
    module = tf.Module()
    module.model_variables = list(model.variables)
    return module


def converters(loaded: Loaded, free_batch: bool) -> Callable[[], Any]:
    """Fresh TFLiteConverters for the loaded model. A Keras 3 model is exported once (``keras.export``, which
    saves its variables as TensorFlow's converter reads them: ``tf.saved_model.save`` of a Keras 3 model leaves them
    out) to a folder that lives as long as the process."""
    if loaded.keras is Keras.TF_KERAS:
        return lambda: batch_one_converter(loaded.model, free_batch)

    @functools.cache
    def exported() -> tempfile.TemporaryDirectory[str]:
        import keras as keras3

        folder = tempfile.TemporaryDirectory(prefix="edgebench-keras3-")
        specs, serve = _signature(loaded.model, free_batch)
        archive = keras3.export.ExportArchive()
        archive.track(loaded.model)
        archive.add_endpoint("serve", serve, input_signature=specs)
        archive.write_out(folder.name, verbose=False)
        return folder

    def convert() -> Any:
        import tensorflow as tf

        return tf.lite.TFLiteConverter.from_saved_model(exported().name)

    return convert
