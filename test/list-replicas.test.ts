/**
 * HealthService.ListReplicas on two replicas of one etcd: both replicas list
 * both (over gRPC and over HTTP/JSON), with the answering replica's store
 * status, and a replica that shuts down leaves the list of the other.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { eventually } from "./support/eventually.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const etcdBinary = requireEtcd();

describe.skipIf(!etcdBinary)("ListReplicas (two replicas, real etcd)", () => {
  let etcd: EtcdServer;
  let a: TestServer;
  let b: TestServer | undefined;
  let client: SwitchboardClient;

  beforeAll(async () => {
    etcd = await startEtcd();
    const started = await Promise.all(
      ["replica-a", "replica-b"].map((replicaId) => startTestServer({ etcdEndpoints: etcd.endpoints, replicaId })),
    );
    [a, b] = [started[0]!, started[1]];
    client = createSwitchboardClient({ address: a.grpcAddress, defaultTimeoutMs: 10_000 });
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await b?.close();
    await a?.close();
    await etcd?.stop();
  });

  it("lists both replicas over gRPC, with this replica's store status", async () => {
    // Membership is written once the health monitor has started (after the cache loads): wait for it.
    await eventually(async () => (await client.health.listReplicas({})).replicas.length === 2, 15_000, "two replicas");
    const answer = await client.health.listReplicas({});
    expect(answer.replicas.map((r) => r.replicaId)).toEqual(["replica-a", "replica-b"]);
    for (const replica of answer.replicas) {
      expect(replica.startedAt).toBeInstanceOf(Date);
      expect(Math.abs(Date.now() - replica.startedAt!.getTime())).toBeLessThan(120_000);
    }
    expect(answer.answeredBy).toBe("replica-a");
    expect(answer.store).toMatchObject({ backend: "etcd", reachable: true, error: "", cacheReady: true, serving: true });
    expect(answer.store?.checkedAt).toBeInstanceOf(Date);
    expect(Number(answer.revision)).toBeGreaterThan(0);
  });

  it("answers the same over HTTP/JSON on the other replica", async () => {
    const response = await fetch(`http://${b!.httpAddress}/switchboard.health.v1.HealthService/ListReplicas`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(200);
    const json = (await response.json()) as {
      replicas: Array<{ replicaId: string; startedAt: string }>;
      answeredBy: string;
      store: Record<string, unknown>;
    };
    expect(json.replicas.map((r) => r.replicaId)).toEqual(["replica-a", "replica-b"]);
    expect(json.answeredBy).toBe("replica-b");
    // proto3 JSON leaves out defaults (error ""), and gives timestamps as RFC 3339 text.
    expect(json.store).toMatchObject({ backend: "etcd", reachable: true, cacheReady: true, serving: true });
    expect(json.store.error).toBeUndefined();
    expect(Number.isNaN(Date.parse(json.replicas[0]!.startedAt))).toBe(false);
  });

  it("drops a replica that shuts down (it revokes its lease)", async () => {
    await b!.close();
    b = undefined;
    await eventually(
      async () => (await client.health.listReplicas({})).replicas.map((r) => r.replicaId).join() === "replica-a",
      10_000,
      "replica-b gone from the list",
    );
  });
});
