import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { InstanceHealth, type WatchHealthResponse } from "../../generated/switchboard/health/v1/health.js";
import { Instance, InstanceState } from "../../generated/switchboard/registry/v1/registry.js";
import { createKeySpaceCache } from "../cache/index.js";
import type { KeySpaceCache } from "../cache/index.js";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { encodeInstance, instanceKey } from "../registry/index.js";
import { createRegistryView } from "../registry/registry-view.js";
import { createEmbeddedStore } from "../store/index.js";
import type { Store } from "../store/index.js";
import type { CheckTarget } from "../registry/index.js";
import type { Checker } from "./checker.js";
import { createHealthMonitor, type HealthMonitor } from "./health-monitor.js";
import { healthKey } from "./keys.js";
import { createManualClock, type ManualClock } from "../../test/support/manual-clock.js";

const PREFIX = "/switchboard/";
const logger = pino({ level: "silent" });
const H = HealthStatus.HEALTH_STATUS_HEALTHY;
const X = HealthStatus.HEALTH_STATUS_UNHEALTHY;
const U = HealthStatus.HEALTH_STATUS_UNSPECIFIED;

/** Probes answer from a per-port switch the test flips; every probe is logged with the replica that ran it. */
function switchboardOfPorts() {
  const healthy = new Map<number, boolean>();
  const probes: Array<{ replica: string; port: number }> = [];
  const factory =
    (replica: string) =>
    (target: CheckTarget): Checker => ({
      probe: async () => {
        const port = target.kind === "http" ? Number(new URL(target.url).port) : target.port;
        probes.push({ replica, port });
        const ok = healthy.get(port) ?? true;
        return { ok, output: ok ? `port ${port} fine` : `port ${port} broken` };
      },
      close: () => {},
    });
  return { healthy, probes, factory };
}

const waitFor = (condition: () => boolean | Promise<boolean>, timeoutMs = 5_000) =>
  eventually(condition, timeoutMs, "condition", 10);

async function register(store: Store, id: string, port: number, checks = true, service = "orders"): Promise<void> {
  const lease = await store.grantLease(30);
  const instance = Instance.fromPartial({
    namespace: "default",
    service,
    instanceId: id,
    address: "127.0.0.1",
    port,
    state: InstanceState.INSTANCE_STATE_UP,
    weight: 100,
    leaseId: lease.id,
    healthChecks: checks
      ? [{ target: { $case: "tcp", value: { port: 0 } }, intervalMs: 1000, unhealthyThreshold: 3, healthyThreshold: 2 }]
      : [],
  });
  await store.txn({
    ops: [{ type: "put", key: instanceKey(PREFIX, "default", service, id), value: encodeInstance(instance), lease: lease.id }],
  });
}

/** The status health wrote: its own record (health/), never the instance record. */
function storedStatus(store: Store, id: string, service = "orders"): Promise<HealthStatus> {
  return store.get(healthKey(PREFIX, "default", service, id)).then((kv) => (kv ? InstanceHealth.decode(kv.value).status : U));
}

