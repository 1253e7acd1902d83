import { pino } from "pino";
import { Registry as MetricsRegistry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { EventType, type Instance, InstanceState } from "../../generated/switchboard/registry/v1/registry.js";
import { createKeySpaceCache, type KeySpaceCache } from "../cache/index.js";
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, UnavailableError } from "../errors.js";
import { createEmbeddedStore, type Store } from "../store/index.js";
import { encodeInstance } from "./codec.js";
import { instanceKey } from "./keys.js";
import { createRegistry, type Registry } from "./registry.js";
import { isDnsLabel } from "./validation.js";

const PREFIX = "/switchboard/";
const logger = pino({ level: "silent" });

function draft(partial: Partial<Instance> = {}): Instance {
  return {
    namespace: "",
    service: "orders",
    instanceId: "",
    address: "127.0.0.1",
    port: 8080,
    metadata: {},
    tags: [],
    zone: "",
    weight: 0,
    state: InstanceState.INSTANCE_STATE_UNSPECIFIED,
    healthStatus: HealthStatus.HEALTH_STATUS_UNSPECIFIED,
    healthChecks: [],
    registeredAt: undefined,
    revision: "0",
    leaseId: "0",
    ttlSeconds: 0,
    owner: "",
    heldUntil: undefined,
    ...partial,
  };
}

const list = (registry: Registry, extra: Partial<Parameters<Registry["listInstances"]>[0]> = {}) =>
  registry.listInstances({
    namespace: "",
    service: "orders",
    includeUnroutable: false,
    tags: [],
    zone: "",
    metadataSelector: {},
    minRevision: 0,
    ...extra,
  });

let store: Store;
let cache: KeySpaceCache;
let registry: Registry;
let metrics: MetricsRegistry;

beforeEach(async () => {
  store = await createEmbeddedStore({ logger, leaseSweepIntervalMs: 50 });
  cache = createKeySpaceCache({ store, prefix: PREFIX, logger });
  metrics = new MetricsRegistry();
  registry = createRegistry({ store, cache, prefix: PREFIX, logger, metrics, minRevisionTimeoutMs: 300 });
  await registry.view.ready;
});

afterEach(async () => {
  registry.close();
  await cache.close();
  await store.close();
});

