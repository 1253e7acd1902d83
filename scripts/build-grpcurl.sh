#!/usr/bin/env bash
# Builds grpcurl v1.8.7 (test/grpcurl.test.ts) with Debian's Go 1.19 in GOPATH mode: no module
# proxy. grpcurl is in no registry reachable here; its sources and the two it needs newer than
# Debian's come from git, the rest from Debian packages (golang-go, golang-google-protobuf-dev,
# golang-github-golang-protobuf-1-5-dev, golang-golang-x-{net,sys,text}-dev, golang-google-genproto-dev):
#
#   scripts/build-grpcurl.sh OUT                    → OUT/bin/grpcurl
#
# Sources: GRPCURL_GIT_MIRRORS=DIR takes each repository from a local git mirror
# DIR/<owner>+<name>/repo (or DIR/<owner>+<name>); otherwise it is cloned from github.com at the
# tag. The xDS resolver import is dropped (it would need envoy's go-control-plane; the tests do
# not use xds:// targets). Fails loudly when a source cannot be had.
set -euo pipefail
out="${1:?usage: scripts/build-grpcurl.sh OUT_DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [[ -x "$out/bin/grpcurl" ]]; then
  echo "grpcurl already built: $out/bin/grpcurl"
  exit 0
fi

# owner/name tag GOPATH-path
SOURCES=(
  "fullstorydev/grpcurl v1.8.7 github.com/fullstorydev/grpcurl"
  "jhump/protoreflect v1.12.0 github.com/jhump/protoreflect"
  "grpc/grpc-go v1.48.0 google.golang.org/grpc"
)
gopath="$out/gopath"
rm -rf "$gopath"
for entry in "${SOURCES[@]}"; do
  read -r repo tag path <<<"$entry"
  dest="$gopath/src/$path"
  mkdir -p "$dest"
  mirror=""
  if [[ -n "${GRPCURL_GIT_MIRRORS:-}" ]]; then
    for candidate in "$GRPCURL_GIT_MIRRORS/${repo/\//+}/repo" "$GRPCURL_GIT_MIRRORS/${repo/\//+}"; do
      if [[ -d "$candidate" ]]; then mirror="$candidate"; break; fi
    done
  fi
  if [[ -n "$mirror" ]]; then
    git -C "$mirror" archive "$tag" | tar -x -C "$dest"
  else
    git clone --quiet --depth 1 --branch "$tag" "https://github.com/$repo.git" "$dest" || {
      echo "scripts/build-grpcurl.sh: cannot get $repo $tag from github.com; set GRPCURL_GIT_MIRRORS to a directory of git mirrors" >&2
      exit 1
    }
  fi
done
sed -i '/_ "google.golang.org\/grpc\/xds"/d' "$gopath/src/github.com/fullstorydev/grpcurl/cmd/grpcurl/grpcurl.go"
mkdir -p "$out/bin"
cd "$gopath/src/github.com/fullstorydev/grpcurl"
GO111MODULE=off GOFLAGS= GOPATH="$gopath:/usr/share/gocode" GOCACHE="${GOCACHE:-$out/cache}" \
  go build -ldflags "-X main.version=v1.8.7" -o "$out/bin/grpcurl" ./cmd/grpcurl
"$out/bin/grpcurl" -version
