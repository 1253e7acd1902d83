/**
 * `switchboard serve` as a user runs it: start failures print one line naming
 * the cause and the flag to change (exit 1, nothing reported as serving, no
 * stack trace unless --log-level debug), and a SIGTERM sent to the whole
 * process group under `npm start` (npm forwards its copy) shuts down gracefully.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, runSwitchboard } from "./support/cli.js";
import type { CliResult } from "./support/cli.js";
import { eventually } from "./support/eventually.js";
import { startTestServer } from "./support/server.js";

let dir: string;
let held: Server;
let heldPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "switchboard-cli-serve-"));
  held = createServer();
  await new Promise<void>((resolve) => held.listen(0, "127.0.0.1", resolve));
  heldPort = (held.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (held ? held.close(() => resolve()) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** One line on stderr; the JSON log on stdout never said serving and has no stack trace. */
function expectStartFailure(result: CliResult, line: string): void {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 1, stderr: `switchboard serve: ${line}\n` });
  expect(result.stdout).not.toContain("health: serving");
  expect(result.stdout).not.toContain("switchboard serving");
  expect(result.stdout).not.toContain('"stack"');
  expect(result.stdout).toContain(`"msg":"switchboard failed to start: ${line}"`);
}

describe("switchboard serve: start failures", () => {
  it("gRPC or HTTP port in use: names the address and the flag", async () => {
    const grpc = await runSwitchboard([
      "serve",
      "--listen",
      `127.0.0.1:${heldPort}`,
      "--http-listen",
      "127.0.0.1:0",
      "--data-dir",
      join(dir, "a"),
    ]);
    expectStartFailure(
      grpc,
      `cannot listen for gRPC on 127.0.0.1:${heldPort}: the port is already in use by another process; change --listen (SWITCHBOARD_LISTEN)`,
    );
    const http = await runSwitchboard([
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--http-listen",
      `127.0.0.1:${heldPort}`,
      "--data-dir",
      join(dir, "a"),
    ]);
    expectStartFailure(
      http,
      `cannot listen for HTTP on 127.0.0.1:${heldPort}: the port is already in use by another process; change --http-listen (SWITCHBOARD_HTTP_LISTEN)`,
    );
  }, 120_000);

  it("shows the stack trace with --log-level debug", async () => {
    const result = await runSwitchboard([
      "serve",
      "--listen",
      `127.0.0.1:${heldPort}`,
      "--http-listen",
      "127.0.0.1:0",
      "--data-dir",
      join(dir, "a"),
      "--log-level",
      "debug",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n")).toHaveLength(2);
    expect(result.stdout).toContain('"stack"');
  }, 60_000);

  it("data directory locked by another process", async () => {
    const dataDir = join(dir, "locked");
    const running = await startTestServer({ dataDir });
    try {
      const result = await runSwitchboard([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--http-listen",
        "127.0.0.1:0",
        "--data-dir",
        dataDir,
      ]);
      expectStartFailure(
        result,
        `data directory ${dataDir} is in use by another switchboard (process ${process.pid}); the embedded store is for one process; change --data-dir (SWITCHBOARD_DATA_DIR)`,
      );
    } finally {
      await running.close();
    }
  }, 60_000);

  it("store unreachable: etcd not answering within the startup timeout (30 s)", async () => {
    const port = await closedPort();
    const result = await runSwitchboard(
      ["serve", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--etcd-endpoints", `127.0.0.1:${port}`],
      {
        timeoutMs: 110_000,
      },
    );
    expectStartFailure(
      result,
      `could not reach etcd at http://127.0.0.1:${port} within 30 s; is etcd running there?; change --etcd-endpoints (SWITCHBOARD_ETCD_ENDPOINTS)`,
    );
  }, 120_000);
});

/** Starts `command` as the leader of a new process group; collects its output. */
function startGroup(command: string, args: string[], cwd: string) {
  const child = spawn(command, args, { cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is gone already.
    }
  };
  const onExit = () => killGroup("SIGKILL");
  process.once("exit", onExit);
  void exited.then(() => process.off("exit", onExit));
  return { output: () => output, exited, killGroup };
}

describe("switchboard serve: SIGTERM to the process group under a forwarding parent (npm start)", () => {
  const serveArgs = (dataDir: string) => [
    "serve",
    "--listen",
    "127.0.0.1:0",
    "--http-listen",
    "127.0.0.1:0",
    "--data-dir",
    dataDir,
  ];

  it("a parent that forwards the signal (as npm does): graceful shutdown, exit 0", async () => {
    // What npm's run-script does: spawn the script in the same process group and forward SIGTERM/SIGINT to it.
    const forwarder = join(dir, "forwarder.mjs");
    await writeFile(
      forwarder,
      [
        'import { spawn } from "node:child_process";',
        "const [command, ...args] = JSON.parse(process.argv[2]);",
        'const child = spawn(command, args, { stdio: "inherit" });',
        'for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => child.kill(signal));',
        'child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));',
      ].join("\n"),
    );
    const serve = [process.execPath, "--import", "tsx", "src/cli/main.ts", ...serveArgs(join(dir, "forwarded"))];
    const group = startGroup(process.execPath, [forwarder, JSON.stringify(serve)], REPO_ROOT);
    try {
      await eventually(() => group.output().includes('"msg":"switchboard serving"'), 60_000, "switchboard serving");
      group.killGroup("SIGTERM");
      expect(await group.exited).toEqual({ code: 0, signal: null });
      expect(group.output()).toContain('"msg":"shutdown: complete"');
      // The copy is logged as "same signal again" unless the kernel merged it with the first (both pending at once).
      expect(group.output()).not.toContain("second signal, exiting now");
    } finally {
      group.killGroup("SIGKILL");
    }
  }, 90_000);

  it("real npm start: graceful shutdown, no forced exit", async () => {
    // A package whose start script runs this checkout's CLI, as the repository's own `npm start` does (minus the build).
    const project = join(dir, "npm-project");
    await rm(project, { recursive: true, force: true });
    await import("node:fs/promises").then(({ mkdir }) => mkdir(project));
    const tsx = import.meta.resolve("tsx");
    const main = join(REPO_ROOT, "src/cli/main.ts");
    await writeFile(
      join(project, "package.json"),
      JSON.stringify({
        name: "serve-under-npm",
        private: true,
        scripts: { start: `exec "${process.execPath}" --import ${tsx} "${main}"` },
      }),
    );
    const group = startGroup("npm", ["start", "--silent", "--", ...serveArgs(join(dir, "npm-data"))], project);
    try {
      await eventually(() => group.output().includes('"msg":"switchboard serving"'), 60_000, "switchboard serving");
      group.killGroup("SIGTERM");
      await group.exited;
      // npm exits 0 after forwarding, or dies of the signal itself; either way the server finishes its shutdown.
      await eventually(() => group.output().includes('"msg":"shutdown: complete"'), 30_000, "shutdown: complete");
      expect(group.output()).not.toContain("second signal, exiting now");
    } finally {
      group.killGroup("SIGKILL");
    }
  }, 90_000);
});
