#!/bin/sh
# Generates the Python stubs for the Switchboard API into OUT (default examples/python/gen),
# with Debian's protoc and grpc_python_plugin:
#   apt-get install -y protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf
# Then: PYTHONPATH=OUT /usr/bin/python3 examples/python/registry_example.py --address HOST:PORT
set -eu
cd "$(dirname "$0")/../.."
out="${1:-examples/python/gen}"
mkdir -p "$out"
npx buf generate --template examples/python/buf.gen.yaml -o "$out"
echo "Python stubs in $out"
