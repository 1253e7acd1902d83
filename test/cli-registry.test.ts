/**
 * The registry commands of the CLI against a real server (embedded store):
 * services, instances, watch, deregister in-process through runCli, and
 * register as a child process that keeps its instance alive until SIGINT.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { createSwitchboardClient, InstanceState } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

let server: TestServer;
let client: SwitchboardClient;

beforeAll(async () => {
  server = await startTestServer();
  client = createSwitchboardClient({ address: server.grpcAddress });
  const register = (namespace: string, service: string, instanceId: string, port: number) =>
    client.registry.register({
      instance: { namespace, service, instanceId, address: "127.0.0.1", port, metadata: { version: "1" }, tags: ["http"] },
      ttlSeconds: 60,
    });
  await register("shop", "orders", "o1", 8001);
  await register("shop", "orders", "o2", 8002);
  await register("shop", "payments", "p1", 9001);
  await client.registry.updateInstance({
    namespace: "shop",
    service: "orders",
    instanceId: "o2",
    state: InstanceState.INSTANCE_STATE_DRAINING,
  });
});

afterAll(async () => {
  client?.close();
  await server?.close();
});

/** Starts `switchboard ARGS` in this process against the test server; `output()` reads stdout so far. */
function startCli(argv: string[]): { output(): string; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const done = runCli(argv, COMMANDS, { env: { SWITCHBOARD_ADDRESS: server.grpcAddress }, stdout, stderr }).then((code) => ({
    code,
    stdout: out,
    stderr: err,
  }));
  return { output: () => out, done };
}

/** Runs `switchboard ARGS` in this process against the test server. */
function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return startCli(argv).done;
}

describe("switchboard services / instances / deregister", () => {
  it("services: a table, and --json with counts", async () => {
    const table = await cli("services", "-n", "shop");
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")).toEqual([
      "NAMESPACE  SERVICE   INSTANCES  ROUTABLE",
      "shop       orders    2          1",
      "shop       payments  1          1",
      "",
    ]);
    const json = await cli("services", "--json");
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { services: unknown[]; revision: string };
    expect(parsed.services).toEqual([
      { namespace: "shop", service: "orders", instanceCount: 2, routableCount: 1, drainingCount: 1 },
      { namespace: "shop", service: "payments", instanceCount: 1, routableCount: 1 },
    ]);
    expect(Number(parsed.revision)).toBeGreaterThan(0);
  });

  it("instances: routable ones by default, --all for every one, proto JSON with --json", async () => {
    const table = await cli("instances", "orders", "-n", "shop");
    expect(table.code).toBe(0);
    expect(table.stdout).toContain("INSTANCE  ADDRESS         STATE  HEALTH  WEIGHT  ZONE  TAGS  METADATA");
    expect(table.stdout).toContain("o1        127.0.0.1:8001  UP     -       100     -     http  version=1");
    expect(table.stdout).not.toContain("o2");

    const json = await cli("instances", "orders", "-n", "shop", "--all", "--json");
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { instances: Array<Record<string, unknown>>; revision: string };
    expect(parsed.instances.map((i) => [i.instanceId, i.state])).toEqual([
      ["o1", "INSTANCE_STATE_UP"],
      ["o2", "INSTANCE_STATE_DRAINING"],
    ]);
    expect(parsed.instances[0]).toMatchObject({
      namespace: "shop",
      service: "orders",
      address: "127.0.0.1",
      port: 8001,
      metadata: { version: "1" },
      tags: ["http"],
      ttlSeconds: 60,
    });

    const none = await cli("instances", "nothing", "-n", "shop");
    expect(none.stdout).toBe("no routable instances of shop/nothing\n");
  });

  it("deregister: removes at once; unknown instances and bad input fail with messages", async () => {
    await client.registry.register({
      instance: { namespace: "shop", service: "tmp", instanceId: "t1", address: "127.0.0.1", port: 7777 },
      ttlSeconds: 60,
    });
    const removed = await cli("deregister", "tmp", "t1", "-n", "shop", "--json");
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ namespace: "shop", service: "tmp", instanceId: "t1" });
    expect((await client.registry.listInstances({ namespace: "shop", service: "tmp" })).instances).toEqual([]);

    const unknown = await cli("deregister", "tmp", "t1", "-n", "shop");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^switchboard deregister: .*not found/);

    const invalid = await cli("instances", "Not_A_Name");
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/service/);

    const usage = await cli("instances");
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("expected exactly one SERVICE");
  });
});

describe("switchboard watch", () => {
  it("prints a snapshot, then events, one JSON document per line", async () => {
    const watching = startCli(["watch", "orders", "-n", "shop", "--json", "--count", "3"]);
    // Change things once the snapshot is out.
    await expect.poll(() => watching.output().includes("\n"), { timeout: 15_000 }).toBe(true);
    const added = await client.registry.register({
      instance: { namespace: "shop", service: "orders", instanceId: "o3", address: "127.0.0.1", port: 8003 },
      ttlSeconds: 60,
    });
    const gone = await client.registry.deregister({ namespace: "shop", service: "orders", instanceId: "o3" });
    const { code, stdout } = await watching.done;
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ type: "snapshot", reset: false });
    expect((lines[0]!.instances as Array<{ instanceId: string }>).map((i) => i.instanceId)).toEqual(["o1"]);
    expect(lines[1]).toMatchObject({ type: "event", kind: "added", revision: Number(added.revision), instanceCount: 2 });
    expect(lines[1]!.instance).toMatchObject({ instanceId: "o3", port: 8003 });
    expect(lines[2]).toMatchObject({ type: "event", kind: "removed", revision: Number(gone.revision), instanceCount: 1 });
  });
});

describe("switchboard register", () => {
  it("keeps the instance alive past its TTL, and deregisters it on Ctrl-C", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/main.ts",
        "register",
        "api",
        "127.0.0.1:9999",
        "-n",
        "cli",
        "--id",
        "r1",
        "--ttl",
        "2",
        "-m",
        "v=2",
        "--json",
      ],
      { cwd: REPO_ROOT, env: { ...process.env, SWITCHBOARD_ADDRESS: server.grpcAddress }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await expect.poll(() => stdout.includes("\n"), { timeout: 20_000 }).toBe(true);
      const registered = JSON.parse(stdout.split("\n")[0]!) as Record<string, unknown>;
      expect(registered).toMatchObject({
        event: "registered",
        ttlSeconds: 2,
        instance: { instanceId: "r1", metadata: { v: "2" } },
      });

      // Three TTLs later it is still there: the command keeps the lease alive.
      await new Promise((resolve) => setTimeout(resolve, 6000));
      const alive = await client.registry.listInstances({ namespace: "cli", service: "api" });
      expect(alive.instances.map((i) => i.instanceId)).toEqual(["r1"]);

      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(
        stdout
          .trim()
          .split("\n")
          .map((l) => (JSON.parse(l) as { event: string }).event),
      ).toEqual(["registered", "deregistered"]);
      const after = await client.registry.listInstances({ namespace: "cli", service: "api" });
      expect(after.instances).toEqual([]);
      expect(stderr).toBe("");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 60_000);

  it("rejects bad arguments with exit code 2", async () => {
    const result = await cli("register", "api", "no-port");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("expected HOST:PORT");
  });
});
