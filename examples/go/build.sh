#!/usr/bin/env bash
# Builds the Go agent offline from Debian packages (golang-go, golang-google-grpc-dev,
# protoc-gen-go, protoc-gen-go-grpc) in GOPATH mode: no modules, no proxy.
#   examples/go/build.sh OUT     → OUT/bin/agent (stubs generated into OUT/src)
set -euo pipefail
out="${1:?usage: examples/go/build.sh OUT_DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rm -rf "$out/src/switchboard.example"
npx buf generate --template examples/go/buf.gen.yaml -o "$out/src/switchboard.example/gen"
mkdir -p "$out/src/switchboard.example/agent" "$out/bin"
cp examples/go/agent/main.go "$out/src/switchboard.example/agent/"
cd "$out/src/switchboard.example/agent"
GO111MODULE=off GOPATH="$out:/usr/share/gocode" GOCACHE="${GOCACHE:-$out/cache}" \
  go build -o "$out/bin/agent" .
