/**
 * The production shape under an etcd fault: three Switchboard replicas (child processes) on a
 * real 3-member etcd cluster; one member, the Raft leader, fails; registrations through one
 * replica, heartbeats through another and a watch on the third must carry on. Used by
 * test/etcd-cluster-*.test.ts, one fault per file so the files run in parallel.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSwitchboardClient, watchService } from "@switchboard/client";
import { startAgent } from "./start-agent.js";
import type { Agent, Instance, SwitchboardClient, WatchUpdate } from "@switchboard/client";
import { requireEtcd, startEtcdCluster } from "./etcd.js";
import type { EtcdCluster, EtcdServer } from "./etcd.js";
import { spawnServer } from "./server.js";
import type { SpawnedServer } from "./server.js";
import { eventually } from "./eventually.js";

const SERVICE = "cluster-probe";
/** The default TTL: it has to outlast etcd's leader election plus the store's 5 s request and keepalive deadlines. */
const TTL_SECONDS = 10;
export interface EtcdFault {
  /** What the test title says happens to the leader. */
  name: string;
  /** Breaks the member. The cluster's stop() cleans up afterwards either way. */
  inflict(member: EtcdServer): void | Promise<void>;
  /** Bound on the time until a registration made after the fault reaches the watcher. */
  recoveryBoundMs: number;
}

export function describeEtcdFailover(fault: EtcdFault): void {
  describe.skipIf(!requireEtcd())("three replicas on a 3-member etcd cluster", () => {
    let cluster: EtcdCluster;
    let replicas: SpawnedServer[] = [];
    const clients: SwitchboardClient[] = [];
    const agents: Agent[] = [];
    const watchAbort = new AbortController();

    beforeAll(async () => {
      cluster = await startEtcdCluster(3);
      replicas = await Promise.all([0, 1, 2].map(() => spawnServer({ etcdEndpoints: cluster.endpoints })));
    });

    afterAll(async () => {
      watchAbort.abort();
      await Promise.allSettled(agents.map((agent) => agent.stop()));
      for (const client of clients) client.close();
      await Promise.allSettled(replicas.map((replica) => replica.stop()));
      await cluster?.stop();
    });

    function clientOf(replica: SpawnedServer): SwitchboardClient {
      const client = createSwitchboardClient({ address: replica.grpcAddress, defaultTimeoutMs: 8_000 });
      clients.push(client);
      return client;
    }

    async function agentFor(client: SwitchboardClient, port: number): Promise<Agent> {
      const agent = await startAgent({
        client,
        instance: { service: SERVICE, instanceId: `probe-${port}`, address: "127.0.0.1", port },
        ttlSeconds: TTL_SECONDS,
        drainGraceMs: 0,
      });
      agents.push(agent);
      return agent;
    }

    it(`keeps registrations, heartbeats and watches working when the etcd leader is ${fault.name}`, async () => {
      const [viaFirst, viaSecond, viaThird] = replicas.map(clientOf) as [SwitchboardClient, SwitchboardClient, SwitchboardClient];
      // A watcher on the second replica sees what agents register through the first and third.
      const watch = collect(viaSecond, watchAbort.signal);

      const first = await agentFor(viaFirst, 9001);
      await eventually(() => ids(watch.current()).includes("probe-9001"), 10_000, "first instance in the watch");

      const leader = await findLeader(cluster);
      await fault.inflict(leader);
      const faultAt = Date.now();

      // Registration through another replica while etcd elects a new leader (the agent retries).
      const second = await agentFor(viaThird, 9002);
      await eventually(() => ids(watch.current()).includes("probe-9002"), fault.recoveryBoundMs, "second instance in the watch");
      expect(Date.now() - faultAt).toBeLessThan(fault.recoveryBoundMs);

      // Heartbeats keep the first instance alive for more than a TTL on the two surviving members.
      await new Promise((resolve) => setTimeout(resolve, (TTL_SECONDS + 2) * 1000));
      expect(ids(watch.current())).toEqual(["probe-9001", "probe-9002"]);
      expect(removedIds(watch.updates)).toEqual([]);
      expect(first.status).toBe("running");

      // Reads through any replica agree, and a deregistration reaches the watcher.
      const listed = await viaFirst.registry.listInstances({ service: SERVICE });
      expect(ids(listed.instances)).toEqual(["probe-9001", "probe-9002"]);
      await second.stop();
      await eventually(() => removedIds(watch.updates).includes("probe-9002"), 10_000, "deregistration in the watch");
      expect(ids(watch.current())).toEqual(["probe-9001"]);

      // Across the leader change the watcher's revisions only increase: no replay.
      const revisions = watch.updates.filter((u) => u.type === "event").map((u) => u.revision);
      expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
      expect(new Set(revisions).size).toBe(revisions.length);
      expect(watch.error()).toBeUndefined();
    }, 90_000);
  });
}

/** Runs watchService in the background and keeps every update. */
function collect(client: SwitchboardClient, signal: AbortSignal) {
  const updates: WatchUpdate[] = [];
  let failure: unknown;
  void (async () => {
    try {
      for await (const update of watchService(client, { service: SERVICE }, signal)) updates.push(update);
    } catch (error) {
      failure = error;
    }
  })();
  return { updates, current: () => updates.at(-1)?.instances ?? [], error: () => failure };
}

function ids(instances: readonly Instance[]): string[] {
  return instances.map((instance) => instance.instanceId).sort();
}

function removedIds(updates: readonly WatchUpdate[]): string[] {
  return updates.filter((u) => u.event?.kind === "removed").map((u) => u.event!.instance.instanceId);
}

/** The member that is the Raft leader, asked through etcd's JSON gateway. */
async function findLeader(cluster: EtcdCluster): Promise<EtcdServer> {
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const member of cluster.members) {
      const response = await fetch(`${member.endpoints[0]}/v3/maintenance/status`, { method: "POST", body: "{}" });
      const status = (await response.json()) as { header?: { member_id?: string }; leader?: string };
      if (status.leader !== undefined && status.leader === status.header?.member_id) return member;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("no etcd leader found");
}
