"""The release gate: decide from measurements whether a candidate regressed against a baseline."""
