"""Host-side conversion of a model into LiteRT variants (runs in its own process).

Only ``converter.manifest`` may be imported by the rest of edgebench: everything else imports
TensorFlow and is reached through ``python -m converter`` with ``TF_USE_LEGACY_KERAS=1``.
"""
