#!/usr/bin/env bash
# android_app's plain-Java core and its JUnit 4 tests, compiled with javac and run on the JVM: the
# logic of the on-phone runner, proven without an Android SDK. scripts/test.sh calls this; pytest's
# cross-language schema test calls it with --compile-only.
#   scripts/test_android_core.sh [--compile-only]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP="$ROOT/android_app/app/src"
OUT="$ROOT/android_app/build/jvm"
# Debian's jars: libgoogle-gson-java (the app's JSON library), junit4 (brings hamcrest).
JARS=(/usr/share/java/gson.jar /usr/share/java/junit4.jar /usr/share/java/hamcrest-core.jar)
for jar in "${JARS[@]}"; do
  [ -f "$jar" ] || { echo "test_android_core: $jar missing: apt-get install libgoogle-gson-java junit4" >&2; exit 2; }
done
command -v javac >/dev/null || { echo "test_android_core: javac missing: apt-get install default-jdk-headless" >&2; exit 2; }
CP="$(IFS=:; echo "${JARS[*]}")"

CORE="$APP/main/java/com/edgebench/runner/core"
if grep -rn "^import android" "$CORE"; then
  echo "test_android_core: the core must not import android.* (it is tested on the JVM)" >&2
  exit 1
fi
rm -rf "$OUT" "$OUT-glue" && mkdir -p "$OUT" "$OUT-glue"
javac -Xlint:all,-serial -Werror -d "$OUT" -cp "$CP" $(find "$CORE" "$APP/test/java" -name '*.java')
# The Android glue against compile-only stubs of the Android/LiteRT APIs (see android_app/jvm-stubs/).
javac -Xlint:all,-serial -Werror -d "$OUT-glue" -cp "$CP" \
  $(find "$ROOT/android_app/jvm-stubs" "$APP/main/java" -name '*.java')
# minSdk: the core and the glue compiled again against Android API 23's real java.* class files (Debian 11's
# libandroid-23-java, fetched once into android_app/build/); a member missing there and not a reviewed
# API 24-26 one (android_app/minsdk/api23-baseline.txt) fails: InputStream.readAllBytes() (API 33) would.
SYSTEM="$("$ROOT/android_app/minsdk/android23_system.sh" "$ROOT/android_app/build/android-23")"
python3 "$ROOT/android_app/minsdk/api_check.py" --system "$SYSTEM" --baseline "$ROOT/android_app/minsdk/api23-baseline.txt" \
  --classpath "$CP" $(find "$ROOT/android_app/jvm-stubs" "$APP/main/java" -name '*.java')
[ "${1:-}" = "--compile-only" ] && exit 0

TESTS=$(cd "$APP/test/java" && find . -name '*Test.java' | sed 's|^\./||; s|\.java$||; s|/|.|g' | sort)
java -cp "$OUT:$CP" org.junit.runner.JUnitCore $TESTS
