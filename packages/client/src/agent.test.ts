import { Status } from "nice-grpc";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import { startFakeRegistry } from "../../../test/support/fake-registry.js";
import type { FakeRegistry } from "../../../test/support/fake-registry.js";
import { InstanceState } from "../../../generated/switchboard/registry/v1/registry.js";
import { InvalidArgumentError } from "../../../src/errors.js";
import { createManualClock } from "../../../test/support/manual-clock.js";
import type { ManualClock } from "../../../test/support/manual-clock.js";
import { createAgent } from "./agent.js";
import { startAgent } from "../../../test/support/start-agent.js";
import type { AgentEvent } from "./agent.js";
import { createSwitchboardClient } from "./client.js";
import type { SwitchboardClient } from "./client.js";

const FAST = { initialMs: 10, maxMs: 50 };

let fake: FakeRegistry;
let client: SwitchboardClient;
// The agents' time: renewals, watchdog, backoff and drain grace move only when a test advances it.
// Only the gRPC round trips to the fake registry take real time, and the tests await those.
let clock: ManualClock;

beforeEach(async () => {
  fake = await startFakeRegistry();
  client = createSwitchboardClient({ address: fake.address });
  clock = createManualClock();
});

afterEach(async () => {
  client.close();
  await fake.close();
});

const waitFor = (condition: () => boolean, timeoutMs = 8000) => eventually(condition, timeoutMs, "condition", 10);
const count = (list: Array<{ method: string }> | AgentEvent[], name: string) =>
  list.filter((item) => ("method" in item ? item.method : item.type) === name).length;
/**
 * A running agent between renewals waits on two timers: the next renewal (ttl/3) and the
 * watchdog (ttl). Advancing the clock only then makes each step land where the test says.
 */
const BETWEEN_RENEWALS = 2;

const instance = { service: "orders", address: "10.0.0.1", port: 8080, metadata: { version: "1" } };

/**
 * The first renewal comes ttl/3 (1 s here) after Register granted the lease, not when the stream
 * opens: the stream waits on its renewal timer and watchdog with nothing renewed yet.
 */
async function firstRenewal(events: AgentEvent[]): Promise<void> {
  await waitFor(() => count(fake.calls, "KeepAlive") === 1 && clock.pending() === BETWEEN_RENEWALS);
  expect(count(fake.calls, "KeepAlive.renew")).toBe(0);
  await clock.advance(999);
  expect(count(fake.calls, "KeepAlive.renew")).toBe(0);
  await clock.advance(1);
  await waitFor(() => count(events, "renewed") === 1 && clock.pending() === BETWEEN_RENEWALS);
}

