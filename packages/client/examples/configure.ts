import { bootstrap, createSwitchboardClient, rollbackConfig } from "@switchboard/client";

const client = createSwitchboardClient();
const scope = { namespace: "shop", service: "orders" };

const good = await client.config.putValue({ scope, key: "timeout-ms", value: "250" });
await client.config.putValue({ scope, key: "timeout-ms", value: "9000", author: "oops" });

// Put the good version back: a new write, compare-and-set, and history keeps both.
await rollbackConfig(client, { scope, key: "timeout-ms", revision: Number(good.revision) });

// The effective configuration: the server's layers, overridden by SWITCHBOARD_CONFIG_* variables.
const config = await bootstrap({ client, namespace: "shop", service: "orders", cacheFile: false });
console.log(`timeout-ms = ${config.getNumber("timeout-ms")}`);

config.close();
client.close();
