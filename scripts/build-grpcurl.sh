#!/usr/bin/env bash
# Builds grpcurl v1.8.7 (test/grpcurl.test.ts) with Debian's Go 1.19 in GOPATH mode: no module
# proxy and no git host, as CI reaches only the npm registry and Debian apt. grpcurl and the two
# sources it needs newer than Debian's (jhump/protoreflect, grpc-go) are vendored, already
# patched, in third_party/grpcurl (see its README.md; refresh with scripts/vendor-grpcurl.sh);
# the rest comes from Debian packages (golang-go, golang-google-protobuf-dev,
# golang-github-golang-protobuf-1-5-dev, golang-golang-x-{net,sys,text}-dev, golang-google-genproto-dev):
#
#   scripts/build-grpcurl.sh OUT                    → OUT/bin/grpcurl
set -euo pipefail
out="${1:?usage: scripts/build-grpcurl.sh OUT_DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [[ -x "$out/bin/grpcurl" ]]; then
  echo "grpcurl already built: $out/bin/grpcurl"
  exit 0
fi
vendored="$(cd "$(dirname "$0")/.." && pwd)/third_party/grpcurl"
mkdir -p "$out/bin"
cd "$vendored/src/github.com/fullstorydev/grpcurl"
# go build -o writes nothing into GOPATH, so the vendored tree stays untouched.
GO111MODULE=off GOFLAGS= GOPATH="$vendored:/usr/share/gocode" GOCACHE="${GOCACHE:-$out/cache}" \
  go build -ldflags "-X main.version=v1.8.7" -o "$out/bin/grpcurl" ./cmd/grpcurl
"$out/bin/grpcurl" -version
