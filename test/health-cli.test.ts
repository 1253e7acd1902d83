import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthStatus } from "../generated/switchboard/health/v1/check.js";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";
import { eventually, startHttpEndpoint } from "./health-fixtures.js";

function sink() {
  let text = "";
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

async function cli(args: string[]) {
  const stdout = sink();
  const stderr = sink();
  const code = await runCli(args, COMMANDS, { env: {}, stdout: stdout.stream, stderr: stderr.stream });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe("switchboard health (embedded store)", () => {
  let server: TestServer;
  let client: SwitchboardClient;
  let good: Awaited<ReturnType<typeof startHttpEndpoint>>;
  let bad: Awaited<ReturnType<typeof startHttpEndpoint>>;

  beforeAll(async () => {
    server = await startTestServer();
    client = createSwitchboardClient({ address: server.grpcAddress });
    good = await startHttpEndpoint();
    bad = await startHttpEndpoint();
    bad.set("503");
    const check = (path: string) => [{ target: { $case: "http" as const, value: { path } }, intervalMs: 1_000 }];
    await client.registry.register({
      instance: { service: "api", instanceId: "api-1", address: "127.0.0.1", port: good.port, healthChecks: check("/health") },
      ttlSeconds: 60,
    });
    await client.registry.register({
      instance: { service: "api", instanceId: "api-2", address: "127.0.0.1", port: bad.port, healthChecks: check("/health") },
      ttlSeconds: 60,
    });
    await client.registry.register({
      instance: { service: "api", instanceId: "api-3", address: "127.0.0.1", port: good.port, healthChecks: [] },
      ttlSeconds: 60,
    });
    await eventually(
      async () => {
        const { instances } = await client.health.getHealth({ service: "api" });
        return (
          instances[0]?.status === HealthStatus.HEALTH_STATUS_HEALTHY &&
          instances[1]?.status === HealthStatus.HEALTH_STATUS_UNHEALTHY
        );
      },
      8_000,
      "api-1 healthy and api-2 unhealthy",
    );
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    await good?.close();
    await bad?.close();
  });

  it("prints a table of status, time since the last status change, checker and output", async () => {
    const { instances } = await client.health.getHealth({ service: "api" });
    const changed = instances[1]!.lastTransitionAt!.getTime();
    const before = Math.floor((Date.now() - changed) / 1000);
    const { code, stdout } = await cli(["health", "api", "--address", server.grpcAddress]);
    const after = Math.floor((Date.now() - changed) / 1000);
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^INSTANCE\s+STATUS\s+SINCE\s+CHECKED BY\s+OUTPUT$/);
    // SINCE is the age of last_transition_at, which every replica knows alike (not of a probe only the checker knows).
    const since = Number(/^api-2\s+UNHEALTHY\s+(\d+)s ago/.exec(lines[2]!)?.[1]);
    expect(since).toBeGreaterThanOrEqual(before);
    expect(since).toBeLessThanOrEqual(after);
    expect(lines[1]).toMatch(new RegExp(`^api-1\\s+HEALTHY\\s+\\d+s ago\\s+${server.replicaId}\\s+http: HTTP 200: ok$`));
    expect(lines[2]).toMatch(
      new RegExp(`^api-2\\s+UNHEALTHY\\s+\\d+s ago\\s+${server.replicaId}\\s+http: HTTP 503: service unavailable$`),
    );
    // No checks: nothing decides, nobody checks.
    expect(lines[3]).toMatch(/^api-3\s+-\s+-\s+-\s+-$/);
    expect(lines).toHaveLength(4);
  });

  it("--json prints GetHealthResponse as proto JSON; -i narrows to one instance", async () => {
    const { code, stdout } = await cli(["health", "api", "-i", "api-2", "--json", "--address", server.grpcAddress]);
    expect(code).toBe(0);
    const document = JSON.parse(stdout);
    expect(document.instances).toHaveLength(1);
    expect(document.instances[0]).toMatchObject({
      instanceId: "api-2",
      status: "HEALTH_STATUS_UNHEALTHY",
      checkedBy: server.replicaId,
      checks: [{ name: "http", status: "HEALTH_STATUS_UNHEALTHY", output: "HTTP 503: service unavailable" }],
    });
    expect(document.instances[0].checks[0].consecutiveFailures).toBeGreaterThanOrEqual(3);
    expect(Number(document.revision)).toBeGreaterThan(0);
  });

  it("says so when the service has no instances, fails on an unknown instance, rejects bad usage", async () => {
    expect(await cli(["health", "nothing-here", "--address", server.grpcAddress])).toMatchObject({
      code: 0,
      stdout: "no instances of default/nothing-here\n",
    });
    const missing = await cli(["health", "api", "-i", "nope", "--address", server.grpcAddress]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("instance default/api/nope not found");
    const usage = await cli(["health"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("expected exactly one SERVICE");
  });
});
