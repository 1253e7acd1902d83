#!/usr/bin/env bash
# Makes a private CA and the certificates a Switchboard installation needs, with openssl:
#
#   deploy/tls/make-certs.sh [OUT_DIR] [EXTRA_SAN ...]     # default OUT_DIR: deploy/tls/certs
#
#   ca.crt / ca.key                  the CA (keep ca.key offline; every party trusts ca.crt)
#   switchboard.crt / .key           server certificate of the gRPC and HTTP ports
#   etcd.crt / .key                  server certificate of the etcd members (client and peer URLs)
#   switchboard-etcd-client.crt/.key Switchboard's client certificate for etcd (--client-cert-auth)
#   client.crt / .key                a client certificate for the CLI, SDK and probes (mTLS);
#                                    identity spiffe://switchboard/client (URI SAN), CN "client"
#   admin.token                      the first admin token (<id>.<secret>) for
#                                    --auth-bootstrap-token-file; give it to every replica
#
# Server certificates name localhost, 127.0.0.1 (the container health check connects there),
# switchboard-1..3 and etcd-1..3 (the compose service names), plus any EXTRA_SAN given as
# DNS:name or IP:address. Keys are EC P-256, written with mode 0600; certificates last 825 days.
# Existing files are kept: delete OUT_DIR to start over (or replace single files to rotate;
# Switchboard re-reads its certificate files when they change).
set -euo pipefail

out="${1:-$(dirname "$0")/certs}"
shift || true
extra=("$@")
mkdir -p "$out"
cd "$out"
umask 077

days=825
if [[ ! -f ca.crt ]]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout ca.key -out ca.crt -days 3650 -subj "/CN=switchboard-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
fi

# issue NAME CN EXTENDED_KEY_USAGE SAN
issue() {
  local name="$1" cn="$2" usage="$3" san="$4"
  [[ -f "$name.crt" ]] && return 0
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
    "$usage" "$san" > "$name.ext"
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 12)" \
    -days "$days" -extfile "$name.ext" -out "$name.crt"
  rm -f "$name.csr" "$name.ext"
}

join() { local IFS=,; echo "$*"; }
loopback=("DNS:localhost" "IP:127.0.0.1" "IP:::1")
issue switchboard switchboard serverAuth \
  "$(join "${loopback[@]}" DNS:switchboard-1 DNS:switchboard-2 DNS:switchboard-3 ${extra[@]+"${extra[@]}"})"
issue etcd etcd serverAuth,clientAuth \
  "$(join "${loopback[@]}" DNS:etcd-1 DNS:etcd-2 DNS:etcd-3 ${extra[@]+"${extra[@]}"})"
issue switchboard-etcd-client switchboard clientAuth "URI:spiffe://switchboard/etcd-client"
issue client client clientAuth "URI:spiffe://switchboard/client"

# The first admin token: becomes an admin token on * when the store has none bootstrapped yet.
if [[ ! -f admin.token ]]; then
  echo "$(openssl rand -hex 8).$(openssl rand -hex 32)" > admin.token
fi

# Readable by the container users (distroless nonroot is uid 65532, etcd runs as root); the
# directory is what protects the keys and the token: mount it read-only and keep it out of images and git.
chmod 0644 ./*.crt ./*.key admin.token
chmod 0600 ca.key
echo "certificates in $out"
