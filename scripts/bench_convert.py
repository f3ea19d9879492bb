"""What does `edgebench convert` cost over the TF/TFMOT work itself? And an unchanged re-run?

In one run, on the bundled example with every variant at the default options:
  bare      - one process that makes each variant with the same TF/TFMOT calls (converter.recipes)
              and writes the .tflite files: nothing else (no figures, accuracy, cache, progress)
  edgebench - `edgebench convert --force` as a user runs it (its own TF process, figures, host
              accuracy, manifest)
  rerun     - `edgebench convert` again with nothing changed (content-addressed reuse)
Goal: edgebench / bare <= 1.10. Prints a Markdown table and writes it into docs/benchmarks.md
(scripts/doc_tables.py).

    .venv/bin/python scripts/bench_convert.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from doc_tables import publish

from converter.recipes import RECIPES

ROOT = Path(__file__).resolve().parent.parent

BARE = """
import sys, time
from pathlib import Path
import tensorflow as tf, tf_keras
from edgebench_records.catalogue import Options
from converter.recipes import RECIPES, Context
from converter.source import load_data, load_model
model, data_path, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
options = Options()
tf_keras.utils.set_random_seed(options.seed)
tf.config.experimental.enable_op_determinism()
source = load_model(model)
data = load_data(data_path, source.input_shape, options.normalize, options.val_split, options.seed)
for name, recipe in RECIPES.items():
    built = recipe.build(Context(source, data, options, lambda epoch, total: None))
    (out / f"{name}.tflite").write_bytes(built.flatbuffer)
"""


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    from edgebench.example import EXAMPLE_DATA, EXAMPLE_MODEL

    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    edgebench = [str(Path(sys.executable).parent / "edgebench"), "convert"]
    with tempfile.TemporaryDirectory() as tmp:
        bare = timed([sys.executable, "-c", BARE, str(EXAMPLE_MODEL), str(EXAMPLE_DATA), tmp], env)
        print(f"bare {bare:.1f} s", file=sys.stderr)
        full = timed([*edgebench, "--force", "--workdir", tmp])
        print(f"edgebench {full:.1f} s", file=sys.stderr)
        rerun = timed([*edgebench, "--workdir", tmp])
    lines = [f"bundled example, {len(RECIPES)} variants, default options, one run", ""]
    lines += [
        "| bare TF/TFMOT s | edgebench convert s | edgebench / bare | unchanged re-run s |",
        "|---:|---:|---:|---:|",
    ]
    lines.append(f"| {bare:.1f} | {full:.1f} | {full / bare:.3f} | {rerun:.2f} |")
    publish("bench_convert", "\n".join(lines), packages=["tensorflow", "tf-keras", "tensorflow-model-optimization"])


if __name__ == "__main__":
    main()
