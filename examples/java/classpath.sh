#!/usr/bin/env bash
# Prints the runtime classpath of the Java agent from Debian's jars
# (libgrpc-java, libprotobuf-java, libnetty-java, libguava-java and friends).
set -euo pipefail
jars=(
  grpc-api grpc-core grpc-context grpc-stub grpc-protobuf grpc-protobuf-lite grpc-netty
  protobuf guava failureaccess jsr305 perfmark-api geronimo-annotation-1.3-spec error_prone_annotations
  netty-buffer netty-codec netty-codec-http netty-codec-http2 netty-common netty-handler netty-resolver
  netty-transport netty-transport-native-unix-common
  opencensus-api opencensus-contrib-grpc-metrics gson
)
paths=()
for jar in "${jars[@]}"; do
  [[ -f "/usr/share/java/$jar.jar" ]] && paths+=("/usr/share/java/$jar.jar")
done
(IFS=:; echo "${paths[*]}")
