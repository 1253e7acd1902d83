#!/usr/bin/env bash
# Refreshes third_party/grpcurl (see its README.md): the Go sources scripts/build-grpcurl.sh
# compiles from grpcurl, jhump/protoreflect and grpc-go, so CI (npm registry and Debian apt only)
# needs no git host. Run it where the three repositories can be had:
#
#   scripts/vendor-grpcurl.sh                       → clones the tags from github.com
#   GRPCURL_GIT_MIRRORS=DIR scripts/vendor-grpcurl.sh → DIR/<owner>+<name>/repo (or DIR/<owner>+<name>)
#
# Copies only the packages `go list -deps ./cmd/grpcurl` reports from those three roots, and of
# each only the files compiled on linux (GoFiles: no _test.go), plus each project's LICENSE/NOTICE.
# The one local change, dropping grpcurl's xDS resolver import, is applied here, so the vendored
# tree is already patched. Needs the Debian Go packages .ci/run installs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/third_party/grpcurl/src"

# owner/name tag GOPATH-path
SOURCES=(
  "fullstorydev/grpcurl v1.8.7 github.com/fullstorydev/grpcurl"
  "jhump/protoreflect v1.12.0 github.com/jhump/protoreflect"
  "grpc/grpc-go v1.48.0 google.golang.org/grpc"
)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gopath="$work/gopath"
for entry in "${SOURCES[@]}"; do
  read -r repo tag path <<<"$entry"
  src="$gopath/src/$path"
  mkdir -p "$src"
  mirror=""
  if [[ -n "${GRPCURL_GIT_MIRRORS:-}" ]]; then
    for candidate in "$GRPCURL_GIT_MIRRORS/${repo/\//+}/repo" "$GRPCURL_GIT_MIRRORS/${repo/\//+}"; do
      if [[ -d "$candidate" ]]; then mirror="$candidate"; break; fi
    done
  fi
  if [[ -n "$mirror" ]]; then
    git -C "$mirror" archive "$tag" | tar -x -C "$src"
    commit="$(git -C "$mirror" rev-parse "$tag^{commit}")"
  else
    git clone --quiet --depth 1 --branch "$tag" "https://github.com/$repo.git" "$src"
    commit="$(git -C "$src" rev-parse HEAD)"
  fi
  echo "$path $repo $tag $commit"
done
main="$gopath/src/github.com/fullstorydev/grpcurl/cmd/grpcurl/grpcurl.go"
grep -q '_ "google.golang.org/grpc/xds"' "$main" || { echo "xds import not found in $main" >&2; exit 1; }
sed -i '/_ "google.golang.org\/grpc\/xds"/d' "$main"

rm -rf "$dest"
cd "$gopath/src/github.com/fullstorydev/grpcurl"
GO111MODULE=off GOFLAGS= GOOS=linux GOPATH="$gopath:/usr/share/gocode" GOCACHE="$work/cache" \
  go list -deps -f '{{if not .Standard}}{{.ImportPath}} {{join .GoFiles " "}}{{end}}' ./cmd/grpcurl |
  while read -r pkg files; do
    [[ -d "$gopath/src/$pkg" ]] || continue # from /usr/share/gocode (Debian packages)
    mkdir -p "$dest/$pkg"
    for f in $files; do cp "$gopath/src/$pkg/$f" "$dest/$pkg/$f"; done
  done
for entry in "${SOURCES[@]}"; do
  read -r _ _ path <<<"$entry"
  for f in LICENSE NOTICE NOTICE.txt; do
    if [[ -f "$gopath/src/$path/$f" ]]; then cp "$gopath/src/$path/$f" "$dest/$path/$f"; fi
  done
done
echo "vendored into $dest: $(find "$dest" -type f | wc -l) files, $(du -sh "$dest" | cut -f1)"
