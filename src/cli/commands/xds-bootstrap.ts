import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { DEFAULT_NAMESPACE, isDnsLabel } from "../../registry/index.js";
// bootstrap.js directly: the xds index also loads the (large) generated envoy types, which the CLI does not need.
import { createXdsBootstrap } from "../../xds/bootstrap.js";
import type { CliContext, Command } from "../command.js";
import { EXIT, UsageError } from "../command.js";
import { formatJson } from "../output.js";

const USAGE = `Usage: switchboard xds-bootstrap [--namespace NS] [--address ADDR] [--node-id ID]

Prints the GRPC_XDS_BOOTSTRAP JSON a proxyless gRPC client (grpc-js with
@grpc/grpc-js-xds, grpc-go, grpc-java, Python, C++...) needs to resolve
xds:///SERVICE against this control plane: the server URI, plaintext channel
credentials, and a node whose metadata names the client's namespace.

With it, xds:///orders is service "orders" in NS, and xds:///orders.billing is
service "orders" in namespace "billing".

Flags:
  -n, --namespace NAME    namespace of xds:///SERVICE (default "default")
  --address HOST:PORT[,HOST:PORT]
                          control plane gRPC address(es)
                          (default $SWITCHBOARD_ADDRESS, else localhost:7000)
  --node-id ID            node id the control plane logs (default "<hostname>")

Example:
  switchboard xds-bootstrap -n shop > /etc/xds-bootstrap.json
  GRPC_XDS_BOOTSTRAP=/etc/xds-bootstrap.json python3 client.py   # dials xds:///orders
`;

export const xdsBootstrapCommand: Command = {
  name: "xds-bootstrap",
  summary: "print the GRPC_XDS_BOOTSTRAP file for xds:///SERVICE clients",
  usage: USAGE,
  run: runXdsBootstrap,
};

async function runXdsBootstrap(context: CliContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args: context.argv,
    options: {
      namespace: { type: "string", short: "n" },
      address: { type: "string" },
      "node-id": { type: "string" },
    },
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const namespace = values.namespace ?? DEFAULT_NAMESPACE;
  if (!isDnsLabel(namespace)) throw new UsageError(`--namespace: "${namespace}" is not a DNS-1123 label`);
  const addresses = (values.address ?? (context.env.SWITCHBOARD_ADDRESS || "localhost:7000"))
    .split(",")
    .map((address) => address.trim())
    .filter((address) => address !== "");
  if (addresses.length === 0) throw new UsageError("--address: expected HOST:PORT");
  const nodeId = values["node-id"] ?? (hostname() || "switchboard-xds-client");
  context.stdout.write(formatJson(createXdsBootstrap({ addresses, namespace, nodeId })));
  return EXIT.ok;
}
