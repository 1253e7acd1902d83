/**
 * Connection liveness of the gRPC port (src/server/connection-options.ts):
 * - a client process frozen with SIGSTOP loses all its Watch streams on the
 *   server within keepalive time + timeout (switchboard_registry_watch_streams drops);
 * - clients that ping (grpcio with keepalive and permit-without-calls, the SDK)
 *   stay connected while idle: no GOAWAY too_many_pings, no stream interrupted;
 * - max connection age ends connections, and the SDK's watch resumes on a new
 *   one with no gap and no duplicate while its agent keeps its lease.
 */
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createSwitchboardClient, watchService } from "@switchboard/client";
import { startAgent } from "./support/start-agent.js";
import type { WatchUpdate } from "@switchboard/client";
import { eventually } from "./support/eventually.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const PYTHON = "/usr/bin/python3";
const children = new Set<ChildProcess>();
/**
 * Idle time of the ping-policy tests. The suite uses 6 s with 1 s client pings;
 * the soak (documented opt-in, not in the suite) is
 * `SWITCHBOARD_TEST_KEEPALIVE_SOAK_S=600 npx vitest run test/server-keepalive.test.ts -t "ping"`:
 * ten minutes idle with the clients' usual settings (SDK 30 s, grpcio 10 s).
 */
const SOAK_S = Number(process.env.SWITCHBOARD_TEST_KEEPALIVE_SOAK_S ?? 0);
const IDLE_MS = SOAK_S > 0 ? SOAK_S * 1000 : 6_000;
const SDK_PING_MS = SOAK_S > 0 ? 30_000 : 1_000;
const PYTHON_PING_MS = SOAK_S > 0 ? 10_000 : 1_000;
const LONG = IDLE_MS + 60_000;
const servers: TestServer[] = [];

afterEach(async () => {
  for (const child of children) {
    child.kill("SIGCONT");
    child.kill("SIGKILL");
  }
  children.clear();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function watchStreamGauge(server: TestServer): Promise<number> {
  const text = await (await fetch(`http://${server.httpAddress}/metrics`)).text();
  const match = /^switchboard_registry_watch_streams (\d+)/m.exec(text);
  if (!match) throw new Error("switchboard_registry_watch_streams missing from /metrics");
  return Number(match[1]);
}

/** Spawns test/fixtures/watch-streams.ts and resolves once all its streams have their snapshot. */
async function spawnWatchers(address: string, streams: number, connections: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/fixtures/watch-streams.ts", address, "frozen", String(streams), String(connections)],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`watchers not ready within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`{"ready":${streams}}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`watchers exited (${code}):\n${output}`));
    });
  });
  return child;
}

describe("server keepalive", () => {
  it("ends every stream of a client frozen with SIGSTOP within keepalive time + timeout", async () => {
    const server = await startTestServer({ connection: { keepaliveTimeMs: 1_000, keepaliveTimeoutMs: 1_000 } });
    servers.push(server);
    const child = await spawnWatchers(server.grpcAddress, 20, 4);
    expect(await watchStreamGauge(server)).toBe(20);

    child.kill("SIGSTOP");
    // time + timeout = 2 s; the margin is for a loaded 2-core machine, not part of the property.
    const tookMs = await eventually(
      async () => (await watchStreamGauge(server)) === 0,
      2_000 + 4_000,
      "watch streams released",
      100,
    );
    console.log(`frozen client's 20 streams released after ${tookMs} ms (keepalive 1 s + 1 s)`);
  }, 60_000);

  it("keeps the streams of a frozen client without keepalive (the control)", async () => {
    const server = await startTestServer({ connection: { keepaliveTimeMs: 0 } });
    servers.push(server);
    const child = await spawnWatchers(server.grpcAddress, 5, 1);
    child.kill("SIGSTOP");
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await watchStreamGauge(server)).toBe(5);
  }, 60_000);

  it(
    "ping policy: never interrupts an idle SDK watch that pings the server",
    async () => {
      const server = await startTestServer({
        connection: { keepaliveTimeMs: 1_000, keepaliveTimeoutMs: 1_000 },
        registry: { bookmarkIntervalMs: 3_600_000 },
      });
      servers.push(server);
      // Pings far more often than the SDK's default 30 s, with and without calls.
      const client = createSwitchboardClient({
        address: server.grpcAddress,
        channelOptions: { "grpc.keepalive_time_ms": SDK_PING_MS, "grpc.keepalive_permit_without_calls": 1 },
      });
      const retries: unknown[] = [];
      const abort = new AbortController();
      const updates: WatchUpdate[] = [];
      const watching = (async () => {
        for await (const update of watchService(
          client,
          { service: "idle", onRetry: (error) => retries.push(error) },
          abort.signal,
        )) {
          updates.push(update);
        }
      })();
      try {
        await eventually(() => updates.length > 0, 10_000, "snapshot");
        await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
        expect(retries).toEqual([]);
        expect(await watchStreamGauge(server)).toBe(1);
        await client.registry.listInstances({ service: "idle" });
      } finally {
        abort.abort();
        await watching;
        client.close();
      }
    },
    LONG,
  );
});

