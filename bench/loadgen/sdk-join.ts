// Joins through the SDK: each agent with its own SwitchboardClient, as a fleet
// of separate processes would. `sdkJoin` times createSwitchboardClient +
// createAgent().start() (Register; the KeepAlive stream opens in the
// background) per instance and keeps the agents running; `sdkLeave` stops them
// (deregistration) as a phase of its own; `sdkConnect` times a fresh client's
// first call (ListServices) alone, which is what the connection setup costs.
//
// grpc-js shares one TCP connection between every channel of a process with the
// same target and options (its global subchannel pool), so 1,000 clients in one
// load generator would otherwise be 1,000 channels on ONE connection: with
// `ownConnection` each client gets its own subchannel pool, hence its own TCP
// connection and HTTP/2 handshake, as separate agent processes have.
import type * as Sdk from "@switchboard/client";
import type { Agent, SwitchboardClient } from "@switchboard/client";
import { runClosedLoop, throughputResult } from "./common.js";
import { NAMESPACE, sampleInstance } from "./fixtures.js";

export interface SdkJoinParams {
  address: string;
  count: number;
  concurrency: number;
  ttlSeconds: number;
  service: string;
  /** Index of the first instance, so several load generators join distinct instances. Default 0. */
  first?: number;
  /** A TCP connection per client (as separate processes have) instead of grpc-js' shared one. Default true. */
  ownConnection?: boolean;
}

// BENCH_SDK_MODULE=/abs/path/to/packages/client/dist/packages/client/src/index.js measures another
// build of the SDK (an A/B run of an SDK patch), as BENCH_SERVER_MODULE does for the server.
const sdk = (await import(process.env.BENCH_SDK_MODULE ?? "@switchboard/client")) as typeof Sdk;
const { createAgent, createSwitchboardClient } = sdk;

// Agents joined by sdkJoin, by service, until sdkLeave stops them.
const joined = new Map<string, { clients: SwitchboardClient[]; agents: Agent[] }>();

function newClient(p: SdkJoinParams): SwitchboardClient {
  return createSwitchboardClient({
    address: p.address,
    tls: false,
    channelOptions: p.ownConnection === false ? {} : { "grpc.use_local_subchannel_pool": 1 },
  });
}

async function sdkJoin(p: SdkJoinParams) {
  const state = { clients: [] as SwitchboardClient[], agents: [] as Agent[] };
  joined.set(p.service, state);
  const first = p.first ?? 0;
  const run = await runClosedLoop(p.count, p.concurrency, async (k) => {
    const i = first + k;
    const client = newClient(p);
    state.clients.push(client);
    const { address, port, metadata, tags, zone, weight } = sampleInstance(p.service, `j-${i}`, i);
    const agent = createAgent({
      client,
      instance: { namespace: NAMESPACE, service: p.service, instanceId: `j-${i}`, address, port, metadata, tags, zone, weight },
      ttlSeconds: p.ttlSeconds,
    });
    state.agents.push(agent);
    await agent.start();
  });
  return result(p.count, run);
}

/** Stops the agents sdkJoin left running (Deregister), `concurrency` at a time, and closes their clients. */
async function sdkLeave(p: { service: string; concurrency: number }) {
  const state = joined.get(p.service);
  joined.delete(p.service);
  if (!state) return { ops: 0, seconds: 0, errors: 0, firstError: undefined };
  const run = await runClosedLoop(state.agents.length, p.concurrency, async (i) => {
    try {
      await state.agents[i]!.stop();
    } finally {
      state.clients[i]!.close();
    }
  });
  return { ops: state.agents.length, seconds: run.seconds, errors: run.errors, firstError: run.firstError };
}

async function sdkConnect(p: SdkJoinParams) {
  const clients: SwitchboardClient[] = [];
  try {
    const run = await runClosedLoop(p.count, p.concurrency, async () => {
      const client = newClient(p);
      clients.push(client);
      await client.registry.listServices({ namespace: NAMESPACE });
    });
    return result(p.count, run);
  } finally {
    for (const client of clients) client.close();
  }
}

/** Every latency (ms) beside the summary, so an orchestrator can merge the percentiles of several processes. */
function result(count: number, run: Awaited<ReturnType<typeof runClosedLoop>>) {
  return { ...throughputResult(count, run), samples: Array.from(run.latencies) };
}

export const sdkJoinTasks = { sdkJoin, sdkLeave, sdkConnect };