describe("agent", () => {
  it("registers, renews over KeepAlive at ttl/3, and deregisters on stop", async () => {
    const events: AgentEvent[] = [];
    const agent = await startAgent({ client, instance, ttlSeconds: 3, backoff: FAST, clock, onEvent: (e) => events.push(e) });
    try {
      expect(agent.status).toBe("running");
      const key = `default/orders/${agent.instance?.instanceId}`;
      expect(fake.instances.get(key)).toMatchObject({ address: "10.0.0.1", port: 8080, metadata: { version: "1" } });
      expect(fake.instances.get(key)?.owner).not.toBe("");
      // No renewal when the stream opens (Register has just granted the lease), then one per second (ttl 3 / 3).
      await firstRenewal(events);
      await clock.advance(999);
      expect(count(fake.calls, "KeepAlive.renew")).toBe(1);
      for (const renewed of [2, 3]) {
        await clock.advance(renewed === 2 ? 1 : 1000);
        await waitFor(() => count(events, "renewed") === renewed && clock.pending() === BETWEEN_RENEWALS);
      }
      expect(count(fake.calls, "KeepAlive.renew")).toBeGreaterThanOrEqual(3);
      expect(count(events, "renewed")).toBeGreaterThanOrEqual(2);
      expect(count(events, "stream-error")).toBe(0);
      await agent.stop();
      expect(fake.instances.has(key)).toBe(false);
      expect(agent.status).toBe("stopped");
      const renewals = count(fake.calls, "KeepAlive.renew");
      expect(clock.pending()).toBe(0);
      await clock.advance(1200);
      expect(count(fake.calls, "KeepAlive.renew")).toBe(renewals);
    } finally {
      await agent.stop();
    }
  });

  it("registers the same instance again after the lease is lost", async () => {
    const events: AgentEvent[] = [];
    const agent = await startAgent({ client, instance, ttlSeconds: 3, backoff: FAST, clock, onEvent: (e) => events.push(e) });
    try {
      const id = agent.instance?.instanceId;
      const firstLease = agent.leaseId;
      await firstRenewal(events);
      fake.expire(`default/orders/${id}`);
      // The next renewal (at ttl/3) answers ttl 0; after one backoff (≤ 10 ms) the agent registers again.
      await clock.advance(1000);
      await waitFor(() => count(events, "lease-lost") === 1 && clock.pending() === 1);
      await clock.advance(10);
      await waitFor(() => count(events, "registered") === 2, 5000);
      expect(events.map((e) => e.type)).toContain("lease-lost");
      expect(agent.instance?.instanceId).toBe(id);
      expect(agent.leaseId).not.toBe(firstLease);
      expect(fake.instances.get(`default/orders/${id}`)?.leaseId).toBe(agent.leaseId);
    } finally {
      await agent.stop();
    }
  });

  it("retries registration on UNAVAILABLE and reopens a broken KeepAlive stream without registering again", async () => {
    fake.failNext("Register", Status.UNAVAILABLE, 2);
    const events: AgentEvent[] = [];
    const starting = startAgent({ client, instance, ttlSeconds: 3, backoff: FAST, clock, onEvent: (e) => events.push(e) });
    // Two refusals, each followed by one backoff timer (≤ 10 ms, then ≤ 20 ms).
    for (const [refused, backoffMs] of [
      [1, 10],
      [2, 20],
    ] as const) {
      await waitFor(() => count(fake.calls, "Register") === refused && clock.pending() === 1);
      await clock.advance(backoffMs);
    }
    const agent = await starting;
    try {
      expect(fake.calls.filter((c) => c.method === "Register")).toHaveLength(3);
      await firstRenewal(events);
      const renewals = fake.calls.filter((c) => c.method === "KeepAlive.renew").length;
      fake.failNext("KeepAlive", Status.UNAVAILABLE, 1);
      fake.cutKeepAlives(Status.UNAVAILABLE);
      // Cut, one failed reopen, then a stream that renews at once; a backoff timer before each reopen.
      await waitFor(() => count(events, "stream-error") === 1 && clock.pending() === 1);
      await clock.advance(10);
      await waitFor(() => count(events, "stream-error") === 2 && clock.pending() === 1);
      await clock.advance(20);
      await waitFor(() => fake.calls.filter((c) => c.method === "KeepAlive").length === 3);
      // The reopened stream renews at once: no clock advance is needed.
      await waitFor(() => fake.calls.filter((c) => c.method === "KeepAlive.renew").length > renewals);
      expect(events.filter((e) => e.type === "stream-error").length).toBe(2);
      expect(fake.calls.filter((c) => c.method === "Register")).toHaveLength(3);
      expect(agent.status).toBe("running");
    } finally {
      await agent.stop();
    }
  });

  it("refuses invalid instances without retrying", async () => {
    const agent = createAgent({ client, instance: { service: "orders", address: "", port: 0 }, backoff: FAST, clock });
    await expect(agent.start()).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(agent.status).toBe("stopped");
    expect(fake.calls.filter((c) => c.method === "Register")).toHaveLength(1);
  });

  it("drains: DRAINING, grace period, then deregistered", async () => {
    const events: AgentEvent[] = [];
    const agent = await startAgent({ client, instance, ttlSeconds: 3, drainGraceMs: 300, clock, onEvent: (e) => events.push(e) });
    const key = `default/orders/${agent.instance?.instanceId}`;
    await firstRenewal(events);
    const started = clock.now();
    let done = false;
    const drained = agent.drain().then(() => (done = true));
    // DRAINING is written, then the grace timer waits beside the renewal timers.
    await waitFor(
      () => fake.instances.get(key)?.state === InstanceState.INSTANCE_STATE_DRAINING && clock.pending() === BETWEEN_RENEWALS + 1,
    );
    expect(agent.status).toBe("draining");
    await clock.advance(299);
    expect(done).toBe(false);
    expect(fake.instances.has(key)).toBe(true);
    await clock.advance(1);
    await drained;
    expect(clock.now() - started).toBeGreaterThanOrEqual(300);
    expect(fake.instances.has(key)).toBe(false);
    expect(events.map((e) => e.type).filter((t) => t !== "renewed")).toEqual(["registered", "draining", "deregistered"]);
    const methods = fake.calls.map((c) => c.method).filter((m) => m !== "KeepAlive" && m !== "KeepAlive.renew");
    expect(methods).toEqual(["Register", "UpdateInstance", "Deregister"]);
  });

  it("handles SIGTERM by draining and deregistering (exit disabled)", async () => {
    const agent = await startAgent({
      client,
      instance,
      ttlSeconds: 3,
      drainGraceMs: 50,
      clock,
      handleSignals: { exit: false, signals: ["SIGUSR2"] },
    });
    const key = `default/orders/${agent.instance?.instanceId}`;
    await waitFor(() => clock.pending() === BETWEEN_RENEWALS);
    process.kill(process.pid, "SIGUSR2");
    await waitFor(() => agent.status === "draining" && clock.pending() === BETWEEN_RENEWALS + 1);
    await clock.advance(50);
    await waitFor(() => agent.status === "stopped" && !fake.instances.has(key));
    expect(process.listenerCount("SIGUSR2")).toBe(0);
  });
});
