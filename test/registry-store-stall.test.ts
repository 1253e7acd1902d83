/**
 * Expiry hold with a real etcd (rule on Instance.held_until in registry.proto):
 * - in normal operation a SIGKILLed instance still leaves a watch within TTL + 1 s
 *   (+ 0.5 s for a loaded machine), as registry-failure.test.ts asserts without holds;
 * - the single etcd member frozen (SIGSTOP) for twice the TTL and resumed expires
 *   every lease; the server holds the instances (UPDATED with held_until, visible in
 *   ListInstances and /metrics) and the agents (SDK startAgent) register them again:
 *   watchers never see a REMOVED or a second ADDED;
 * - with no failed ping at all, leases that etcd expires in one lump (instances
 *   registered together and never renewed) are held from the burst rule's
 *   threshold on (BURST_MIN_DELETIONS), and registering them again causes no flap.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSwitchboardClient, watchService } from "@switchboard/client";
import { startAgent } from "./support/start-agent.js";
import { BURST_MIN_DELETIONS } from "../src/registry/expiry-hold.js";
import type { Agent, SwitchboardClient, WatchUpdate } from "@switchboard/client";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { eventually } from "./support/eventually.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const TTL_SECONDS = 3;
const etcdBinary = requireEtcd();

interface Recorder {
  updates: WatchUpdate[];
  stop(): Promise<void>;
}

function record(client: SwitchboardClient, service: string): Recorder {
  const updates: WatchUpdate[] = [];
  const abort = new AbortController();
  const done = (async () => {
    for await (const update of watchService(client, { service, includeUnroutable: true }, abort.signal)) updates.push(update);
  })();
  return {
    updates,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

const events = (recorder: Recorder, kind: string) =>
  recorder.updates.filter((u) => u.event?.kind === kind).map((u) => u.event!.instance.instanceId);

describe.skipIf(!etcdBinary)("store stall on a real etcd: expiry hold", () => {
  let etcd: EtcdServer;
  let server: TestServer;
  let client: SwitchboardClient;

  beforeAll(async () => {
    etcd = await startEtcd();
    server = await startTestServer({ etcdEndpoints: etcd.endpoints, registry: { expiryHoldMs: 10_000 } });
    client = createSwitchboardClient({ address: server.grpcAddress });
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    await etcd?.stop();
  });

  it("still removes a single SIGKILLed instance within TTL + 1 s in normal operation", async () => {
    const watch = record(client, "single");
    let child: ChildProcess | undefined;
    try {
      child = spawn(
        process.execPath,
        [
          "--import",
          "tsx",
          "test/fixtures/registry-instance.ts",
          server.grpcAddress,
          "single",
          "victim",
          String(TTL_SECONDS),
          "keepalive",
        ],
        { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] },
      );
      await eventually(() => watch.updates.at(-1)?.instances.length === 1, 20_000, "victim registered");
      // A few renewals first, so a removal can only come from the kill.
      await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000));
      const killedAt = Date.now();
      child.kill("SIGKILL");
      await eventually(() => events(watch, "removed").includes("victim"), (TTL_SECONDS + 5) * 1000, "victim removed");
      const detectedMs = Date.now() - killedAt;
      console.log(`SIGKILLed instance removed after ${detectedMs} ms (TTL ${TTL_SECONDS} s)`);
      expect(detectedMs).toBeLessThanOrEqual(TTL_SECONDS * 1000 + 1000 + 500);
      expect(watch.updates.some((u) => u.event?.instance.heldUntil !== undefined)).toBe(false);
    } finally {
      child?.kill("SIGKILL");
      await watch.stop();
    }
  }, 60_000);

  it("holds instances whose leases expire in a store stall; re-registering agents cause no REMOVED/ADDED flap", async () => {
    const ids = ["a", "b", "c", "d", "e"];
    const agents: Agent[] = [];
    const watch = record(client, "stall");
    const registrations = new Map<string, number>();
    try {
      for (const id of ids) {
        agents.push(
          await startAgent({
            client,
            instance: { service: "stall", instanceId: id, address: "127.0.0.1", port: 9000 },
            ttlSeconds: TTL_SECONDS,
            onEvent: (event) => {
              if (event.type === "registered") registrations.set(id, (registrations.get(id) ?? 0) + 1);
            },
          }),
        );
      }
      await eventually(() => watch.updates.at(-1)?.instances.length === ids.length, 20_000, "all registered");

      etcd.pause();
      await new Promise((resolve) => setTimeout(resolve, 2 * TTL_SECONDS * 1000));
      etcd.resume();

      // Every lease expired (etcd revokes them on resume) and every agent registered again.
      await eventually(() => ids.every((id) => (registrations.get(id) ?? 0) >= 2), 30_000, "agents registered again", 100);
      await eventually(
        async () => {
          const listed = await client.registry.listInstances({ service: "stall", includeUnroutable: true });
          return listed.instances.length === ids.length && listed.instances.every((i) => i.heldUntil === undefined);
        },
        20_000,
        "holds replaced by the new registrations",
        200,
      );

      const held = watch.updates.filter((u) => u.event?.kind === "updated" && u.event.instance.heldUntil !== undefined);
      expect(events(watch, "removed")).toEqual([]);
      expect(held.length).toBeGreaterThan(0);
      expect(events(watch, "added").sort()).toEqual(ids);
      expect(watch.updates.at(-1)!.instances.map((i) => i.instanceId)).toEqual(ids);
      const metrics = await (await fetch(`http://${server.httpAddress}/metrics`)).text();
      expect(metrics).toContain("switchboard_registry_held_instances");
    } finally {
      await Promise.all(agents.map((agent) => agent.stop()));
      await watch.stop();
    }
  }, 120_000);

  it("holds the expiries of a burst without any failed store ping; registering them again causes no flap", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `b${i}`);
    const watch = record(client, "burst");
    const register = (instanceId: string) =>
      client.registry.register({ instance: { service: "burst", instanceId, address: "127.0.0.1", port: 9000 }, ttlSeconds: 2 });
    try {
      await eventually(() => watch.updates.length > 0, 20_000, "snapshot");
      // Registered together and never renewed: etcd's lessor expires them within a tick or two of each other.
      await Promise.all(ids.map(register));
      await eventually(() => watch.updates.at(-1)?.instances.length === ids.length, 20_000, "all registered");
      const heldIds = () =>
        new Set(
          watch.updates
            .filter((u) => u.event?.kind === "updated" && u.event.instance.heldUntil !== undefined)
            .map((u) => u.event!.instance.instanceId),
        );
      await eventually(
        () => heldIds().size + events(watch, "removed").length === ids.length,
        30_000,
        "every lease expired (held or removed)",
        100,
      );
      const removed = events(watch, "removed");
      expect(removed.length).toBeLessThanOrEqual(BURST_MIN_DELETIONS - 1);
      const held = [...heldIds()];
      expect(held.length).toBeGreaterThanOrEqual(ids.length - (BURST_MIN_DELETIONS - 1));
      await Promise.all(held.map(register));
      await eventually(
        async () => {
          const listed = await client.registry.listInstances({ service: "burst", includeUnroutable: true });
          return listed.instances.length === held.length && listed.instances.every((i) => i.heldUntil === undefined);
        },
        20_000,
        "holds replaced by the new registrations",
        200,
      );
      // The held ones were never removed nor added a second time.
      expect(events(watch, "removed").filter((id) => held.includes(id))).toEqual([]);
      expect(
        events(watch, "added")
          .filter((id) => held.includes(id))
          .sort(),
      ).toEqual([...held].sort());
    } finally {
      await watch.stop();
    }
  }, 120_000);
});
