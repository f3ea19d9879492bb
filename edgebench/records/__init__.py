"""The host's records, readable by every side: the converter writes manifests; the store, report and gate
read them and bundles. Standard library only (no numpy, SQLAlchemy, click or converter), so whoever
reads a record needs nothing its writer needed. The plan and cell result stay in
``device_runner.schema``, which is copied alone onto boards; these use its versioning.
"""

from edgebench.records.bundle import Bundle, StoredRun, is_bundle_ref, read_bundle, write_bundle
from edgebench.records.manifest import (
    HOST_REFERENCE_AVAILABLE,
    INPUT_SET_NAME,
    MANIFEST_NAME,
    MANIFEST_RECORD,
    Manifest,
    VariantRecord,
    VariantState,
    WeightStats,
    read_manifest,
)

__all__ = [
    "HOST_REFERENCE_AVAILABLE",
    "INPUT_SET_NAME",
    "MANIFEST_NAME",
    "MANIFEST_RECORD",
    "Bundle",
    "Manifest",
    "StoredRun",
    "VariantRecord",
    "VariantState",
    "WeightStats",
    "is_bundle_ref",
    "read_bundle",
    "read_manifest",
    "write_bundle",
]
