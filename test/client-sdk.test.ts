/**
 * The SDK (@switchboard/client, packages/client) against real Switchboard servers on a real etcd:
 * the grpc-js resolver spreads calls and follows a drain and a deregistration
 * without failed calls; the agent registers again after its lease expired
 * while it was cut off; the watch helper resumes on another replica without
 * losing or repeating events; the picker follows the registry.
 */
import { createChannel, createClient } from "nice-grpc";
import type { Channel } from "nice-grpc";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPicker, createSwitchboardClient, registerSwitchboardResolver, watchService } from "@switchboard/client";
import { startAgent } from "./support/start-agent.js";
import type { Agent, AgentEvent, SwitchboardClient, WatchUpdate } from "@switchboard/client";
import { EchoDefinition, startEchoServer } from "./support/echo-server.js";
import type { EchoServer } from "./support/echo-server.js";
import { requireEtcd, startEtcd, startTcpProxy } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { eventually } from "./support/eventually.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const etcdBinary = requireEtcd();
const FAST = { initialMs: 50, maxMs: 300 };
/** Reconnect quickly in tests (grpc-js defaults: 1 s doubling to 120 s). */
const QUICK_RECONNECT = { "grpc.initial_reconnect_backoff_ms": 100, "grpc.max_reconnect_backoff_ms": 500 };

const waitFor = (condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string) =>
  eventually(condition, timeoutMs, what, 20);

