import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthStatus } from "../generated/switchboard/health/v1/check.js";
import { createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { spawnServer, startTestServer } from "./support/server.js";
import type { SpawnedServer, TestServer } from "./support/server.js";
import { collectHealthWatch, eventually, routableIds, startHttpEndpoint } from "./health-fixtures.js";

const INTERVAL_MS = 1_000;
/** Lease TTL of replicas/{id} (HealthMonitorOptions.replicaTtlSeconds default). */
const REPLICA_TTL_MS = 5_000;
const INSTANCES = 12;

const etcdBinary = requireEtcd();

async function metric(httpAddress: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${httpAddress}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(" ")[1]);
}

describe.skipIf(!etcdBinary)("health checks shared by replicas (real etcd)", () => {
  let etcd: EtcdServer;
  let a: TestServer;
  let client: SwitchboardClient;
  let endpoint: Awaited<ReturnType<typeof startHttpEndpoint>>;
  const ids = Array.from({ length: INSTANCES }, (_, i) => `i${i}`);

  beforeAll(async () => {
    etcd = await startEtcd();
    a = await startTestServer({ etcdEndpoints: etcd.endpoints, replicaId: "replica-a" });
    client = createSwitchboardClient({ address: a.grpcAddress });
    endpoint = await startHttpEndpoint();
    for (const id of ids) {
      await client.registry.register({
        instance: {
          service: "shared",
          instanceId: id,
          address: "127.0.0.1",
          port: endpoint.port,
          healthChecks: [{ target: { $case: "http", value: { path: `/h/${id}` } }, intervalMs: INTERVAL_MS }],
        },
        ttlSeconds: 120,
      });
    }
  });
  afterAll(async () => {
    client?.close();
    await a?.close();
    await endpoint?.close();
    await etcd?.stop();
  });

  async function owners(): Promise<Map<string, string>> {
    const { instances } = await client.health.getHealth({ service: "shared" });
    return new Map(instances.map((i) => [i.instanceId, i.checkedBy]));
  }

  /** Probes each instance received over windowMs: one replica at 1/s gives about windowMs/1000, two give twice that. */
  async function probesPerInstance(windowMs: number): Promise<number[]> {
    const before = new Map(ids.map((id) => [id, endpoint.hits.get(`/h/${id}`) ?? 0]));
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    return ids.map((id) => (endpoint.hits.get(`/h/${id}`) ?? 0) - before.get(id)!);
  }

  it("two in-process replicas: every instance is checked by exactly one; a closed replica's instances move to the other", async () => {
    const b = await startTestServer({ etcdEndpoints: etcd.endpoints, replicaId: "replica-b" });
    let bClosed = false;
    try {
      await eventually(async () => new Set((await owners()).values()).size === 2, REPLICA_TTL_MS, "both replicas own instances");
      const split = await owners();
      expect([...split.values()].every((o) => o === "replica-a" || o === "replica-b")).toBe(true);
      // Both replicas come to agree on who checks what (each learns of the other through its own watch).
      const clientB = createSwitchboardClient({ address: b.grpcAddress });
      try {
        const ownersFromB = async () => {
          const fromB = await clientB.health.getHealth({ service: "shared" });
          return new Map(fromB.instances.map((i) => [i.instanceId, i.checkedBy]));
        };
        await eventually(
          async () => JSON.stringify([...(await ownersFromB())]) === JSON.stringify([...(await owners())]),
          REPLICA_TTL_MS,
          "replicas agree on owners",
        );
        expect(await ownersFromB()).toEqual(await owners());
      } finally {
        clientB.close();
      }
      const ownedA = await metric(a.httpAddress, "switchboard_health_owned_instances");
      const ownedB = await metric(b.httpAddress, "switchboard_health_owned_instances");
      expect(ownedA + ownedB).toBe(INSTANCES);
      expect(ownedA).toBeGreaterThan(0);
      expect(ownedB).toBeGreaterThan(0);

      // Nothing is checked twice: at 1 probe/s an instance gets about 4 in 4 s, never about 8.
      const counts = await probesPerInstance(4_000);
      for (const n of counts) {
        expect(n).toBeGreaterThanOrEqual(3);
        expect(n).toBeLessThanOrEqual(6);
      }

      // Graceful close revokes replica-b's lease: replica-a takes everything at once.
      await b.close();
      bClosed = true;
      const moved = await eventually(
        async () => [...(await owners()).values()].every((o) => o === "replica-a"),
        2_000,
        "replica-a owns all",
      );
      expect(await metric(a.httpAddress, "switchboard_health_owned_instances")).toBe(INSTANCES);
      console.info(`graceful leave: instances moved in ${moved} ms`);
    } finally {
      if (!bClosed) await b.close();
    }
  });

  it("a replica killed with SIGKILL: its instances are picked up within the replica TTL and keep being checked", async () => {
    // Every instance is HEALTHY by now; watch for any transition from here on.
    await eventually(
      async () =>
        (await client.health.getHealth({ service: "shared" })).instances.every(
          (i) => i.status === HealthStatus.HEALTH_STATUS_HEALTHY,
        ),
      5_000,
      "all healthy",
    );
    const health = collectHealthWatch(client, "shared");
    const b: SpawnedServer = await spawnServer({ etcdEndpoints: etcd.endpoints, args: ["--replica-id=replica-k"] });
    try {
      await eventually(
        async () => [...(await owners()).values()].includes("replica-k"),
        REPLICA_TTL_MS,
        "replica-k owns instances",
      );
      const split = await owners();
      const fromK = ids.filter((id) => split.get(id) === "replica-k");
      expect(fromK.length).toBeGreaterThan(0);
      expect(fromK.length).toBeLessThan(INSTANCES);
      // Ownership settled: still one checker per instance.
      for (const n of await probesPerInstance(3_000)) expect(n).toBeLessThanOrEqual(5);

      b.kill("SIGKILL");
      await b.exited;
      const killedAt = Date.now();
      // Its lease expires within TTL (+ etcd's ~0.5 s lessor tick); replica-a's cache sees it at once.
      const takeover = await eventually(
        async () => (await metric(a.httpAddress, "switchboard_health_owned_instances")) === INSTANCES,
        REPLICA_TTL_MS + 2_000,
        "replica-a picks up replica-k's instances",
      );
      expect([...(await owners()).values()].every((o) => o === "replica-a")).toBe(true);

      console.info(`SIGKILL: replica-a owned every instance ${takeover} ms after the kill (${Date.now() - killedAt} ms)`);

      // The moved instances are really checked again: one of them failing leaves routing
      // (1 of 12: far below the protection threshold).
      const victim = fromK[0]!;
      endpoint.failPath(`/h/${victim}`, true);
      const left = await eventually(
        async () => !(await routableIds(client, "shared")).includes(victim),
        3 * INTERVAL_MS + 1_500,
        "moved instance leaves",
      );
      console.info(`moved instance ${victim} left routing ${left} ms after its endpoint failed`);
      endpoint.failPath(`/h/${victim}`, false);
      await eventually(
        async () => (await routableIds(client, "shared")).includes(victim),
        2 * INTERVAL_MS + 1_500,
        "moved instance returns",
      );

      // Ownership moves wrote nothing: the only transitions are the victim's.
      const transitions = health.messages
        .filter((m) => m.kind?.$case === "transition")
        .map((m) => m.kind!.value as { instanceId: string; current: HealthStatus });
      expect(transitions).toEqual([
        expect.objectContaining({ instanceId: victim, current: HealthStatus.HEALTH_STATUS_UNHEALTHY }),
        expect.objectContaining({ instanceId: victim, current: HealthStatus.HEALTH_STATUS_HEALTHY }),
      ]);
    } finally {
      await health.stop();
      await b.stop();
    }
  });
});
