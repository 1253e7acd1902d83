/**
 * The single executable (npm run build:binary), copied alone into an empty directory and run
 * with an environment whose PATH has no node and no node_modules anywhere near: it prints
 * its version, serves (embedded store), answers grpc.health.v1 through its own
 * `health-check` command, /healthz and reflection; its CLI sets config, registers (and
 * deregisters on SIGTERM), lists; it stops gracefully and finds its data again after a restart
 * with the same --data-dir.
 *
 * Builds the binary into a temporary directory (a few seconds) unless SWITCHBOARD_BINARY
 * names one (CI builds dist/switchboard first and tests that file).
 */
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { createChannel } from "nice-grpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSwitchboardClient } from "@switchboard/client";
import type { Instance } from "@switchboard/client";
import { prepareBinary } from "./support/binary.js";
import type { TestBinary } from "./support/binary.js";
import { createReflectionClient } from "./support/reflection-client.js";
import { spawnServer } from "./support/server.js";
import { eventually } from "./support/eventually.js";

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

describe("the switchboard single executable", () => {
  let binary: TestBinary;
  let exe: string;
  let dir: string;
  /** Nothing but the binary's own directory; PATH leads nowhere. */
  let env: Record<string, string>;

  beforeAll(async () => {
    binary = await prepareBinary({ entry: "src/cli/main.ts", name: "switchboard", env: "SWITCHBOARD_BINARY" });
    exe = await binary.copyToEmptyDir();
    dir = dirname(exe);
    env = { PATH: join(dir, "no-such-dir"), HOME: dir };
  }, 180_000);

  afterAll(async () => {
    await binary?.remove();
  });

  const cli = (args: string[]) => run(exe, args, { cwd: dir, env, timeout: 15_000 });
  const serve = (dataDir: string) =>
    spawnServer({ command: [exe], cwd: dir, cleanEnv: true, env, args: [`--data-dir=${dataDir}`] });

  it("prints its version with no node on PATH", async () => {
    const { stdout } = await cli(["--version"]);
    expect(stdout).toBe(`switchboard ${VERSION}\n`);
    await expect(run("node", ["--version"], { cwd: dir, env })).rejects.toThrow(/ENOENT/);
  });

  it("serves, answers health checks and reflection, registers and lists, and keeps its data across a restart", async () => {
    const dataDir = join(dir, "data");
    let server = await serve(dataDir);
    const instance = { service: "smoke", instanceId: "smoke-1", address: "127.0.0.1", port: 9100, owner: "binary-test" };
    let firstRevision: number;
    {
      const check = await cli(["health-check", "--address", server.grpcAddress]);
      expect(check.stdout).toBe(`${server.grpcAddress}: SERVING\n`);

      const healthz = await fetch(`http://${server.httpAddress}/healthz`);
      expect(healthz.status).toBe(200);

      // The dashboard is inside the binary (the directory holds nothing else), deep links too.
      const dashboard = await fetch(`http://${server.httpAddress}/services/default/smoke`);
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toMatch(/<title>Switchboard<\/title>[\s\S]*<script type="module">.{1000,}/);

      const channel = createChannel(server.grpcAddress);
      const client = createSwitchboardClient({ address: server.grpcAddress });
      try {
        const services = await createReflectionClient(channel, "v1alpha").listServices();
        expect(services).toEqual(
          expect.arrayContaining([
            "switchboard.registry.v1.RegistryService",
            "switchboard.config.v1.ConfigService",
            "switchboard.health.v1.HealthService",
            "grpc.health.v1.Health",
          ]),
        );

        const registered = await client.registry.register({ instance, ttlSeconds: 300 });
        firstRevision = Number(registered.revision);
        const address = `--address=${server.grpcAddress}`;
        await cli(["config", "set", "greeting", "hello", "-s", "smoke", address]);
        const listed = JSON.parse((await cli(["instances", "smoke", "--json", address])).stdout) as { instances: Instance[] };
        expect(listed.instances.map((i) => `${i.instanceId} ${i.address}:${i.port}`)).toEqual(["smoke-1 127.0.0.1:9100"]);

        // `register` keeps an instance alive until SIGTERM, then deregisters it.
        const registration = spawn(exe, ["register", "cli", "127.0.0.1:9200", "--id=cli-1", "--ttl=5", address], {
          cwd: dir,
          env,
        });
        const exited = new Promise<number | null>((resolve) => registration.once("exit", (code) => resolve(code)));
        const serviceNames = async () =>
          (
            JSON.parse((await cli(["services", "--json", address])).stdout) as { services: Array<{ service: string }> }
          ).services.map((x) => x.service);
        await eventually(async () => (await serviceNames()).includes("cli"), 10_000, "the CLI registration");
        registration.kill("SIGTERM");
        expect(await exited).toBe(0);
        expect(await serviceNames()).toEqual(["smoke"]);
      } finally {
        client.close();
        channel.close();
      }
    }
    expect(await server.stop()).toEqual({ code: 0, signal: null });

    server = await serve(dataDir);
    const client = createSwitchboardClient({ address: server.grpcAddress });
    try {
      const listed = await client.registry.listInstances({ service: "smoke" });
      expect(listed.instances.map((i) => i.instanceId)).toEqual(["smoke-1"]);
      expect(Number(listed.revision)).toBeGreaterThan(firstRevision);
      const value = await cli(["config", "get", "greeting", "-s", "smoke", `--address=${server.grpcAddress}`]);
      expect(value.stdout.trim()).toBe("hello");
      // Revisions continue from where they were, never restart.
      const again = await client.registry.register({ instance: { ...instance, port: 9101 }, ttlSeconds: 300 });
      expect(Number(again.revision)).toBeGreaterThan(Number(listed.revision));
    } finally {
      client.close();
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    }
  }, 60_000);
});
