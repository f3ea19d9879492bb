"""Host-side conversion of a model into LiteRT variants (runs in its own process).

It writes ``variants.json`` as the record in ``edgebench_records`` (which the host reads without this
package); what imports TensorFlow is reached through ``python -m converter`` with ``TF_USE_LEGACY_KERAS=1``.
"""
