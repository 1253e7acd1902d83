#!/usr/bin/env bash
# Runs the Java agent built by examples/java/build.sh OUT:  examples/java/run.sh OUT --service orders --port 8080
set -euo pipefail
out="${1:?usage: examples/java/run.sh OUT_DIR [agent flags]}"
shift
here="$(dirname "${BASH_SOURCE[0]}")"
exec java -cp "$out/classes:$("$here/classpath.sh")" example.agent.Agent "$@"
