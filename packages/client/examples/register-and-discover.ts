import { createAgent, createPicker, createSwitchboardClient } from "@switchboard/client";

// The control plane named by $SWITCHBOARD_ADDRESS (default localhost:7000).
const client = createSwitchboardClient();

// Register this process; the agent keeps its lease alive until stop() or drain().
const agent = createAgent({
  client,
  instance: { namespace: "shop", service: "orders", address: "127.0.0.1", port: 8080 },
});
await agent.start();

// Any other process finds it by name.
const picker = createPicker({ client, namespace: "shop" });
const { address, port } = await picker.pick("orders");
console.log(`picked ${address}:${port}`);

picker.close();
await agent.stop(); // deregisters at once
client.close();
