"""edgebench's records: every JSON file one side writes and another reads, with its version and upgrades.

The converter writes manifests, device_runner reads plans and writes cell results, and the host's store,
report and gate read them all, bundles and run records too; each reads them from here, so none of them
imports another to read a record.

Standard library only, because it is copied onto boards beside device_runner/ (which must run with nothing but
numpy and a LiteRT runtime) and because whoever reads a record needs nothing its writer needed (no TensorFlow,
numpy, SQLAlchemy or click).

  versioning   RecordType (version, upgrade steps), SchemaError, JSON <-> dataclasses, atomic writes
  protocol     the plan (host -> device) and the cell result (device -> host)
  model        a model file's tensors and figures, as the manifest and the runner carry them
  manifest     variants.json: what the converter made
  bundle       runs as one JSON file (history --export, gate --baseline FILE)
  run_record   run.json: what a run was started with, for --resume
  catalogue    the variants and options the converter offers (read it as ``edgebench_records.catalogue``)
  tune         what an `edgebench tune` search is after (read it as ``edgebench_records.tune``)
  options      option(): an option's flag, default, range, help and resume rule, declared on its record's field
  hashing      content hashes of models, data and variants
"""

from edgebench_records.bundle import BUNDLE_RECORD, Bundle, StoredRun, is_bundle_ref, read_bundle, write_bundle
from edgebench_records.hashing import altered_file, sha256_file, sha256_tree
from edgebench_records.manifest import (
    HOST_REFERENCE_AVAILABLE,
    INPUT_SET_NAME,
    MANIFEST_NAME,
    MANIFEST_RECORD,
    LayerError,
    Manifest,
    VariantRecord,
    VariantState,
    WeightStats,
    read_manifest,
    worst_layers,
)
from edgebench_records.model import ModelFigures, TensorInfo
from edgebench_records.protocol import (
    DRIFT_CAP,
    PLAN_RECORD,
    RESULT_RECORD,
    SMALL_OUTPUT,
    SNR_CAP_DB,
    Accuracy,
    Activity,
    CellKey,
    CellResult,
    Conditions,
    Coverage,
    CpuFeature,
    Culprit,
    CulpritMethod,
    DeviceFacts,
    FailureClass,
    Measurement,
    Memory,
    Numerics,
    OpDrift,
    OpProfile,
    OpTime,
    OutputFidelity,
    Pair,
    Placement,
    Plan,
    PlanVariant,
    RanOn,
    Schedule,
    Status,
    StopReason,
    Task,
    Timing,
)
from edgebench_records.run_record import RUN_RECORD, RunRecord
from edgebench_records.versioning import (
    RecordType,
    SchemaError,
    Versioned,
    VersionError,
    build,
    dumps,
    from_dict,
    loads,
    read,
    to_dict,
    write,
    write_atomic,
)

__all__ = [
    "BUNDLE_RECORD",
    "DRIFT_CAP",
    "HOST_REFERENCE_AVAILABLE",
    "INPUT_SET_NAME",
    "MANIFEST_NAME",
    "MANIFEST_RECORD",
    "PLAN_RECORD",
    "RESULT_RECORD",
    "RUN_RECORD",
    "SMALL_OUTPUT",
    "SNR_CAP_DB",
    "Accuracy",
    "Activity",
    "Bundle",
    "CellKey",
    "CellResult",
    "Conditions",
    "Coverage",
    "CpuFeature",
    "Culprit",
    "CulpritMethod",
    "DeviceFacts",
    "FailureClass",
    "LayerError",
    "Manifest",
    "Measurement",
    "Memory",
    "ModelFigures",
    "Numerics",
    "OpDrift",
    "OpProfile",
    "OpTime",
    "OutputFidelity",
    "Pair",
    "Placement",
    "Plan",
    "PlanVariant",
    "RanOn",
    "RecordType",
    "RunRecord",
    "Schedule",
    "SchemaError",
    "Status",
    "StopReason",
    "StoredRun",
    "Task",
    "TensorInfo",
    "Timing",
    "VariantRecord",
    "VariantState",
    "VersionError",
    "Versioned",
    "WeightStats",
    "altered_file",
    "build",
    "dumps",
    "from_dict",
    "is_bundle_ref",
    "loads",
    "read",
    "read_bundle",
    "read_manifest",
    "sha256_file",
    "sha256_tree",
    "to_dict",
    "worst_layers",
    "write",
    "write_atomic",
    "write_bundle",
]
