/**
 * RegistryService over gRPC, on both store backends: the RPCs end to end,
 * validation (INVALID_ARGUMENT naming the field, nothing written), leases,
 * ownership, watch resume and bookmarks, and a slow consumer cut with
 * RESOURCE_EXHAUSTED while a fast one keeps up.
 */
import { ClientError, Status, createChannel, createClient } from "nice-grpc";
import type { Channel } from "nice-grpc";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { HealthStatus } from "../generated/switchboard/health/v1/check.js";
import {
  type Instance,
  InstanceState,
  RegistryServiceDefinition,
  type RegistryServiceClient,
} from "../generated/switchboard/registry/v1/registry.js";
import type { DeepPartial } from "../generated/switchboard/registry/v1/registry.js";
import { createEmbeddedStore, createEtcdStore } from "../src/store/index.js";
import type { Store } from "../src/store/index.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { startRegistryServer } from "./support/registry-server.js";
import type { RegistryServer } from "./support/registry-server.js";
import { recordWatch } from "./support/registry-watch.js";

const logger = pino({ level: "silent" });
const etcdBinary = requireEtcd();
let etcd: EtcdServer | undefined;
let prefixCounter = 0;

beforeAll(async () => {
  if (etcdBinary) etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

const backends = [
  { name: "embedded", skip: false, open: (): Promise<Store> => createEmbeddedStore({ logger, leaseSweepIntervalMs: 100 }) },
  { name: "etcd", skip: !etcdBinary, open: async (): Promise<Store> => createEtcdStore({ endpoints: etcd!.endpoints, logger }) },
];

function instance(partial: DeepPartial<Instance> = {}): DeepPartial<Instance> {
  return { service: "orders", address: "127.0.0.1", port: 8080, ...partial };
}

async function statusOf(call: Promise<unknown>): Promise<{ code: Status; details: string }> {
  try {
    await call;
    return { code: Status.OK, details: "" };
  } catch (error) {
    if (error instanceof ClientError) return { code: error.code, details: error.details };
    throw error;
  }
}

describe.each(backends)("registry over gRPC on the $name store", ({ skip, open }) => {
  let store: Store;
  let server: RegistryServer;
  let channel: Channel;
  let client: RegistryServiceClient;
  let prefix: string;

  async function start(registry: Parameters<typeof startRegistryServer>[0]["registry"] = {}) {
    server = await startRegistryServer({ store, prefix, registry: { bookmarkIntervalMs: 200, ...registry } });
    channel = createChannel(server.address);
    client = createClient(RegistryServiceDefinition, channel);
  }

  beforeEach(async (context) => {
    if (skip) return context.skip();
    store = await open();
    prefix = `/reg-grpc-${process.pid}-${++prefixCounter}/`;
  });

  afterEach(async () => {
    if (skip) return;
    channel?.close();
    await server?.close();
    await store.close();
  });

  it("registers, resolves, lists services and deregisters, with revisions", async () => {
    await start();
    const a = await client.register({
      instance: instance({ instanceId: "a", tags: ["grpc"], metadata: { v: "1" } }),
      ttlSeconds: 5,
    });
    expect(a.ttlSeconds).toBe(5);
    expect(a.leaseId).toMatch(/^[1-9][0-9]*$/);
    expect(a.instance).toMatchObject({
      namespace: "default",
      instanceId: "a",
      weight: 100,
      state: InstanceState.INSTANCE_STATE_UP,
      revision: a.revision,
    });
    const b = await client.register({ instance: instance({ namespace: "prod", instanceId: "b" }), ttlSeconds: 5 });
    const got = await client.getInstance({ service: "orders", instanceId: "a", minRevision: a.revision });
    expect(got.instance?.registeredAt).toEqual(a.instance?.registeredAt);
    const listed = await client.listInstances({
      service: "orders",
      minRevision: b.revision,
      tags: ["grpc"],
      metadataSelector: { v: "1" },
    });
    expect(listed.instances.map((i) => i.instanceId)).toEqual(["a"]);
    expect(Number(listed.revision)).toBeGreaterThanOrEqual(Number(b.revision));
    const services = await client.listServices({ minRevision: b.revision });
    expect(services.services).toEqual([
      {
        namespace: "default",
        service: "orders",
        instanceCount: 1,
        routableCount: 1,
        unhealthyCount: 0,
        drainingCount: 0,
        protectionActive: false,
      },
      {
        namespace: "prod",
        service: "orders",
        instanceCount: 1,
        routableCount: 1,
        unhealthyCount: 0,
        drainingCount: 0,
        protectionActive: false,
      },
    ]);
    const { revision } = await client.deregister({ service: "orders", instanceId: "a" });
    expect((await client.listInstances({ service: "orders", minRevision: revision })).instances).toEqual([]);
    expect((await statusOf(client.getInstance({ service: "orders", instanceId: "a", minRevision: revision }))).code).toBe(
      Status.NOT_FOUND,
    );
    expect((await statusOf(client.deregister({ service: "orders", instanceId: "a" }))).code).toBe(Status.NOT_FOUND);
    expect((await statusOf(client.heartbeat({ leaseId: a.leaseId }))).code).toBe(Status.NOT_FOUND);
  });

  it("rejects bad input with INVALID_ARGUMENT naming the field, and writes nothing", async () => {
    await start();
    const bigMetadata = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
    const cases: Array<[Promise<unknown>, string]> = [
      [client.register({ ttlSeconds: 5 }), "instance"],
      [client.register({ instance: instance({ metadata: bigMetadata }) }), "instance.metadata"],
      [client.register({ instance: instance({ metadata: { k: "x".repeat(513) } }) }), "instance.metadata"],
      [client.register({ instance: instance({ metadata: { "bad key": "x" } }) }), "instance.metadata"],
      [client.register({ instance: instance({ service: "Orders_V2" }) }), "instance.service"],
      [client.register({ instance: instance({ service: "" }) }), "instance.service"],
      [client.register({ instance: instance({ namespace: "a/b" }) }), "instance.namespace"],
      [client.register({ instance: instance({ instanceId: "-a" }) }), "instance.instance_id"],
      [client.register({ instance: instance({ address: "" }) }), "instance.address"],
      // Neither an IP literal nor a DNS name (found by the fuzz run; see src/registry/address.ts).
      [client.register({ instance: instance({ address: "\ufffd27.0.0.1" }) }), "instance.address"],
      [client.register({ instance: instance({ address: "a%zz" }) }), "instance.address"],
      [client.register({ instance: instance({ address: "xn--" }) }), "instance.address"],
      [client.register({ instance: instance({ address: "ex@mple" }) }), "instance.address"],
      [client.register({ instance: instance({ port: 0 }) }), "instance.port"],
      [client.register({ instance: instance({ port: 70000 }) }), "instance.port"],
      [client.register({ instance: instance({ tags: Array.from({ length: 65 }, (_, i) => `t${i}`) }) }), "instance.tags"],
      [client.register({ instance: instance({ weight: 10_001 }) }), "instance.weight"],
      [client.register({ instance: instance({ healthChecks: [{ intervalMs: 1000 }] }) }), "instance.health_checks[0]"],
      [
        client.register({ instance: instance({ healthChecks: [{ tcp: {}, intervalMs: 10 } as never] }) }),
        "instance.health_checks[0]",
      ],
      [client.register({ instance: instance(), ttlSeconds: 1 }), "ttl_seconds"],
      [client.register({ instance: instance(), ttlSeconds: 301 }), "ttl_seconds"],
      [client.heartbeat({ leaseId: "0" }), "lease_id"],
      [client.updateInstance({ service: "orders", instanceId: "a", weight: 0 }), "weight"],
      [client.updateInstance({ service: "orders", instanceId: "a", state: InstanceState.INSTANCE_STATE_UNSPECIFIED }), "state"],
      [client.updateInstance({ service: "orders", instanceId: "", weight: 1 }), "instance_id"],
      [client.listInstances({ service: "" }), "service"],
      [client.listInstances({ service: "orders", metadataSelector: { "a b": "c" } }), "metadata_selector"],
      [client.listServices({ namespace: "Bad" }), "namespace"],
      [client.getInstance({ service: "orders", instanceId: "a/b" }), "instance_id"],
      [client.deregister({ namespace: "x_y", service: "orders", instanceId: "a" }), "namespace"],
    ];
    for (const [call, field] of cases) {
      const { code, details } = await statusOf(call);
      expect({ field, code }).toEqual({ field, code: Status.INVALID_ARGUMENT });
      expect(details.startsWith(`${field}: `), `${field} in "${details}"`).toBe(true);
    }
    const watch = recordWatch(client, { service: "Bad" });
    await watch.done;
    expect((watch.error as ClientError).code).toBe(Status.INVALID_ARGUMENT);
    expect((watch.error as ClientError).details).toMatch(/^service: /);
    expect((await store.list(prefix)).kvs).toEqual([]);
  });

  it("keeps leases alive through Heartbeat and a KeepAlive stream, NOT_FOUND / 0 once gone", async () => {
    await start();
    const a = await client.register({ instance: instance({ instanceId: "a" }), ttlSeconds: 3 });
    const b = await client.register({ instance: instance({ instanceId: "b" }), ttlSeconds: 4 });
    expect((await client.heartbeat({ leaseId: a.leaseId })).ttlSeconds).toBe(3);
    await store.revokeLease(b.leaseId);
    expect((await statusOf(client.heartbeat({ leaseId: b.leaseId }))).code).toBe(Status.NOT_FOUND);
    async function* requests() {
      for (let i = 0; i < 3; i++) yield { leaseId: a.leaseId };
      yield { leaseId: b.leaseId };
    }
    const answers = [];
    for await (const answer of client.keepAlive(requests())) answers.push(answer);
    expect(answers).toHaveLength(4);
    expect(answers.filter((x) => x.leaseId === a.leaseId).map((x) => x.ttlSeconds)).toEqual([3, 3, 3]);
    expect(answers.find((x) => x.leaseId === b.leaseId)?.ttlSeconds).toBe(0);
  });

  it("is idempotent for the owner and refuses another owner's live instance", async () => {
    await start();
    const first = await client.register({ instance: instance({ instanceId: "a", owner: "agent-1" }), ttlSeconds: 5 });
    const again = await client.register({ instance: instance({ instanceId: "a", owner: "agent-1", port: 9000 }), ttlSeconds: 5 });
    expect(again.instance?.registeredAt).toEqual(first.instance?.registeredAt);
    expect((await statusOf(client.heartbeat({ leaseId: first.leaseId }))).code).toBe(Status.NOT_FOUND);
    const other = await statusOf(client.register({ instance: instance({ instanceId: "a", owner: "agent-2" }), ttlSeconds: 5 }));
    expect(other.code).toBe(Status.ALREADY_EXISTS);
    const listed = await client.listInstances({ service: "orders", minRevision: again.revision });
    expect(listed.instances.map((i) => [i.instanceId, i.port, i.owner, i.leaseId])).toEqual([
      ["a", 9000, "agent-1", again.leaseId],
    ]);
  });

  it("updates state and weight; draining and unhealthy instances leave default resolves and watches", async () => {
    await start();
    const watch = recordWatch(client, { service: "orders" });
    const all = recordWatch(client, { service: "orders", includeUnroutable: true });
    await watch.until(() => watch.messages.length === 1 && all.messages.length === 1);
    const a = await client.register({ instance: instance({ instanceId: "a" }), ttlSeconds: 5 });
    await client.register({ instance: instance({ instanceId: "b" }), ttlSeconds: 5 });
    await client.register({ instance: instance({ instanceId: "c" }), ttlSeconds: 5 });
    const drained = await client.updateInstance({
      service: "orders",
      instanceId: "a",
      state: InstanceState.INSTANCE_STATE_DRAINING,
      weight: 7,
    });
    expect(drained.instance).toMatchObject({ state: InstanceState.INSTANCE_STATE_DRAINING, weight: 7, leaseId: a.leaseId });
    // How earlier builds wrote a transition (inside the instance record, compare-and-set on the
    // instance key): still read when health has no record of its own (registry/health-join.ts).
    const key = `${prefix}instances/default/orders/b`;
    const kv = (await store.get(key))!;
    const { Instance: InstanceCodec } = await import("../generated/switchboard/registry/v1/registry.js");
    const unhealthy = InstanceCodec.encode({
      ...InstanceCodec.decode(kv.value),
      healthStatus: HealthStatus.HEALTH_STATUS_UNHEALTHY,
    }).finish();
    const written = await store.txn({
      compare: [{ key, modRevision: kv.modRevision }],
      ops: [{ type: "put", key, value: unhealthy, lease: kv.lease }],
    });
    expect(written.succeeded).toBe(true);
    const listed = await client.listInstances({ service: "orders", minRevision: String(written.revision) });
    expect(listed.instances.map((i) => i.instanceId)).toEqual(["c"]);
    const everything = await client.listInstances({ service: "orders", includeUnroutable: true });
    expect(everything.instances.map((i) => i.instanceId)).toEqual(["a", "b", "c"]);
    await watch.caughtUp(written.revision);
    await all.caughtUp(written.revision);
    expect([...watch.state.keys()]).toEqual(["default/orders/c"]);
    expect(
      watch
        .eventLog()
        .filter((e) => e.startsWith("REMOVED"))
        .map((e) => e.split("@")[0]),
    ).toEqual(["REMOVED a", "REMOVED b"]);
    expect(all.state.size).toBe(3);
    expect(all.state.get("default/orders/b")?.healthStatus).toBe(HealthStatus.HEALTH_STATUS_UNHEALTHY);
    expect([...watch.violations, ...all.violations]).toEqual([]);
    watch.close();
    all.close();
  });

  it("resumes a watch from a revision with the missed events, and sends bookmarks while idle", async () => {
    await start();
    const r1 = await client.register({ instance: instance({ instanceId: "a" }), ttlSeconds: 5 });
    const r2 = await client.register({ instance: instance({ instanceId: "b" }), ttlSeconds: 5 });
    const r3 = await client.deregister({ service: "orders", instanceId: "a" });
    const resumed = recordWatch(
      client,
      { service: "orders", sinceRevision: r1.revision },
      { initial: new Map([["default/orders/a", r1.instance!]]) },
    );
    await resumed.caughtUp(Number(r3.revision));
    expect(resumed.eventLog()).toEqual([`ADDED b@${r2.revision}`, `REMOVED a@${r3.revision}`]);
    // Idle: bookmarks keep coming with the current revision.
    const count = () => resumed.messages.filter((m) => m.kind?.$case === "bookmark").length;
    const before = count();
    await resumed.until(() => count() >= before + 2, 3_000, "two more bookmarks");
    expect(resumed.violations).toEqual([]);
    expect([...resumed.state.keys()]).toEqual(["default/orders/b"]);
    resumed.close();
  });

  it("ends a slow consumer with RESOURCE_EXHAUSTED while a fast one gets everything", async () => {
    await start({ watchQueueLimit: 20 });
    const fast = recordWatch(client, { service: "orders", includeUnroutable: true });
    await fast.until(() => fast.messages.length === 1);
    // A consumer that reads the snapshot and then stops reading.
    const slowController = new AbortController();
    const slowStream = client.watch({ service: "orders", includeUnroutable: true }, { signal: slowController.signal });
    const slow = slowStream[Symbol.asyncIterator]();
    expect((await slow.next()).value?.kind?.$case).toBe("snapshot");
    // Large events fill the transport buffers quickly, then the slow stream's queue.
    const metadata = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`key-${i}`, "x".repeat(500)]));
    for (let i = 0; i < 150; i++) {
      const batch = await Promise.all(
        Array.from({ length: 4 }, (_, j) =>
          client.register({ instance: instance({ instanceId: `i${i}-${j}`, metadata }), ttlSeconds: 30 }),
        ),
      );
      const last = batch.map((r) => r.revision).reduce((x, y) => (Number(x) > Number(y) ? x : y));
      // Pace the writer by the fast consumer, so it is never more than one batch behind however busy the
      // machine is; the slow one, which reads nothing, still falls 600 events behind.
      await fast.caughtUp(Number(last), 20_000);
    }
    // Concurrent registrations may share a revision (group commit): reaching it is not having all its events yet.
    await fast.until(() => fast.state.size === 600, 20_000, "all 600 instances");
    expect(fast.state.size).toBe(600);
    expect(fast.violations).toEqual([]);
    expect(fast.ended).toBe(false);
    // The slow consumer drains what the transport still holds, then gets the error.
    let received = 0;
    const outcome = await (async () => {
      try {
        while (!(await slow.next()).done) received++;
        return { code: Status.OK, details: "" };
      } catch (error) {
        return { code: (error as ClientError).code, details: (error as ClientError).details };
      }
    })();
    expect(outcome.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(outcome.details).toMatch(/resume with since_revision/);
    expect(received).toBeLessThan(600);
    expect(await server.metrics.metrics()).toContain("switchboard_registry_watch_queue_overflows_total 1");
    fast.close();
  });
});
