#!/usr/bin/env bash
# Builds (once, cached) a javac system image holding only Android API 23's real java.*/javax.*/org.* class
# files, and prints its path. Source: Debian 11's libandroid-23-java (android.jar of API 23, from AOSP's
# android-6.0.1_r72), fetched with apt-get through a private apt configuration: the system's own apt
# sources, lists and installed packages are not touched, and nothing is installed. The .deb is pinned
# by version and sha256.
#   android_app/minsdk/android23_system.sh CACHE_DIR  → prints CACHE_DIR/img
set -euo pipefail
CACHE="${1:?cache dir}"
VERSION="6.0.1+r72-6"
SHA256="8af1b6df556971dda0a6da3536ea526a838e0c363afcdd454213d8bce94793e3"
IMG="$CACHE/img"
if [ -f "$IMG/lib/modules" ] && [ "$(cat "$CACHE/img.version" 2>/dev/null)" = "$VERSION $SHA256" ]; then
  echo "$IMG"; exit 0
fi
rm -rf "$CACHE" && mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/cache/archives/partial" "$CACHE/deb" "$CACHE/mod"
cat > "$CACHE/apt/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main
SRC
APT=(-o "Dir::Etc::SourceList=$CACHE/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o "Dir::State::Lists=$CACHE/apt/lists" -o "Dir::Cache=$CACHE/apt/cache" -o Dir::State::status=/dev/null
     -o APT::Sandbox::User=root -o Debug::NoLocking=1)
apt-get "${APT[@]}" -qq update >&2
(cd "$CACHE/deb" && apt-get "${APT[@]}" -qq download "libandroid-23-java=$VERSION" >&2)
DEB="$CACHE/deb/libandroid-23-java_${VERSION}_all.deb"
echo "$SHA256  $DEB" | sha256sum -c --quiet - >&2
dpkg-deb -x "$DEB" "$CACHE/x"
JAR="$CACHE/x/usr/share/java/com.android.android-23.jar"
# java.* and the other libcore packages only: android.* comes from the glue's stubs (compileSdk 35, with
# newer calls behind SDK_INT checks), so only the Java library is held to API 23 here.
(cd "$CACHE/mod" && unzip -q "$JAR" 'java/*' 'javax/*' 'org/json/*' 'org/w3c/*' 'org/xml/*' 'org/xmlpull/*')
{
  echo "module java.base {"
  (cd "$CACHE/mod" && find . -name '*.class' -printf '%h\n' | sed 's|^\./||; s|/|.|g' | sort -u | sed 's/.*/  exports &;/')
  echo "}"
} > "$CACHE/module-info.java"
javac --system none --patch-module "java.base=$CACHE/mod" -d "$CACHE/mod" "$CACHE/module-info.java"
jmod create --module-version "$(javac -version 2>&1 | sed 's/javac \([0-9]*\).*/\1/')" --target-platform linux-amd64 \
  --class-path "$CACHE/mod" "$CACHE/java.base.jmod"
# No generated java.lang.invoke classes (API 23 has no such package) and no system-modules plugin.
jlink --module-path "$CACHE/java.base.jmod" --add-modules java.base --output "$IMG" \
  --disable-plugin system-modules --disable-plugin generate-jli-classes
cp "$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")/lib/jrt-fs.jar" "$IMG/lib/"
echo "$VERSION $SHA256" > "$CACHE/img.version"
echo "$IMG"