function pythonTooling(): boolean {
  const missing = [PYTHON, "/usr/bin/protoc", "/usr/bin/grpc_python_plugin"].filter((file) => {
    try {
      accessSync(file, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(", ")}: apt-get install -y python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc`;
  if (process.env.CI) throw new Error(`${message}. CI is set, so the Python keepalive test must not be skipped.`);
  console.warn(`SKIPPING the Python keepalive test: ${message}.`);
  return false;
}

describe.skipIf(!pythonTooling())("ping policy with a grpcio client", () => {
  let stubs: string | undefined;
  afterAll(async () => {
    if (stubs) await rm(stubs, { recursive: true, force: true });
  });

  it(
    "ping policy: accepts a grpcio client's keepalive pings without calls: no too_many_pings",
    async () => {
      stubs = await mkdtemp(join(tmpdir(), "switchboard-python-"));
      await run("npx", ["buf", "generate", "--template", "examples/python/buf.gen.yaml", "-o", stubs], { cwd: REPO_ROOT });
      const server = await startTestServer({
        connection: { keepaliveTimeMs: 1_000, keepaliveTimeoutMs: 1_000 },
        registry: { bookmarkIntervalMs: 3_600_000 },
      });
      servers.push(server);
      // 1 s client pings with no data: stricter than the usual 10 s, so the usual settings pass too
      // (the 10 s / 10 min soak: SWITCHBOARD_TEST_KEEPALIVE_SOAK_S above).
      const { stdout } = await run(
        PYTHON,
        ["test/fixtures/keepalive_client.py", server.grpcAddress, String(PYTHON_PING_MS), String(IDLE_MS / 1000)],
        {
          cwd: REPO_ROOT,
          env: { ...process.env, PYTHONPATH: stubs, PYTHONDONTWRITEBYTECODE: "1", GRPC_VERBOSITY: "ERROR" },
          timeout: LONG,
        },
      ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`keepalive_client.py failed:\n${error.stdout ?? ""}\n${error.stderr ?? error.message}`);
      });
      expect(stdout.trim()).toBe("OK");
    },
    LONG + 30_000,
  );
});

describe("max connection age", () => {
  it("ends aged connections; the SDK watch resumes with no gap or duplicate and the agent keeps its lease", async () => {
    const server = await startTestServer({ connection: { maxConnectionAgeMs: 1_500, maxConnectionAgeGraceMs: 300 } });
    servers.push(server);
    const client = createSwitchboardClient({ address: server.grpcAddress });
    const agentClient = createSwitchboardClient({ address: server.grpcAddress });
    const agent = await startAgent({
      client: agentClient,
      instance: { service: "aged", instanceId: "agent", address: "127.0.0.1", port: 9000 },
      ttlSeconds: 2,
    });
    const retries: unknown[] = [];
    const abort = new AbortController();
    const updates: WatchUpdate[] = [];
    const watching = (async () => {
      for await (const update of watchService(
        client,
        { service: "aged", onRetry: (error) => retries.push(error) },
        abort.signal,
      )) {
        updates.push(update);
      }
    })();
    try {
      await eventually(() => updates.length > 0, 10_000, "snapshot");
      const written: number[] = [];
      // Writes across several connection ages (1.5 s ± 10 % each): each must reach the watcher exactly once.
      for (let i = 0; i < 30; i++) {
        const { revision } = await client.registry.register({
          instance: { service: "aged", instanceId: `w${i}`, address: "127.0.0.1", port: 10_000 + i },
          ttlSeconds: 60,
        });
        written.push(Number(revision));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const last = written.at(-1)!;
      await eventually(() => (updates.at(-1)?.revision ?? 0) >= last, 15_000, "watcher caught up");

      const events = updates.filter((u) => u.type === "event");
      const added = events.filter((u) => u.event?.kind === "added" && u.event.instance.instanceId.startsWith("w"));
      expect(added.map((u) => u.revision)).toEqual(written);
      expect(events.filter((u) => u.event?.kind === "removed")).toEqual([]);
      expect(updates.filter((u) => u.type === "snapshot" && u.reset)).toEqual([]);
      const revisions = events.map((u) => u.revision);
      expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
      const listed = await client.registry.listInstances({ service: "aged" });
      expect(
        updates
          .at(-1)!
          .instances.map((i) => i.instanceId)
          .sort(),
      ).toEqual(listed.instances.map((i) => i.instanceId).sort());
      // The connections were in fact cut under the open watch (6 s of 1.5 s ages).
      expect(retries.length).toBeGreaterThanOrEqual(2);
    } finally {
      abort.abort();
      await watching;
      await agent.stop();
      client.close();
      agentClient.close();
    }
  }, 90_000);
});