describe("register", () => {
  it("stores the instance on a new lease with defaults and returns it with lease and revision", async () => {
    const result = await registry.register({ instance: draft({ instanceId: "a", owner: "agent-1" }), ttlSeconds: 0 });
    expect(result.ttlSeconds).toBe(10);
    expect(result.instance).toMatchObject({
      namespace: "default",
      service: "orders",
      instanceId: "a",
      weight: 100,
      state: InstanceState.INSTANCE_STATE_UP,
      leaseId: result.leaseId,
      ttlSeconds: 10,
      revision: String(result.revision),
    });
    expect(result.instance.registeredAt).toBeInstanceOf(Date);
    const kv = await store.get(instanceKey(PREFIX, "default", "orders", "a"));
    expect(kv?.lease).toBe(result.leaseId);
    expect(kv?.modRevision).toBe(result.revision);
    const got = await registry.getInstance({ namespace: "", service: "orders", instanceId: "a", minRevision: result.revision });
    expect(got.instance).toEqual(result.instance);
    expect(got.revision).toBeGreaterThanOrEqual(result.revision);
  });

  it("generates a DNS-1123 instance id when none is given", async () => {
    const { instance } = await registry.register({ instance: draft(), ttlSeconds: 5 });
    expect(isDnsLabel(instance.instanceId)).toBe(true);
  });

  it("replaces the instance for the same owner on a new lease, keeping registered_at and revoking the old lease", async () => {
    const first = await registry.register({ instance: draft({ instanceId: "a", owner: "o1" }), ttlSeconds: 5 });
    const second = await registry.register({ instance: draft({ instanceId: "a", owner: "o1", port: 9090 }), ttlSeconds: 5 });
    expect(second.leaseId).not.toBe(first.leaseId);
    expect(second.instance.registeredAt).toEqual(first.instance.registeredAt);
    expect(second.instance.port).toBe(9090);
    expect(await store.keepAlive(first.leaseId)).toBe(0);
    expect((await store.get(instanceKey(PREFIX, "default", "orders", "a")))?.lease).toBe(second.leaseId);
  });

  it("refuses a live instance id of another owner, and takes it once that lease is gone", async () => {
    const first = await registry.register({ instance: draft({ instanceId: "a", owner: "o1" }), ttlSeconds: 5 });
    await expect(registry.register({ instance: draft({ instanceId: "a", owner: "o2" }), ttlSeconds: 5 })).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
    await store.revokeLease(first.leaseId);
    const second = await registry.register({ instance: draft({ instanceId: "a", owner: "o2" }), ttlSeconds: 5 });
    expect(second.instance.owner).toBe("o2");
  });

  it("rejects bad input naming the field, writing nothing and leaving no lease", async () => {
    const cases: Array<[Partial<Instance> | undefined, string, number?]> = [
      [undefined, "instance"],
      [{ service: "" }, "instance.service"],
      [{ service: "Orders" }, "instance.service"],
      [{ namespace: "a/b" }, "instance.namespace"],
      [{ instanceId: "x_y" }, "instance.instance_id"],
      [{ address: "" }, "instance.address"],
      [{ port: 0 }, "instance.port"],
      [{ metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"])) }, "instance.metadata"],
      [{ metadata: { k: "v".repeat(513) } }, "instance.metadata"],
      [{ tags: ["a b"] }, "instance.tags"],
      [{ weight: 10_001 }, "instance.weight"],
      [{}, "ttl_seconds", 1],
      [
        {
          healthChecks: [
            { name: "", target: undefined, intervalMs: 0, timeoutMs: 0, unhealthyThreshold: 0, healthyThreshold: 0 },
          ],
        },
        "instance.health_checks[0]",
      ],
    ];
    for (const [partial, field, ttl] of cases) {
      const error = await registry
        .register({ instance: partial === undefined ? undefined : draft(partial), ttlSeconds: ttl ?? 5 })
        .catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe(field);
    }
    expect((await store.list(PREFIX)).kvs).toEqual([]);
  });
});

describe("leases", () => {
  it("heartbeats a live lease and answers NOT_FOUND for a gone one", async () => {
    const { leaseId } = await registry.register({ instance: draft({ instanceId: "a" }), ttlSeconds: 5 });
    expect(await registry.heartbeat(leaseId)).toBe(5);
    await store.revokeLease(leaseId);
    await expect(registry.heartbeat(leaseId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(registry.heartbeat("0")).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("renews many leases over one stream, answering each, 0 for gone ones", async () => {
    const a = await registry.register({ instance: draft({ instanceId: "a" }), ttlSeconds: 5 });
    const b = await registry.register({ instance: draft({ instanceId: "b" }), ttlSeconds: 7 });
    await store.revokeLease(b.leaseId);
    async function* requests() {
      yield a.leaseId;
      yield b.leaseId;
      yield "not-a-number";
      yield a.leaseId;
    }
    const answers: Array<{ leaseId: string; ttlSeconds: number }> = [];
    for await (const answer of registry.keepAlive(requests(), new AbortController().signal)) answers.push(answer);
    expect(answers).toHaveLength(4);
    expect(answers.filter((x) => x.leaseId === a.leaseId).map((x) => x.ttlSeconds)).toEqual([5, 5]);
    expect(answers.find((x) => x.leaseId === b.leaseId)?.ttlSeconds).toBe(0);
    expect(answers.find((x) => x.leaseId === "not-a-number")?.ttlSeconds).toBe(0);
  });

  it("ends a KeepAlive stream when the registry closes", async () => {
    const { leaseId } = await registry.register({ instance: draft({ instanceId: "a" }), ttlSeconds: 5 });
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    async function* requests() {
      yield leaseId;
      await hold;
    }
    const stream = registry.keepAlive(requests(), new AbortController().signal);
    expect((await stream.next()).value).toEqual({ leaseId, ttlSeconds: 5 });
    const next = stream.next();
    registry.close();
    await expect(next).rejects.toBeInstanceOf(UnavailableError);
    release();
  });

  it("removes the instance when its lease expires", async () => {
    const { revision } = await registry.register({ instance: draft({ instanceId: "a" }), ttlSeconds: 2 });
    expect((await list(registry, { minRevision: revision })).instances).toHaveLength(1);
    const deadline = Date.now() + 4_000;
    while ((await list(registry)).instances.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await list(registry)).instances).toEqual([]);
  });
});

describe("deregister and update", () => {
  it("deregisters at once and revokes the lease; NOT_FOUND when absent", async () => {
    const { leaseId } = await registry.register({ instance: draft({ instanceId: "a" }), ttlSeconds: 5 });
    const revision = await registry.deregister({ namespace: "", service: "orders", instanceId: "a" });
    expect((await list(registry, { minRevision: revision })).instances).toEqual([]);
    expect(await store.keepAlive(leaseId)).toBe(0);
    await expect(registry.deregister({ namespace: "", service: "orders", instanceId: "a" })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("updates state, weight, metadata and tags on the same lease", async () => {
    const { leaseId } = await registry.register({
      instance: draft({ instanceId: "a", metadata: { a: "1" }, tags: ["x"] }),
      ttlSeconds: 5,
    });
    const updated = await registry.updateInstance({
      namespace: "",
      service: "orders",
      instanceId: "a",
      state: InstanceState.INSTANCE_STATE_DRAINING,
      weight: 5,
      metadata: { b: "2" },
      tags: [],
    });
    expect(updated.instance).toMatchObject({
      state: InstanceState.INSTANCE_STATE_DRAINING,
      weight: 5,
      metadata: { b: "2" },
      tags: [],
      leaseId,
    });
    expect((await store.get(instanceKey(PREFIX, "default", "orders", "a")))?.lease).toBe(leaseId);
    // Draining leaves default resolves, stays visible to include_unroutable.
    expect((await list(registry, { minRevision: updated.revision })).instances).toEqual([]);
    expect((await list(registry, { includeUnroutable: true })).instances.map((i) => i.instanceId)).toEqual(["a"]);
    // Leaving fields unset keeps them.
    const again = await registry.updateInstance({ namespace: "", service: "orders", instanceId: "a", weight: 7 });
    expect(again.instance).toMatchObject({ state: InstanceState.INSTANCE_STATE_DRAINING, weight: 7, metadata: { b: "2" } });
  });

  it("keeps working from a stale cached copy (compare-and-set retry)", async () => {
    await registry.register({ instance: draft({ instanceId: "a" }), ttlSeconds: 5 });
    const key = instanceKey(PREFIX, "default", "orders", "a");
    const kv = (await store.get(key))!;
    // A concurrent writer (the health checker) rewrites the key; the update must not lose its change.
    const { Instance: InstanceCodec } = await import("../../generated/switchboard/registry/v1/registry.js");
    const current = InstanceCodec.decode(kv.value);
    await store.txn({
      ops: [
        {
          type: "put",
          key,
          value: encodeInstance({ ...current, healthStatus: HealthStatus.HEALTH_STATUS_HEALTHY }),
          lease: kv.lease,
        },
      ],
    });
    const updated = await registry.updateInstance({ namespace: "", service: "orders", instanceId: "a", weight: 3 });
    expect(updated.instance).toMatchObject({ weight: 3, healthStatus: HealthStatus.HEALTH_STATUS_HEALTHY });
  });

  it("answers NOT_FOUND for updates of unknown instances and rejects bad fields", async () => {
    await expect(
      registry.updateInstance({ namespace: "", service: "orders", instanceId: "zz", weight: 3 }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await registry.register({ instance: draft({ instanceId: "a" }), ttlSeconds: 5 });
    const error = await registry
      .updateInstance({ namespace: "", service: "orders", instanceId: "a", weight: 0 })
      .catch((e: unknown) => e);
    expect((error as InvalidArgumentError).field).toBe("weight");
    const metadataError = await registry
      .updateInstance({ namespace: "", service: "orders", instanceId: "a", metadata: { "bad key": "x" } })
      .catch((e: unknown) => e);
    expect((metadataError as InvalidArgumentError).field).toBe("metadata.entries");
  });
});

describe("reads", () => {
  it("filters by tags, zone and metadata, sorted by id", async () => {
    await registry.register({
      instance: draft({ instanceId: "b", tags: ["grpc", "canary"], zone: "z1", metadata: { v: "2" } }),
      ttlSeconds: 5,
    });
    await registry.register({
      instance: draft({ instanceId: "a", tags: ["grpc"], zone: "z1", metadata: { v: "1" } }),
      ttlSeconds: 5,
    });
    const { revision } = await registry.register({
      instance: draft({ instanceId: "c", tags: ["grpc"], zone: "z2" }),
      ttlSeconds: 5,
    });
    const ids = async (extra: Parameters<typeof list>[1]) =>
      (await list(registry, { minRevision: revision, ...extra })).instances.map((i) => i.instanceId);
    expect(await ids({})).toEqual(["a", "b", "c"]);
    expect(await ids({ tags: ["grpc", "canary"] })).toEqual(["b"]);
    expect(await ids({ zone: "z1" })).toEqual(["a", "b"]);
    expect(await ids({ metadataSelector: { v: "1" } })).toEqual(["a"]);
  });

  it("lists services with instance and routable counts", async () => {
    await registry.register({ instance: draft({ instanceId: "a" }), ttlSeconds: 5 });
    await registry.register({
      instance: draft({ instanceId: "b", state: InstanceState.INSTANCE_STATE_STARTING }),
      ttlSeconds: 5,
    });
    const { revision } = await registry.register({
      instance: draft({ namespace: "prod", service: "payments", instanceId: "a" }),
      ttlSeconds: 5,
    });
    const all = await registry.listServices({ namespace: "", minRevision: revision });
    expect(all.services).toEqual([
      {
        namespace: "default",
        service: "orders",
        instanceCount: 2,
        routableCount: 1,
        unhealthyCount: 0,
        drainingCount: 0,
        protectionActive: false,
      },
      {
        namespace: "prod",
        service: "payments",
        instanceCount: 1,
        routableCount: 1,
        unhealthyCount: 0,
        drainingCount: 0,
        protectionActive: false,
      },
    ]);
    expect((await registry.listServices({ namespace: "prod", minRevision: 0 })).services).toHaveLength(1);
  });

  it("answers UNAVAILABLE when min_revision is not reached in time", async () => {
    const error = await list(registry, { minRevision: 1_000_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
  });

  it("publishes metrics", async () => {
    await registry.register({ instance: draft({ instanceId: "a" }), ttlSeconds: 5 });
    const { revision } = await registry.register({
      instance: draft({ instanceId: "b", state: InstanceState.INSTANCE_STATE_DRAINING }),
      ttlSeconds: 5,
    });
    await list(registry, { minRevision: revision });
    const controller = new AbortController();
    const stream = registry.watch(
      { namespace: "", service: "orders", includeUnroutable: false, tags: [], zone: "", sinceRevision: 0 },
      controller.signal,
    );
    const first = await stream.next();
    expect(first.value?.kind?.$case).toBe("snapshot");
    const text = await metrics.metrics();
    expect(text).toContain('switchboard_registry_instances{namespace="default",service="orders"} 2');
    expect(text).toContain('switchboard_registry_routable_instances{namespace="default",service="orders"} 1');
    expect(text).toContain("switchboard_registry_watch_streams 1");
    expect(text).toContain('switchboard_registry_watch_messages_total{kind="snapshot"} 1');
    controller.abort();
    await stream.return(undefined);
    expect(await metrics.metrics()).toContain("switchboard_registry_watch_streams 0");
  });
});

describe("watch through the registry", () => {
  it("streams registrations, updates and expiry as events", async () => {
    const controller = new AbortController();
    const stream = registry.watch(
      { namespace: "", service: "orders", includeUnroutable: false, tags: [], zone: "", sinceRevision: 0 },
      controller.signal,
    );
    expect((await stream.next()).value?.kind?.$case).toBe("snapshot");
    const a = await registry.register({ instance: draft({ instanceId: "a" }), ttlSeconds: 2 });
    const added = (await stream.next()).value!.kind!;
    expect(added.$case === "event" && [added.value.type, added.value.revision]).toEqual([
      EventType.EVENT_TYPE_ADDED,
      String(a.revision),
    ]);
    const drained = await registry.updateInstance({
      namespace: "",
      service: "orders",
      instanceId: "a",
      state: InstanceState.INSTANCE_STATE_DRAINING,
    });
    const removed = (await stream.next()).value!.kind!;
    expect(removed.$case === "event" && [removed.value.type, removed.value.revision, removed.value.instance?.state]).toEqual([
      EventType.EVENT_TYPE_REMOVED,
      String(drained.revision),
      InstanceState.INSTANCE_STATE_DRAINING,
    ]);
    controller.abort();
    await stream.return(undefined);
  });
});
