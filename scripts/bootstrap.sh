#!/usr/bin/env bash
# Sourced by run.sh and test.sh: makes .venv and installs edgebench with its dev tools, the [tune] and
# [explorer] extras (the tests drive them) and the [convert]
# extra (TensorFlow: the bundled example is a .keras model, and the tests convert) into it,
# again whenever pyproject.toml changes. Needs only python3 (>= 3.11) and the package registries.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PYTHON=${PYTHON:-python3}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "edgebench: $PYTHON is missing or older than 3.11; set PYTHON=/path/to/python3.11" >&2
  exit 2
fi

# ensure_venv DIR KEY PIP_ARGS...: (re)install PIP_ARGS into DIR when KEY differs from the last install.
ensure_venv() {
  local dir=$1 key=$2
  shift 2
  [ -x "$dir/bin/python" ] || "$PYTHON" -m venv "$dir"
  if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$key" ]; then
    echo "edgebench: installing into $dir: $*" >&2
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
    echo "$key" > "$dir/.installed"
  fi
}

ensure_venv "$VENV" "$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)" -e "$ROOT[dev,convert,tune,explorer]"
