// CPU to construct SDK clients (no connection is made): `createSwitchboardClient` plus the
// `.registry` facade an agent uses, per client, in this process.
//
//   node --import tsx bench/sdk-client-cost.ts [count] [sdk module]
//
// The module defaults to this tree's built SDK (`npm run build` first); pass another build's
// packages/client/dist/packages/client/src/index.js to compare (the A/B of bench/README.md).
import type * as Sdk from "@switchboard/client";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [countArg, moduleArg] = process.argv.slice(2);
const count = Number(countArg ?? 2000);
const sdk = (await import(moduleArg ? pathToFileURL(resolve(moduleArg)).href : "@switchboard/client")) as typeof Sdk;

// Each client gets its own subchannel pool, as separate agent processes would.
const make = () => {
  const client = sdk.createSwitchboardClient({
    address: "127.0.0.1:7999",
    tls: false,
    channelOptions: { "grpc.use_local_subchannel_pool": 1 },
  });
  void client.registry;
  return client;
};
for (let i = 0; i < 200; i++) make().close(); // warm-up: JIT and module state
const before = process.cpuUsage();
const clients = Array.from({ length: count }, make);
const used = process.cpuUsage(before);
for (const client of clients) client.close();
process.stdout.write(
  `${moduleArg ?? "@switchboard/client"}: ${((used.user + used.system) / count).toFixed(0)} µs CPU per client (${count} clients, load ${loadavg()[0]!.toFixed(1)})\n`,
);
process.exit(0);
