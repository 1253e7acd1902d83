/**
 * Failure detection with real processes: an instance process that is
 * SIGKILLed disappears from a watcher within TTL + 1.5 s, while instances
 * that keep heartbeating (unary Heartbeat and the KeepAlive stream) are never
 * removed over several TTLs. On etcd and on the embedded store.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createChannel, createClient } from "nice-grpc";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryServiceDefinition } from "../generated/switchboard/registry/v1/registry.js";
import { createEmbeddedStore, createEtcdStore } from "../src/store/index.js";
import type { Store } from "../src/store/index.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { startRegistryServer } from "./support/registry-server.js";
import { recordWatch } from "./support/registry-watch.js";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const TTL_SECONDS = 2;
const logger = pino({ level: "silent" });
const etcdBinary = requireEtcd();
let etcd: EtcdServer | undefined;

beforeAll(async () => {
  if (etcdBinary) etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
});

interface InstanceProcess {
  child: ChildProcess;
  exited: Promise<void>;
  registered: Promise<{ revision: string; leaseId: string }>;
}

const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function startInstance(address: string, service: string, id: string, mode: "heartbeat" | "keepalive"): InstanceProcess {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/fixtures/registry-instance.ts", address, service, id, String(TTL_SECONDS), mode],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => children.delete(child));
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const registered = new Promise<{ revision: string; leaseId: string }>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.includes('"registered"'));
      if (line) resolve(JSON.parse(line) as { revision: string; leaseId: string });
    });
    void exited.then(() => reject(new Error(`instance ${id} exited before registering: ${stderr}`)));
  });
  return { child, exited, registered };
}

const backends = [
  { name: "etcd", skip: !etcdBinary, open: async (): Promise<Store> => createEtcdStore({ endpoints: etcd!.endpoints, logger }) },
  { name: "embedded", skip: false, open: (): Promise<Store> => createEmbeddedStore({ logger }) },
];

describe.each(backends)("failure detection on the $name store", ({ skip, open }) => {
  it.skipIf(skip)(
    `removes a SIGKILLed instance within TTL + 1.5 s and never a heartbeating one (TTL ${TTL_SECONDS} s)`,
    async () => {
      const store = await open();
      const server = await startRegistryServer({
        store,
        prefix: `/reg-failure-${process.pid}/`,
        registry: { bookmarkIntervalMs: 500 },
      });
      const channel = createChannel(server.address);
      const client = createClient(RegistryServiceDefinition, channel);
      const instances: InstanceProcess[] = [];
      try {
        const watch = recordWatch(client, { service: "svc" });
        await watch.until(() => watch.messages.length > 0);
        const victim = startInstance(server.address, "svc", "victim", "heartbeat");
        const unary = startInstance(server.address, "svc", "unary", "heartbeat");
        const streaming = startInstance(server.address, "svc", "stream", "keepalive");
        instances.push(victim, unary, streaming);
        await Promise.all(instances.map((i) => i.registered));
        await watch.until(() => watch.state.size === 3, 10_000, "three instances");
        // Let the victim heartbeat a few times first, so a removal can only come from the kill.
        await new Promise((resolve) => setTimeout(resolve, TTL_SECONDS * 1000));
        expect(watch.state.has("default/svc/victim")).toBe(true);

        const killedAt = Date.now();
        victim.child.kill("SIGKILL");
        await watch.until(() => !watch.state.has("default/svc/victim"), (TTL_SECONDS + 3) * 1000, "victim removed");
        const detectedMs = Date.now() - killedAt;
        expect(detectedMs).toBeLessThanOrEqual(TTL_SECONDS * 1000 + 1500);

        // The others keep heartbeating for several TTLs and are never removed.
        // (they have been alive for about 3 TTLs by now; 2 more)
        await new Promise((resolve) => setTimeout(resolve, 2 * TTL_SECONDS * 1000));
        expect([...watch.state.keys()].sort()).toEqual(["default/svc/stream", "default/svc/unary"]);
        expect(watch.eventLog().filter((e) => e.startsWith("REMOVED"))).toEqual([expect.stringMatching(/^REMOVED victim@/)]);
        expect(watch.violations).toEqual([]);
        const listed = await client.listInstances({ service: "svc" });
        expect(listed.instances.map((i) => i.instanceId)).toEqual(["stream", "unary"]);
        watch.close();
      } finally {
        for (const instance of instances) instance.child.kill("SIGKILL");
        await Promise.all(instances.map((i) => i.exited));
        channel.close();
        await server.close();
        await store.close();
      }
    },
    40_000,
  );
});
