#!/usr/bin/env bash
# Builds the Java agent offline from Debian packages: stubs from proto/ with
# protoc and grpc_java_plugin, compiled with javac 17.
#   examples/java/build.sh OUT   → OUT/classes (run with examples/java/run.sh OUT …)
set -euo pipefail
out="${1:?usage: examples/java/build.sh OUT_DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rm -rf "$out/src" "$out/classes"
npx buf generate --template examples/java/buf.gen.yaml -o "$out/src"
mkdir -p "$out/classes"
find "$out/src" examples/java/src -name '*.java' > "$out/sources.txt"
javac -nowarn -encoding UTF-8 -d "$out/classes" -cp "$(examples/java/classpath.sh)" @"$out/sources.txt"
