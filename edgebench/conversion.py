"""Host side of conversion: content-addressed reuse, and the converter run in its own process.

TensorFlow is never imported here: the converter runs as ``python -m converter`` with
TF_USE_LEGACY_KERAS=1 (TFMOT needs Keras 2) and its log noise goes to a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from converter.manifest import MANIFEST_NAME, VARIANT_OK, Manifest, read_manifest
from device_runner.schema import SchemaError
from edgebench import __version__
from edgebench.errors import EdgebenchError
from edgebench.hashing import sha256_tree


def cache_key(model_sha256: str, data_sha256: str, variants: list[str], seed: int) -> str:
    recipe = {
        "model": model_sha256,
        "data": data_sha256,
        "variants": sorted(variants),
        "seed": seed,
        "edgebench": __version__,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def convert(
    model: Path, data: Path, variants: list[str], workdir: Path, *, seed: int = 0, force: bool = False
) -> tuple[Manifest, Path]:
    """Make (or reuse) the variants of ``model``; returns the manifest and its directory."""
    if not model.exists():
        raise EdgebenchError(f"model file not found: {model}")
    if not data.is_file():
        raise EdgebenchError(f"data file not found: {data}")
    model_sha256 = sha256_tree(model)
    key = cache_key(model_sha256, sha256_tree(data), variants, seed)
    out = workdir / "variants" / f"{model.stem}-{key[:12]}"
    if not force and (out / MANIFEST_NAME).exists():
        try:
            return read_manifest(out), out
        except SchemaError:
            pass  # written by another edgebench version: rebuild
    log = workdir / "logs" / f"convert-{out.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "converter",
        "--model",
        str(model),
        "--data",
        str(data),
        "--out",
        str(out),
        "--variants",
        ",".join(variants),
        "--seed",
        str(seed),
        "--cache-key",
        key,
        "--model-sha256",
        model_sha256,
    ]
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    with log.open("w") as stderr:
        proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, check=False)
    reply = _last_json_line(proc.stdout)
    if "error" in reply:
        raise EdgebenchError(str(reply["error"]))
    if "manifest" not in reply:
        raise EdgebenchError(f"converter failed on {model} (exit {proc.returncode}); see {log}")
    return read_manifest(out), out


def _last_json_line(stdout: str) -> dict[str, object]:
    for line in reversed(stdout.strip().splitlines()):
        try:
            reply = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(reply, dict):
            return reply
    return {}


def conversion_failed(manifest: Manifest) -> bool:
    return any(v.status != VARIANT_OK for v in manifest.variants)
