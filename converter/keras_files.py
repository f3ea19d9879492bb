"""What a Keras model file says about itself before anything loads it: which Keras wrote it, and its layers.

A ``.keras`` archive holds ``metadata.json`` (the Keras version) and ``config.json`` (the model's config); an
``.h5`` holds both as attributes of its root (``keras_version``, ``model_config``), read with h5py. Reading them
runs none of the model's code, so the converter can choose the Keras that loads the file (Keras 3 files do not
load in tf_keras, which TFMOT needs), say which layer a load failed on, and warn about a Lambda layer in an
``.h5``, a format that has no safe mode. Standard library (and h5py, for ``.h5``, when it is installed).
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

H5_SUFFIXES = (".h5", ".hdf5")
# Classes a model's config names that are not layers of ``keras.layers``: the models themselves.
MODEL_CLASSES = frozenset({"Functional", "Sequential", "Model"})
# Past this, a loader's message is the model's config pasted in: cut there (Keras 3 appends it whole).
CONFIG_DUMPS = (" Full object config:", " Received: config=", " config={", "\n\nException encountered")
LONGEST_REASON = 300


@dataclass(frozen=True)
class LayerEntry:
    """One layer as a model's config declares it."""

    name: str
    class_name: str
    config: dict[str, Any]
    module: str | None = None  # where the class comes from, as a .keras config says it (an .h5's does not)
    registered_name: str | None = None  # the name it was registered under, when it was

    @property
    def custom(self) -> bool:
        """Declared as coming from outside Keras (a user's module): known only when that class is registered."""
        return self.module is not None and not self.module.startswith(("keras", "tf_keras"))


def _h5_attributes(path: Path) -> dict[str, Any]:
    """The root attributes of an .h5 (empty when h5py is missing or the file has none to give)."""
    try:
        import h5py
    except ImportError:
        return {}
    try:
        with h5py.File(path, "r") as handle:
            return {key: handle.attrs[key] for key in ("keras_version", "model_config") if key in handle.attrs}
    except (OSError, ValueError):
        return {}


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


def saved_by(path: Path) -> str | None:
    """The Keras version a .keras archive or an .h5 says wrote it, or None (a SavedModel, or it does not say)."""
    if not path.is_file():
        return None
    if path.suffix.lower() in H5_SUFFIXES:
        return _text(_h5_attributes(path).get("keras_version"))
    try:
        with zipfile.ZipFile(path) as archive:
            version = json.loads(archive.read("metadata.json")).get("keras_version")
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def is_keras_3(version: str | None) -> bool:
    return bool(version) and not str(version).startswith(("1.", "2."))


def model_config(path: Path) -> dict[str, Any] | None:
    """The model's config as the file stores it (read, never deserialised), or None."""
    if not path.is_file():
        return None
    try:
        if path.suffix.lower() in H5_SUFFIXES:
            text = _text(_h5_attributes(path).get("model_config"))
            config = json.loads(text) if text else None
        else:
            with zipfile.ZipFile(path) as archive:
                config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def layers(config: dict[str, Any]) -> Iterator[LayerEntry]:
    """Every layer the config declares, nested models' and wrapped layers' (Bidirectional, TimeDistributed) too."""
    inner = config.get("config")
    if not isinstance(inner, dict):
        return
    module, registered = config.get("module"), config.get("registered_name")
    yield LayerEntry(
        str(inner.get("name")),
        str(config.get("class_name")),
        inner,
        module if isinstance(module, str) else None,
        registered if isinstance(registered, str) else None,
    )
    nested = inner.get("layers")
    for child in [*(nested if isinstance(nested, list) else []), inner.get("layer"), inner.get("backward_layer")]:
        if isinstance(child, dict):
            yield from layers(child)


def lambda_layers(config: dict[str, Any] | None) -> list[str]:
    """The names of the config's Lambda layers, whose Python code runs when the model is loaded."""
    return [] if config is None else [layer.name for layer in layers(config) if layer.class_name == "Lambda"]


def short_reason(exc: BaseException) -> str:
    """A loader's exception as one short line: the first line, the model config it may paste in cut off."""
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0]
    for dump in CONFIG_DUMPS:
        line = line.split(dump, 1)[0]
    return line if len(line) <= LONGEST_REASON else line[: LONGEST_REASON - 1] + "…"