describe.skipIf(!etcdBinary)("SDK against real servers on etcd", () => {
  let etcd: EtcdServer;
  let server: TestServer;
  let client: SwitchboardClient;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    etcd = await startEtcd();
    server = await startTestServer({ etcdEndpoints: etcd.endpoints });
    client = createSwitchboardClient({ address: server.grpcAddress });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    await etcd?.stop();
  });

  it("resolver: spreads calls over instances and follows a drain and a deregistration without failed calls", async () => {
    const servers: Record<string, EchoServer> = {};
    const agents: Record<string, Agent> = {};
    for (const name of ["a", "b", "c"]) {
      const echo = await startEchoServer(name);
      servers[name] = echo;
      cleanups.push(() => echo.close());
      const instance = { namespace: "rt", service: "echo", instanceId: name, address: "127.0.0.1", port: echo.port };
      if (name === "c") {
        // Registered without an agent: a running agent would register again after an operator's Deregister.
        await client.registry.register({ instance, ttlSeconds: 60 });
        continue;
      }
      const agent = await startAgent({ client, instance, ttlSeconds: 3, drainGraceMs: 1000 });
      agents[name] = agent;
      cleanups.push(() => agent.stop());
    }
    registerSwitchboardResolver({ address: server.grpcAddress, backoff: FAST });
    const channel: Channel = createChannel("switchboard:///rt/echo");
    cleanups.push(() => channel.close());
    const echo = createClient(EchoDefinition, channel);

    let failures = 0;
    let calls = 0;
    let stop = false;
    const errors: unknown[] = [];
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        try {
          await echo.whoAmI({ text: "hi" }, { signal: AbortSignal.timeout(15_000) });
          calls++;
        } catch (error) {
          failures++;
          errors.push(error);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    });
    /** Resolves once `echo` got no new call for 400 ms. */
    const quiet = async (target: EchoServer) => {
      for (;;) {
        const before = target.calls;
        await new Promise((resolve) => setTimeout(resolve, 400));
        if (target.calls === before) return;
      }
    };
    try {
      await waitFor(() => Object.values(servers).every((s) => s.calls >= 20), 20_000, "calls on every instance");

      // Graceful leave: DRAINING (the resolver drops b), grace, deregister; then b stops.
      await agents.b!.drain();
      await quiet(servers.b!);
      await servers.b!.close();

      // An operator removes c: it leaves at once.
      await client.registry.deregister({ namespace: "rt", service: "echo", instanceId: "c" });
      await quiet(servers.c!);
      await servers.c!.close();

      const before = servers.a!.calls;
      await waitFor(() => servers.a!.calls > before + 20, 15_000, "calls going on to a");
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    expect(errors).toEqual([]);
    expect(failures).toBe(0);
    expect(calls).toBeGreaterThan(100);
  }, 90_000);

  it("agent: registers the same instance again after its lease expired while it was cut off", async () => {
    const proxy = await startTcpProxy(`http://${server.grpcAddress}`);
    cleanups.push(() => proxy.close());
    const viaProxy = createSwitchboardClient({
      address: proxy.endpoint.replace("http://", ""),
      channelOptions: QUICK_RECONNECT,
      defaultTimeoutMs: 2000,
    });
    cleanups.push(() => viaProxy.close());
    const events: AgentEvent[] = [];
    const agent = await startAgent({
      client: viaProxy,
      instance: { namespace: "lease", service: "api", instanceId: "one", address: "127.0.0.1", port: 9 },
      ttlSeconds: 2,
      backoff: FAST,
      onEvent: (event) => events.push(event),
    });
    cleanups.push(() => agent.stop());
    const firstLease = agent.leaseId;

    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const seen: WatchUpdate[] = [];
    void (async () => {
      for await (const update of watchService(client, { namespace: "lease", service: "api" }, controller.signal))
        seen.push(update);
    })();
    await waitFor(() => seen.at(-1)?.instances.length === 1, 15_000, "the watcher to see the instance");

    proxy.setBlocked(true);
    await waitFor(() => seen.at(-1)?.instances.length === 0, 15_000, "the lease to expire");
    expect(seen.at(-1)?.event?.kind).toBe("removed");
    proxy.setBlocked(false);

    await waitFor(() => seen.at(-1)?.instances.length === 1, 20_000, "the agent to register again");
    expect(seen.at(-1)?.instances[0]?.instanceId).toBe("one");
    // The watcher may see the new registration before the agent reads the Register answer.
    await waitFor(() => agent.leaseId !== undefined, 15_000, "the agent to read its new lease");
    expect(agent.leaseId).not.toBe(firstLease);
    expect(seen.at(-1)?.instances[0]?.leaseId).toBe(agent.leaseId);
    expect(events.map((e) => e.type)).toContain("lease-lost");
    expect(events.filter((e) => e.type === "registered")).toHaveLength(2);
    // And it stays: renewals go on over the new lease.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(seen.at(-1)?.instances.map((i) => i.instanceId)).toEqual(["one"]);
  }, 90_000);

  it("watch helper: resumes on another replica after its server shuts down, with no lost or repeated events", async () => {
    const second = await startTestServer({ etcdEndpoints: etcd.endpoints });
    let secondClosed = false;
    cleanups.push(async () => {
      if (!secondClosed) await second.close();
    });
    const writer = createSwitchboardClient({ address: server.grpcAddress });
    cleanups.push(() => writer.close());
    const watcherClient = createSwitchboardClient({
      addresses: [second.grpcAddress, server.grpcAddress],
      channelOptions: QUICK_RECONNECT,
    });
    cleanups.push(() => watcherClient.close());
    const register = (id: string) =>
      writer.registry.register({
        instance: { namespace: "resume", service: "svc", instanceId: id, address: "127.0.0.1", port: 1000 + Number(id.slice(1)) },
        ttlSeconds: 30,
      });

    await register("i1");
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    const seen: WatchUpdate[] = [];
    const done = (async () => {
      for await (const update of watchService(
        watcherClient,
        { namespace: "resume", service: "svc", backoff: FAST },
        controller.signal,
      )) {
        seen.push(update);
      }
    })();
    // >= 1: a snapshot that predates i1 is followed at once by "added i1", possibly within one poll.
    await waitFor(() => seen.length >= 1, 15_000, "the snapshot");
    expect(seen[0]?.type).toBe("snapshot");
    const second2 = await register("i2");
    // That replica's snapshot may predate i1 (its cache follows etcd); either way it catches up.
    await waitFor(() => (seen.at(-1)?.revision ?? 0) >= Number(second2.revision), 15_000, "the watch to see i2");

    // The replica serving the watch goes away; writes go on meanwhile.
    secondClosed = true;
    const closing = second.close();
    await register("i3");
    await register("i4");
    await closing;
    await writer.registry.deregister({ namespace: "resume", service: "svc", instanceId: "i1" });
    const final = await writer.registry.listInstances({ namespace: "resume", service: "svc" });

    await waitFor(() => seen.at(-1)?.revision === Number(final.revision), 15_000, "the watch to catch up");
    expect(watcherClient.currentAddress).toBe(server.grpcAddress);
    expect(seen.filter((u) => u.type === "snapshot")).toHaveLength(1); // resumed, never restarted
    const events = seen.filter((u) => u.type === "event").map((u) => `${u.event?.kind} ${u.event?.instance.instanceId}`);
    const inSnapshot = seen[0]?.instances.some((i) => i.instanceId === "i1") ?? false;
    expect(events).toEqual([...(inSnapshot ? [] : ["added i1"]), "added i2", "added i3", "added i4", "removed i1"]);
    const revisions = seen.map((u) => u.revision);
    for (let i = 1; i < revisions.length; i++) expect(revisions[i]).toBeGreaterThan(revisions[i - 1]!);
    expect(seen.at(-1)?.instances.map((i) => i.instanceId)).toEqual(final.instances.map((i) => i.instanceId).sort());
    controller.abort();
    await done;
  }, 90_000);

  it("picker: weighted picks over the live registry", async () => {
    const picker = createPicker({ client, namespace: "pick" });
    cleanups.push(() => picker.close());
    for (const [id, weight] of [
      ["x", 100],
      ["y", 200],
    ] as const) {
      await client.registry.register({
        instance: {
          namespace: "pick",
          service: "web",
          instanceId: id,
          address: `10.0.0.${id === "x" ? 1 : 2}`,
          port: 80,
          weight,
        },
        ttlSeconds: 30,
      });
    }
    await picker.pick("web"); // opens the watch
    await waitFor(() => picker.instances("web").length === 2, 15_000, "both instances");
    const counts: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const { address } = await picker.pick("web");
      counts[address] = (counts[address] ?? 0) + 1;
    }
    expect(counts).toEqual({ "10.0.0.1": 10, "10.0.0.2": 20 });
  });
});
