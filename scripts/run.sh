#!/usr/bin/env bash
# README command 1: set up if needed, then measure (by default the bundled example on `local`).
# Arguments go to `edgebench run`, e.g. scripts/run.sh --delegates xnnpack --threads 1,2
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
exec "$VENV/bin/edgebench" run "$@"
