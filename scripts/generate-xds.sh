#!/usr/bin/env bash
# Generates generated/xds/ (TypeScript for the ADS server) and
# generated/xds.binpb (the ADS service's descriptors, for reflection) from the
# envoy/xds/udpa protos pinned by the @grpc/grpc-js-xds devDependency (see
# buf.xds.yaml). Only the files the xDS server serves are listed; their
# imports are generated with them. CI checks that this leaves no diff.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ENVOY=node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy
ADS=$ENVOY/service/discovery/v3/ads.proto
FILES=(
  "$ADS"
  "$ENVOY/config/listener/v3/listener.proto"
  "$ENVOY/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto"
  "$ENVOY/extensions/filters/http/router/v3/router.proto"
  "$ENVOY/config/route/v3/route.proto"
  "$ENVOY/config/cluster/v3/cluster.proto"
  "$ENVOY/config/endpoint/v3/endpoint.proto"
)
paths=()
for file in "${FILES[@]}"; do paths+=(--path "$file"); done

rm -rf generated/xds
npx buf generate --config buf.xds.yaml --template buf.gen.xds.yaml "${paths[@]}"
npx buf build --config buf.xds.yaml --path "$ADS" --exclude-source-info -o generated/xds.binpb
