import { Status } from "nice-grpc";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import { startFakeRegistry } from "../../test/support/fake-registry.js";
import type { FakeRegistry } from "../../test/support/fake-registry.js";
import { InstanceState } from "../../generated/switchboard/registry/v1/registry.js";
import { InvalidArgumentError } from "../errors.js";
import { createAgent, startAgent } from "./agent.js";
import type { AgentEvent } from "./agent.js";
import { createSwitchboardClient } from "./client.js";
import type { SwitchboardClient } from "./client.js";

const FAST = { initialMs: 10, maxMs: 50 };

let fake: FakeRegistry;
let client: SwitchboardClient;

beforeEach(async () => {
  fake = await startFakeRegistry();
  client = createSwitchboardClient({ address: fake.address });
});

afterEach(async () => {
  client.close();
  await fake.close();
});

const waitFor = (condition: () => boolean, timeoutMs = 8000) => eventually(condition, timeoutMs, "condition", 10);

const instance = { service: "orders", address: "10.0.0.1", port: 8080, metadata: { version: "1" } };

describe("agent", () => {
  it("registers, renews over KeepAlive at ttl/3, and deregisters on stop", async () => {
    const events: AgentEvent[] = [];
    const agent = await startAgent({ client, instance, ttlSeconds: 3, backoff: FAST, onEvent: (e) => events.push(e) });
    try {
      expect(agent.status).toBe("running");
      const key = `default/orders/${agent.instance?.instanceId}`;
      expect(fake.instances.get(key)).toMatchObject({ address: "10.0.0.1", port: 8080, metadata: { version: "1" } });
      expect(fake.instances.get(key)?.owner).not.toBe("");
      // One renewal at once when the stream opens, then one per second (ttl 3 / 3).
      await waitFor(() => fake.calls.filter((c) => c.method === "KeepAlive.renew").length >= 3, 5000);
      expect(events.filter((e) => e.type === "renewed").length).toBeGreaterThanOrEqual(2);
      await agent.stop();
      expect(fake.instances.has(key)).toBe(false);
      expect(agent.status).toBe("stopped");
      const renewals = fake.calls.filter((c) => c.method === "KeepAlive.renew").length;
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(fake.calls.filter((c) => c.method === "KeepAlive.renew").length).toBe(renewals);
    } finally {
      await agent.stop();
    }
  });

  it("registers the same instance again after the lease is lost", async () => {
    const events: AgentEvent[] = [];
    const agent = await startAgent({ client, instance, ttlSeconds: 3, backoff: FAST, onEvent: (e) => events.push(e) });
    try {
      const id = agent.instance?.instanceId;
      const firstLease = agent.leaseId;
      fake.expire(`default/orders/${id}`);
      // The next renewal (within ttl/3) answers ttl 0; the agent registers again.
      await waitFor(() => events.filter((e) => e.type === "registered").length === 2, 5000);
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
    const agent = await startAgent({ client, instance, ttlSeconds: 3, backoff: FAST, onEvent: (e) => events.push(e) });
    try {
      expect(fake.calls.filter((c) => c.method === "Register")).toHaveLength(3);
      await waitFor(() => fake.calls.some((c) => c.method === "KeepAlive.renew"));
      fake.failNext("KeepAlive", Status.UNAVAILABLE, 1);
      fake.cutKeepAlives(Status.UNAVAILABLE);
      // Cut, one failed reopen, then a stream that renews at once.
      await waitFor(() => fake.calls.filter((c) => c.method === "KeepAlive").length === 3);
      const renewals = fake.calls.filter((c) => c.method === "KeepAlive.renew").length;
      await waitFor(() => fake.calls.filter((c) => c.method === "KeepAlive.renew").length > renewals);
      expect(events.filter((e) => e.type === "stream-error").length).toBe(2);
      expect(fake.calls.filter((c) => c.method === "Register")).toHaveLength(3);
      expect(agent.status).toBe("running");
    } finally {
      await agent.stop();
    }
  });

  it("refuses invalid instances without retrying", async () => {
    const agent = createAgent({ client, instance: { service: "orders", address: "", port: 0 }, backoff: FAST });
    await expect(agent.start()).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(agent.status).toBe("stopped");
    expect(fake.calls.filter((c) => c.method === "Register")).toHaveLength(1);
  });

  it("drains: DRAINING, grace period, then deregistered", async () => {
    const events: AgentEvent[] = [];
    const agent = await startAgent({ client, instance, ttlSeconds: 3, drainGraceMs: 300, onEvent: (e) => events.push(e) });
    const key = `default/orders/${agent.instance?.instanceId}`;
    const started = Date.now();
    const drained = agent.drain();
    await waitFor(() => fake.instances.get(key)?.state === InstanceState.INSTANCE_STATE_DRAINING);
    expect(agent.status).toBe("draining");
    await drained;
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
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
      handleSignals: { exit: false, signals: ["SIGUSR2"] },
    });
    const key = `default/orders/${agent.instance?.instanceId}`;
    process.kill(process.pid, "SIGUSR2");
    await waitFor(() => agent.status === "stopped" && !fake.instances.has(key));
    expect(process.listenerCount("SIGUSR2")).toBe(0);
  });
});