describe("health monitor (embedded store, scripted probes)", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  async function setup(replicas: string[] = ["r1"]) {
    const store = await createEmbeddedStore({ logger });
    cleanups.push(() => store.close());
    const ports = switchboardOfPorts();
    const clock = createManualClock(Date.now());
    const nodes: Array<{ id: string; cache: KeySpaceCache; monitor: HealthMonitor }> = [];
    for (const id of replicas) {
      const cache = createKeySpaceCache({ store, prefix: PREFIX, logger });
      const monitor = createHealthMonitor({
        store,
        cache,
        prefix: PREFIX,
        replicaId: id,
        logger,
        clock,
        random: () => 0,
        checkerFactory: ports.factory(id),
        watch: { bookmarkIntervalMs: 60_000 },
      });
      cleanups.push(() => cache.close());
      cleanups.push(() => monitor.close());
      nodes.push({ id, cache, monitor });
    }
    return { store, ports, clock, nodes };
  }

  async function startAll(nodes: Array<{ monitor: HealthMonitor; cache: KeySpaceCache }>, replicas: number) {
    for (const node of nodes) await node.monitor.start();
    // Each replica must see every replica key before ownership is stable.
    await waitFor(() => nodes.every((n) => n.cache.list(`${PREFIX}replicas/`).length === replicas));
  }

  /** Advances the manual clock one probe round at a time, letting store writes land in between. */
  async function rounds(clock: ManualClock, n: number) {
    for (let i = 0; i < n; i++) {
      await clock.advance(1000);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("writes a transition only when the status changes, and recovers with hysteresis", async () => {
    const { store, ports, clock, nodes } = await setup();
    await register(store, "a", 9001);
    await startAll(nodes, 1);
    const { monitor } = nodes[0]!;
    await waitFor(() => monitor.ownedInstances().length === 1);
    expect(monitor.ownedInstances()).toEqual(["default/orders/a"]);

    await rounds(clock, 2); // two passes: HEALTHY
    await waitFor(async () => (await storedStatus(store, "a")) === H);
    const afterHealthy = (await store.list(PREFIX)).revision;

    await rounds(clock, 3); // still healthy: nothing written
    expect((await store.list(PREFIX)).revision).toBe(afterHealthy);

    ports.healthy.set(9001, false);
    await rounds(clock, 2); // two failures: below the threshold of 3
    expect(await storedStatus(store, "a")).toBe(H);
    expect((await store.list(PREFIX)).revision).toBe(afterHealthy);
    await rounds(clock, 1);
    await waitFor(async () => (await storedStatus(store, "a")) === X);
    const unhealthyAt = (await store.list(PREFIX)).revision;
    expect(unhealthyAt).toBe(afterHealthy + 1);

    // The health key holds the check results of the transition, on the instance lease.
    const healthKv = (await store.get(healthKey(PREFIX, "default", "orders", "a")))!;
    const instanceKv = (await store.get(instanceKey(PREFIX, "default", "orders", "a")))!;
    expect(healthKv.lease).toBe(instanceKv.lease);
    // Health never writes the instance record: it still holds the registration.
    expect(instanceKv.modRevision).toBe(instanceKv.createRevision);
    expect(healthKv.modRevision).toBe(unhealthyAt);
    const stored = InstanceHealth.decode(healthKv.value);
    expect(stored).toMatchObject({ status: X, checkedBy: "r1" });
    expect(stored.checks[0]).toMatchObject({ name: "tcp", status: X, consecutiveFailures: 3, output: "port 9001 broken" });

    await rounds(clock, 3);
    expect((await store.list(PREFIX)).revision).toBe(unhealthyAt);

    ports.healthy.set(9001, true);
    await rounds(clock, 1);
    expect(await storedStatus(store, "a")).toBe(X);
    await rounds(clock, 1);
    await waitFor(async () => (await storedStatus(store, "a")) === H);

    const health = await monitor.getHealth({ namespace: "", service: "orders", instanceId: "a" });
    expect(health.instances[0]).toMatchObject({ status: H, checkedBy: "r1" });
    expect(health.instances[0]!.checks[0]).toMatchObject({ name: "tcp", consecutiveSuccesses: 2, status: H });
  });

  it("a check that cannot be built fails (visibly) instead of being skipped", async () => {
    const store = await createEmbeddedStore({ logger });
    cleanups.push(() => store.close());
    const cache = createKeySpaceCache({ store, prefix: PREFIX, logger });
    cleanups.push(() => cache.close());
    const clock = createManualClock(Date.now());
    // The real checker factory: an HTTP URL built from this address does not parse.
    const monitor = createHealthMonitor({
      store,
      cache,
      prefix: PREFIX,
      replicaId: "r1",
      logger,
      clock,
      random: () => 0,
      watch: { bookmarkIntervalMs: 60_000 },
    });
    cleanups.push(() => monitor.close());
    // Stored directly, as an instance registered before addresses were validated would be.
    const lease = await store.grantLease(30);
    const instance = Instance.fromPartial({
      namespace: "default",
      service: "orders",
      instanceId: "bad",
      address: "a%zz",
      port: 80,
      state: InstanceState.INSTANCE_STATE_UP,
      leaseId: lease.id,
      healthChecks: [{ target: { $case: "http", value: { path: "/health" } }, intervalMs: 1000, unhealthyThreshold: 1 }],
    });
    await store.txn({
      ops: [
        { type: "put", key: instanceKey(PREFIX, "default", "orders", "bad"), value: encodeInstance(instance), lease: lease.id },
      ],
    });
    await monitor.start();
    await waitFor(() => monitor.ownedInstances().length === 1);
    await rounds(clock, 2);
    await waitFor(async () => (await storedStatus(store, "bad")) === X);
    const health = await monitor.getHealth({ namespace: "", service: "orders", instanceId: "bad" });
    expect(health.instances[0]).toMatchObject({ status: X });
    expect(health.instances[0]!.checks[0]).toMatchObject({
      name: "http",
      status: X,
      output: "check cannot be built: ERR_INVALID_URL: Invalid URL",
    });
  });

  it("an instance held after its lease expired: due transitions write nothing and log no failure; reports are NOT_FOUND", async () => {
    const store = await createEmbeddedStore({ logger });
    cleanups.push(() => store.close());
    const warnings: string[] = [];
    const watching = pino({ level: "warn" }, { write: (line: string) => void warnings.push(line) });
    const ports = switchboardOfPorts();
    const clock = createManualClock(Date.now());
    const cache = createKeySpaceCache({ store, prefix: PREFIX, logger });
    cleanups.push(() => cache.close());
    const view = createRegistryView({ cache, prefix: PREFIX, logger, expiryHoldMs: 60_000 });
    cleanups.push(() => view.close());
    const monitor = createHealthMonitor({
      store,
      cache,
      view,
      prefix: PREFIX,
      replicaId: "r1",
      logger: watching,
      clock,
      random: () => 0,
      checkerFactory: ports.factory("r1"),
      watch: { bookmarkIntervalMs: 60_000 },
    });
    cleanups.push(() => monitor.close());
    await register(store, "h", 9200);
    await startAll([{ monitor, cache }], 1);
    await waitFor(() => monitor.ownedInstances().length === 1);
    await rounds(clock, 2);
    await waitFor(async () => (await storedStatus(store, "h")) === H);

    // The lease expires right after a failed store ping: the view holds the instance.
    const leaseId = (await store.get(instanceKey(PREFIX, "default", "orders", "h")))!.lease;
    view.noteStoreUnreachable();
    const before = (await store.list(PREFIX)).revision;
    await store.revokeLease(leaseId);
    await waitFor(() => view.service("default", "orders")?.instances.get("h")?.heldUntil !== undefined);
    const revoked = (await store.list(PREFIX)).revision;
    expect(revoked).toBe(before + 1);

    // A transition is due (3 failed probes) and a self-report arrives: neither writes, neither fails.
    ports.healthy.set(9200, false);
    await rounds(clock, 4);
    // The report is answered NOT_FOUND (register again), as a non-owner replica's relay on the dead lease is.
    await expect(
      monitor.reportHealth({ namespace: "default", service: "orders", instanceId: "h", status: X, output: "down", ttlMs: 0 }),
    ).rejects.toBeInstanceOf(NotFoundError);
    await rounds(clock, 1);
    expect((await store.list(PREFIX)).revision).toBe(revoked);
    expect(await store.get(healthKey(PREFIX, "default", "orders", "h"))).toBeUndefined();
    expect(warnings.filter((w) => w.includes("could not write"))).toEqual([]);
  });

  it("self-reports: applied at once, TTL expiry makes the instance unhealthy", async () => {
    const { store, clock, nodes } = await setup();
    await register(store, "s", 9100, false);
    await startAll(nodes, 1);
    const { monitor } = nodes[0]!;
    const first = await monitor.reportHealth({
      namespace: "default",
      service: "orders",
      instanceId: "s",
      status: H,
      output: "all good",
      ttlMs: 3000,
    });
    expect(Number(first.revision)).toBeGreaterThan(0);
    expect(await storedStatus(store, "s")).toBe(H);
    const again = await monitor.reportHealth({
      namespace: "default",
      service: "orders",
      instanceId: "s",
      status: H,
      output: "",
      ttlMs: 3000,
    });
    expect(again.revision).toBe("0");
    await clock.advance(2900);
    expect(await storedStatus(store, "s")).toBe(H);
    await clock.advance(200);
    await waitFor(async () => (await storedStatus(store, "s")) === X);
    const health = await monitor.getHealth({ namespace: "default", service: "orders", instanceId: "s" });
    expect(health.instances[0]!.checks).toEqual([
      expect.objectContaining({ name: "self", status: X, output: expect.stringContaining("TTL expired") }),
    ]);
  });

  it("rejects bad reports and unknown instances", async () => {
    const { store, nodes } = await setup();
    await register(store, "s", 9100, false);
    await startAll(nodes, 1);
    const { monitor } = nodes[0]!;
    const base = { namespace: "", service: "orders", instanceId: "s", status: H, output: "", ttlMs: 0 };
    await expect(monitor.reportHealth({ ...base, status: U })).rejects.toThrow(InvalidArgumentError);
    await expect(monitor.reportHealth({ ...base, ttlMs: 10 })).rejects.toThrow("ttl_ms");
    await expect(monitor.reportHealth({ ...base, output: "x".repeat(5000) })).rejects.toThrow("output");
    await expect(monitor.reportHealth({ ...base, service: "Bad_Name" })).rejects.toThrow("service");
    await expect(monitor.reportHealth({ ...base, instanceId: "nope" })).rejects.toThrow(NotFoundError);
    await expect(monitor.getHealth({ namespace: "", service: "orders", instanceId: "nope" })).rejects.toThrow(NotFoundError);
  });

  it("two replicas: each instance is checked by exactly one, and the survivor takes over", async () => {
    const { store, ports, clock, nodes } = await setup(["r1", "r2"]);
    for (let i = 0; i < 12; i++) await register(store, `i${i}`, 9200 + i);
    await startAll(nodes, 2);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    await waitFor(() => a.monitor.ownedInstances().length + b.monitor.ownedInstances().length === 12);
    const ownedA = a.monitor.ownedInstances();
    const ownedB = b.monitor.ownedInstances();
    expect(ownedA.length).toBeGreaterThan(0);
    expect(ownedB.length).toBeGreaterThan(0);
    expect(ownedA.filter((k) => ownedB.includes(k))).toEqual([]);

    await rounds(clock, 3);
    const byPort = new Map<number, Set<string>>();
    for (const p of ports.probes) byPort.set(p.port, (byPort.get(p.port) ?? new Set()).add(p.replica));
    expect(byPort.size).toBe(12);
    for (const replicas of byPort.values()) expect(replicas.size).toBe(1);

    // GetHealth on either replica names the owner.
    const view = await a.monitor.getHealth({ namespace: "", service: "orders", instanceId: "" });
    for (const inst of view.instances) {
      const owner = ownedA.includes(`default/orders/${inst.instanceId}`) ? "r1" : "r2";
      expect(inst.checkedBy).toBe(owner);
    }

    await a.monitor.close();
    await waitFor(() => b.monitor.ownedInstances().length === 12);
  });

  it("a report received by a non-owner is relayed to the owner", async () => {
    const { store, nodes } = await setup(["r1", "r2"]);
    for (let i = 0; i < 6; i++) await register(store, `s${i}`, 9300 + i, false);
    await startAll(nodes, 2);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    for (let i = 0; i < 6; i++) {
      const req = { namespace: "", service: "orders", instanceId: `s${i}`, status: X, output: `bad ${i}`, ttlMs: 0 };
      await a.monitor.reportHealth(req);
      await waitFor(async () => (await storedStatus(store, `s${i}`)) === X);
      const owner = [...a.monitor.ownedInstances(), ...b.monitor.ownedInstances()].filter((k) => k === `default/orders/s${i}`);
      expect(owner).toHaveLength(1);
    }
    // At least one of them was owned by r2, i.e. relayed.
    expect(b.monitor.ownedInstances().length).toBeGreaterThan(0);
    const health = await b.monitor.getHealth({ namespace: "", service: "orders", instanceId: "" });
    expect(
      health.instances.every((i) => i.status === X && i.checks.some((c) => c.name === "self" && c.output.startsWith("bad"))),
    ).toBe(true);
  });

  it("flags protection when more than half of a service is unhealthy, and streams transitions", async () => {
    const { store, ports, clock, nodes } = await setup();
    for (let i = 0; i < 4; i++) await register(store, `p${i}`, 9400 + i);
    await startAll(nodes, 1);
    const { monitor } = nodes[0]!;
    await rounds(clock, 2);
    await waitFor(async () => (await Promise.all([0, 1, 2, 3].map((i) => storedStatus(store, `p${i}`)))).every((s) => s === H));

    const abort = new AbortController();
    cleanups.push(() => abort.abort());
    const messages: WatchHealthResponse[] = [];
    const consuming = (async () => {
      for await (const m of monitor.watchHealth({ namespace: "", service: "orders", sinceRevision: 0 }, abort.signal))
        messages.push(m);
    })();

    await waitFor(() => messages.length === 1);
    expect(messages[0]!.kind?.$case).toBe("snapshot");

    ports.healthy.set(9400, false);
    ports.healthy.set(9401, false);
    await rounds(clock, 3);
    await waitFor(() => messages.filter((m) => m.kind?.$case === "transition").length === 2);
    // 2 of 4 is not more than half.
    expect((await monitor.getHealth({ namespace: "", service: "orders", instanceId: "" })).protectionActive).toBe(false);

    ports.healthy.set(9402, false);
    await rounds(clock, 3);
    await waitFor(() => messages.filter((m) => m.kind?.$case === "transition").length === 3);
    const protectedView = await monitor.getHealth({ namespace: "", service: "orders", instanceId: "" });
    expect(protectedView.protectionActive).toBe(true);
    expect(protectedView.instances.filter((i) => i.status === X)).toHaveLength(3);

    const transition = messages.find((m) => m.kind?.$case === "transition")!.kind!.value as {
      previous: number;
      current: number;
      output: string;
      revision: string;
    };
    expect(transition).toMatchObject({ previous: H, current: X, output: expect.stringContaining("broken") });

    // Resume after the first transition: exactly the later ones.
    const firstRevision = Number(transition.revision);
    const resumed: WatchHealthResponse[] = [];
    const resumeAbort = new AbortController();
    const resuming = (async () => {
      for await (const m of monitor.watchHealth(
        { namespace: "", service: "orders", sinceRevision: firstRevision },
        resumeAbort.signal,
      ))
        resumed.push(m);
    })();
    await waitFor(() => resumed.length === 2);
    expect(resumed.every((m) => m.kind?.$case === "transition" && Number(m.kind.value.revision) > firstRevision)).toBe(true);
    resumeAbort.abort();
    await resuming;

    ports.healthy.set(9402, true);
    await rounds(clock, 2);
    await waitFor(async () => !(await monitor.getHealth({ namespace: "", service: "orders", instanceId: "" })).protectionActive);
    abort.abort();
    await consuming;
  });
});
