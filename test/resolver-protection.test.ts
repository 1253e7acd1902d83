/**
 * The SDK's grpc-js resolver routes where the server says, protection included:
 * a real server (embedded store) runs real HTTP checks against three echo
 * instances; calls go through `switchboard:///echo`.
 */
import { createChannel, createClient } from "nice-grpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthStatus } from "../generated/switchboard/health/v1/check.js";
import { createSwitchboardClient, registerSwitchboardResolver } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { eventually, startHttpEndpoint } from "./health-fixtures.js";
import { EchoDefinition, startEchoServer } from "./support/echo-server.js";
import type { EchoServer } from "./support/echo-server.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

// Checks every second, one failed or passed probe decides: transitions within ~2 s of a change.
const CHECK = { intervalMs: 1_000, unhealthyThreshold: 1, healthyThreshold: 1 };
// First probe staggered up to one interval, plus a loaded 2-core machine.
const TRANSITION_MS = 10_000;
const IDS = ["a", "b", "c"] as const;

describe("switchboard: resolver under protection (real server, real HTTP checks)", () => {
  let server: TestServer;
  let client: SwitchboardClient;
  let endpoint: Awaited<ReturnType<typeof startHttpEndpoint>>;
  const echoes: EchoServer[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    client = createSwitchboardClient({ address: server.grpcAddress });
    endpoint = await startHttpEndpoint();
    registerSwitchboardResolver({ address: server.grpcAddress, backoff: { initialMs: 20, maxMs: 200 } });
    for (const id of IDS) {
      const echo = await startEchoServer(id);
      echoes.push(echo);
      await client.registry.register({
        instance: {
          service: "echo",
          instanceId: id,
          address: "127.0.0.1",
          port: echo.port,
          healthChecks: [{ target: { $case: "http", value: { port: endpoint.port, path: `/${id}` } }, ...CHECK }],
        },
        ttlSeconds: 60,
      });
    }
  });
  afterAll(async () => {
    client?.close();
    await Promise.all(echoes.map((echo) => echo.close()));
    await endpoint?.close();
    await server?.close();
  });

  async function statuses(): Promise<Record<string, HealthStatus>> {
    const { instances } = await client.health.getHealth({ service: "echo" });
    return Object.fromEntries(instances.map((instance) => [instance.instanceId, instance.status]));
  }

  async function allStatus(expected: Record<string, HealthStatus>, what: string): Promise<void> {
    await eventually(async () => JSON.stringify(await statuses()) === JSON.stringify(expected), TRANSITION_MS, what);
  }

  /** Names of the instances a batch of calls reached. */
  async function reached(echo: ReturnType<typeof createClient<typeof EchoDefinition>>, calls = 30): Promise<string[]> {
    const names = new Set<string>();
    for (let i = 0; i < calls; i++) names.add((await echo.whoAmI({ text: "hi" })).text);
    return [...names].sort();
  }

  it("keeps routing to all three while two fail (protection); one failing leaves", async () => {
    const { HEALTH_STATUS_HEALTHY: H, HEALTH_STATUS_UNHEALTHY: U } = HealthStatus;
    const channel = createChannel("switchboard:///echo");
    const echo = createClient(EchoDefinition, channel);
    try {
      await allStatus({ a: H, b: H, c: H }, "all healthy");
      await eventually(async () => (await reached(echo)).join() === "a,b,c", TRANSITION_MS, "calls reach a, b and c");

      // One of three failing: no protection (1/3 <= 0.5), it leaves the resolver's list.
      endpoint.failPath("/a", true);
      await allStatus({ a: U, b: H, c: H }, "a unhealthy");
      await eventually(async () => (await reached(echo)).join() === "b,c", TRANSITION_MS, "a leaves");
      expect((await client.health.getHealth({ service: "echo" })).protectionActive).toBe(false);

      // Two of three failing: protection (2/3 > 0.5) keeps every UP instance routable, and the
      // resolver must not filter the unhealthy ones out again.
      endpoint.failPath("/b", true);
      await allStatus({ a: U, b: U, c: H }, "a and b unhealthy");
      expect((await client.health.getHealth({ service: "echo" })).protectionActive).toBe(true);
      await eventually(
        async () => (await reached(echo)).join() === "a,b,c",
        TRANSITION_MS,
        "calls reach all three under protection",
      );
      // And they keep doing so while protection lasts.
      expect(await reached(echo, 60)).toEqual(["a", "b", "c"]);

      // b recovers: protection ends and a, still failing, leaves again.
      endpoint.failPath("/b", false);
      await allStatus({ a: U, b: H, c: H }, "b healthy again");
      await eventually(async () => (await reached(echo)).join() === "b,c", TRANSITION_MS, "a leaves again");
    } finally {
      endpoint.failPath("/a", false);
      endpoint.failPath("/b", false);
      channel.close();
    }
  });
});
