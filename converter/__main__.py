"""Converter process: ``python -m converter --model M --data D --out DIR --variants fp32,int8``.

Run by the host with TF_USE_LEGACY_KERAS=1 and stderr sent to a log file. Speaks to the host
through its last stdout line: ``{"manifest": PATH}`` or ``{"error": "one line"}``.
Exit codes: 0 all variants made, 1 some variant failed, 2 the model or data is unusable.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from converter.manifest import INPUT_SET_NAME, MANIFEST_NAME, VARIANT_FAILED, VARIANT_OK, Manifest, VariantRecord
from converter.recipes import RECIPES, Recipe
from converter.source import SourceError, SourceModel, load_data, load_model
from device_runner import accuracy, schema
from device_runner.engines import InterpreterEngine
from device_runner.flatbuffer import read_model_file
from device_runner.runtime import load_runtime

TOOLS = ("tensorflow", "tf-keras", "ai-edge-litert", "numpy")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m converter", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True, help=".npz with x_train, y_train, x_val, y_val")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--variants", default="fp32,int8")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-key", default="", help="recorded in the manifest for reuse")
    parser.add_argument("--model-sha256", default="")
    return parser


def host_scores(tflite: Path, x: np.ndarray, labels: np.ndarray, reference: np.ndarray) -> schema.Accuracy:
    """Accuracy on the host's runtime (XNNPACK, as a default app would run it)."""
    engine = InterpreterEngine(load_runtime(), tflite, read_model_file(tflite), "xnnpack", threads=1)
    return accuracy.score(accuracy.predict(engine, x), labels, reference)


def make_variant(
    recipe: Recipe, source: SourceModel, data: dict[str, np.ndarray], seed: int, out: Path, reference: np.ndarray
) -> VariantRecord:
    start = time.perf_counter()
    try:
        flatbuffer = recipe.build(source, data, seed)
    except Exception as exc:  # a failed technique must not stop the others
        message = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        return VariantRecord(recipe.name, VARIANT_FAILED, recipe.description, message=message)
    convert_s = time.perf_counter() - start
    path = out / f"{recipe.name}.tflite"
    schema.write_atomic(path, flatbuffer)
    scores = host_scores(path, data["x_val"], data["y_val"], reference)
    return VariantRecord(
        name=recipe.name,
        status=VARIANT_OK,
        recipe=recipe.description,
        file=path.name,
        sha256=hashlib.sha256(flatbuffer).hexdigest(),
        size_bytes=len(flatbuffer),
        gzip_bytes=len(gzip.compress(flatbuffer, compresslevel=9, mtime=0)),
        host_top1=scores.top1,
        host_fp32_agreement=scores.fp32_agreement,
        convert_s=round(convert_s, 3),
    )


def convert(args: argparse.Namespace) -> Manifest:
    names = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = [name for name in names if name not in RECIPES]
    if unknown:
        raise SourceError(f"unknown variant {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    data = load_data(args.data)
    source = load_model(args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    reference = source.predict(data["x_val"].astype(np.float32))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=data["x_val"], y=data["y_val"], ref=reference)
    schema.write_atomic(args.out / INPUT_SET_NAME, buffer.getvalue())
    variants = [make_variant(RECIPES[name], source, data, args.seed, args.out, reference) for name in names]
    return Manifest(
        model_name=source.name,
        model_sha256=args.model_sha256,
        cache_key=args.cache_key,
        input_set=INPUT_SET_NAME,
        variants=variants,
        tool_versions={tool: metadata.version(tool) for tool in TOOLS},
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        manifest = convert(args)
    except SourceError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 2
    path = args.out / MANIFEST_NAME
    schema.write(path, manifest)
    print(json.dumps({"manifest": str(path)}), flush=True)
    return 1 if any(v.status == VARIANT_FAILED for v in manifest.variants) else 0


if __name__ == "__main__":
    sys.exit(main())
