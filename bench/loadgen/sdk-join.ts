// Joins through the SDK: each agent with its own SwitchboardClient (its own
// connection), as a fleet of separate processes would. `sdkJoin` times
// createSwitchboardClient + createAgent().start() (connection, Register, KeepAlive
// stream open) per instance; `sdkConnect` times a fresh client's first call
// (ListServices) alone, which is what the connection setup costs.
import { createAgent, createSwitchboardClient } from "@switchboard/client";
import type { Agent, SwitchboardClient } from "@switchboard/client";
import { runClosedLoop } from "./common.js";
import { NAMESPACE, sampleInstance } from "./fixtures.js";
import { summarize } from "../lib/stats.js";

export interface SdkJoinParams {
  address: string;
  count: number;
  concurrency: number;
  ttlSeconds: number;
  service: string;
}

async function sdkJoin(p: SdkJoinParams) {
  const clients: SwitchboardClient[] = [];
  const agents: Agent[] = [];
  try {
    const run = await runClosedLoop(p.count, p.concurrency, async (i) => {
      const client = createSwitchboardClient({ address: p.address, tls: false });
      clients.push(client);
      const { address, port, metadata, tags, zone, weight } = sampleInstance(p.service, `j-${i}`, i);
      const agent = createAgent({
        client,
        instance: {
          namespace: NAMESPACE,
          service: p.service,
          instanceId: `j-${i}`,
          address,
          port,
          metadata,
          tags,
          zone,
          weight,
        },
        ttlSeconds: p.ttlSeconds,
      });
      agents.push(agent);
      await agent.start();
    });
    return result(p.count, run);
  } finally {
    // Outside the measurement: deregister and close, so the next round starts from the same state.
    await Promise.all(agents.map((agent) => agent.stop().catch(() => undefined)));
    for (const client of clients) client.close();
  }
}

async function sdkConnect(p: SdkJoinParams) {
  const clients: SwitchboardClient[] = [];
  try {
    const run = await runClosedLoop(p.count, p.concurrency, async () => {
      const client = createSwitchboardClient({ address: p.address, tls: false });
      clients.push(client);
      await client.registry.listServices({ namespace: NAMESPACE });
    });
    return result(p.count, run);
  } finally {
    for (const client of clients) client.close();
  }
}

function result(count: number, run: Awaited<ReturnType<typeof runClosedLoop>>) {
  return {
    ops: count,
    seconds: run.seconds,
    opsPerSecond: count / run.seconds,
    latency: summarize(run.latencies),
    errors: run.errors,
    firstError: run.firstError,
  };
}

export const sdkJoinTasks = { sdkJoin, sdkConnect };
