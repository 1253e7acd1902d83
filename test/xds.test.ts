/**
 * Proxyless xDS from other languages, against a real server on a real etcd:
 * three instances of "payments" (Echo servers in their own processes,
 * weights 100/200/300) and clients that know nothing of Switchboard but the
 * GRPC_XDS_BOOTSTRAP file `switchboard xds-bootstrap` prints:
 * - Node: @grpc/grpc-js + @grpc/grpc-js-xds (test/fixtures/xds-client.ts, a
 *   child process so the xds resolver never registers in this one);
 * - Python: Debian's python3-grpcio (test/fixtures/xds_client.py).
 */
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { HealthStatus, InstanceState, createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { eventually } from "./support/eventually.js";
import { type LineChild, startLineChild } from "./support/line-child.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const PYTHON = "/usr/bin/python3"; // Debian's: the pyenv python3 on PATH cannot see apt packages
const SERVICE = "payments";
const WEIGHTS = { a: 100, b: 200, c: 300 } as const;
type Name = keyof typeof WEIGHTS;

interface Counts {
  counts: Record<string, number>;
  failures: number;
  errors: string[];
}

const etcdBinary = requireEtcd();

function pythonReady(): boolean {
  try {
    accessSync(PYTHON, constants.X_OK);
    return true;
  } catch {
    if (process.env.CI)
      throw new Error(
        `${PYTHON} missing: apt-get install -y python3-grpcio. CI is set, so the xDS Python test must not be skipped.`,
      );
    console.warn(`SKIPPING the xDS Python client: ${PYTHON} missing`);
    return false;
  }
}

describe.skipIf(!etcdBinary)("xDS: proxyless gRPC clients resolve xds:///payments", () => {
  let etcd: EtcdServer;
  let server: TestServer;
  let client: SwitchboardClient;
  let dir: string;
  let bootstrapFile: string;
  const backends = new Map<Name, LineChild & { port: number }>();
  const clients: LineChild[] = [];

  async function startBackend(name: Name): Promise<void> {
    const child = startLineChild(
      process.execPath,
      ["--import", "tsx", "test/fixtures/xds-backend.ts", server.grpcAddress, SERVICE, name, String(WEIGHTS[name])],
      { cwd: REPO_ROOT, env: process.env },
    );
    // The backend prints its line unasked: "ask" with an empty command reads it.
    const { port } = await child.ask<{ port: number }>("", 60_000);
    backends.set(name, { ...child, port });
  }

  function startNodeClient(): LineChild {
    const child = startLineChild(process.execPath, ["--import", "tsx", "test/fixtures/xds-client.ts", `xds:///${SERVICE}`], {
      cwd: REPO_ROOT,
      env: { ...process.env, GRPC_XDS_BOOTSTRAP: bootstrapFile },
    });
    clients.push(child);
    return child;
  }

  function setState(name: Name, state: InstanceState) {
    return client.registry.updateInstance({ namespace: "default", service: SERVICE, instanceId: name, state });
  }

  /** Calls in rounds of `round` until `check` holds on one round's counts; returns the rounds' counts. */
  async function callUntil(child: LineChild, round: number, check: (result: Counts) => boolean, what: string): Promise<Counts> {
    let last: Counts | undefined;
    await eventually(
      async () => {
        last = await child.ask<Counts>(`calls ${round}`);
        return check(last);
      },
      30_000,
      `${what} (last round: ${JSON.stringify(last)})`,
      100,
    );
    return last!;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "switchboard-xds-"));
    etcd = await startEtcd();
    server = await startTestServer({ etcdEndpoints: etcd.endpoints });
    client = createSwitchboardClient({ address: server.grpcAddress });
    const stdout = new PassThrough();
    let printed = "";
    stdout.on("data", (chunk: Buffer) => (printed += chunk.toString("utf8")));
    const code = await runCli(["xds-bootstrap", "--address", server.grpcAddress, "--node-id", "xds-test"], COMMANDS, {
      env: {},
      stdout,
      stderr: new PassThrough(),
    });
    expect(code).toBe(0);
    bootstrapFile = join(dir, "bootstrap.json");
    await writeFile(bootstrapFile, printed);
    await Promise.all((Object.keys(WEIGHTS) as Name[]).map(startBackend));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.stop()));
    await Promise.all([...backends.values()].map((b) => b.stop()));
    client?.close();
    await server?.close();
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("xds-bootstrap prints the server URI, plaintext credentials and the namespace in the node metadata", async () => {
    const { readFile } = await import("node:fs/promises");
    const bootstrap = JSON.parse(await readFile(bootstrapFile, "utf8"));
    expect(bootstrap).toEqual({
      xds_servers: [{ server_uri: server.grpcAddress, channel_creds: [{ type: "insecure" }], server_features: ["xds_v3"] }],
      node: { id: "xds-test", cluster: "", locality: {}, metadata: { SWITCHBOARD_NAMESPACE: "default" } },
    });
  });

  it("Node (grpc-js-xds): calls spread by weight; DRAINING gets none; UNHEALTHY leaves and returns; SIGKILL loses no call after the removal", async () => {
    const node = startNodeClient();
    // Until every locality is connected, weighted_target picks among the ready ones only.
    await callUntil(
      node,
      30,
      (r) => r.failures === 0 && ["a", "b", "c"].every((n) => (r.counts[n] ?? 0) > 0),
      "all three instances answer",
    );

    const spread = await node.ask<Counts>("calls 600");
    expect(spread.failures).toBe(0);
    const total = 600;
    for (const name of ["a", "b", "c"] as const) {
      const expected = (total * WEIGHTS[name]) / 600;
      // Weighted random over localities: ±40% is more than 4 standard deviations for each.
      expect(spread.counts[name], `calls to ${name} in ${JSON.stringify(spread.counts)}`).toBeGreaterThan(expected * 0.6);
      expect(spread.counts[name], `calls to ${name} in ${JSON.stringify(spread.counts)}`).toBeLessThan(expected * 1.4);
    }

    // DRAINING: once the change reached the client, no new call goes to c.
    await setState("c", InstanceState.INSTANCE_STATE_DRAINING);
    await callUntil(node, 30, (r) => r.counts.c === undefined, "DRAINING c gets no calls");
    const drained = await node.ask<Counts>("calls 200");
    expect(drained.failures).toBe(0);
    expect(drained.counts.c).toBeUndefined();
    await setState("c", InstanceState.INSTANCE_STATE_UP);
    await callUntil(node, 30, (r) => (r.counts.c ?? 0) > 0, "c back after UP");

    // UNHEALTHY (1 of 3 UP: below the protection threshold): b leaves routing, then returns.
    await client.health.reportHealth({
      namespace: "default",
      service: SERVICE,
      instanceId: "b",
      status: HealthStatus.HEALTH_STATUS_UNHEALTHY,
      output: "test",
    });
    await callUntil(node, 30, (r) => r.counts.b === undefined, "UNHEALTHY b gets no calls");
    const withoutB = await node.ask<Counts>("calls 200");
    expect(withoutB.failures).toBe(0);
    expect(withoutB.counts.b).toBeUndefined();
    await client.health.reportHealth({
      namespace: "default",
      service: SERVICE,
      instanceId: "b",
      status: HealthStatus.HEALTH_STATUS_HEALTHY,
      output: "test",
    });
    await callUntil(node, 30, (r) => (r.counts.b ?? 0) > 0 && r.failures === 0, "b back after HEALTHY");

    // SIGKILL a while calling continuously; the lease expiry removes it.
    const removal = new AbortController();
    const removedAt = (async () => {
      for await (const message of client.registry.watch({ namespace: "default", service: SERVICE }, { signal: removal.signal })) {
        const event = message.kind?.$case === "event" ? message.kind.value : undefined;
        if (event?.instance?.instanceId === "a" && event.type === 3 /* REMOVED */) return Date.now();
      }
      throw new Error("watch ended before a was removed");
    })();
    await node.ask("start");
    process.kill(backends.get("a")!.pid, "SIGKILL");
    const removed = await removedAt;
    removal.abort();
    // Keep calling for a while after the removal.
    await eventually(() => Date.now() - removed > 1_500, 10_000, "calls after the removal", 100);
    const { calls } = await node.ask<{ calls: Array<{ startedAt: number; server?: string; error?: string }> }>("stop");
    const after = calls.filter((c) => c.startedAt > removed);
    const failedAfter = after.filter((c) => c.error !== undefined);
    const failedBefore = calls.filter((c) => c.startedAt <= removed && c.error !== undefined);
    console.log(
      `SIGKILL of a: ${calls.length} calls, ${failedBefore.length} failed before the removal, ${after.length} after it`,
    );
    expect(failedAfter, JSON.stringify(failedAfter.slice(0, 3))).toEqual([]);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((c) => c.server === "b" || c.server === "c")).toBe(true);
    await node.stop();
  }, 180_000);

  it.skipIf(!pythonReady())(
    "Python (python3-grpcio, bootstrap only) resolves xds:///payments, calls it and follows a removal",
    async () => {
      const python = startLineChild(PYTHON, ["test/fixtures/xds_client.py", `xds:///${SERVICE}`], {
        cwd: REPO_ROOT,
        env: { ...process.env, GRPC_XDS_BOOTSTRAP: bootstrapFile, PYTHONDONTWRITEBYTECODE: "1" },
      });
      clients.push(python);
      await callUntil(
        python,
        20,
        (r) => r.failures === 0 && (r.counts.b ?? 0) > 0 && (r.counts.c ?? 0) > 0,
        "Python reaches b and c",
      );
      await client.registry.deregister({ namespace: "default", service: SERVICE, instanceId: "c" });
      await callUntil(python, 20, (r) => r.counts.c === undefined, "Python stops calling the removed c");
      const afterRemoval = await python.ask<Counts>("calls 50");
      expect(afterRemoval.failures).toBe(0);
      expect(afterRemoval.counts.c).toBeUndefined();
      expect(afterRemoval.counts.b).toBeGreaterThan(0);
      await python.stop();
    },
    120_000,
  );
});
