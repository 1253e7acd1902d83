/**
 * The tuning options of startServer (what `switchboard serve` sets from its
 * --protection-*, --watch-queue-limit, --bookmark-interval, --replica-ttl
 * and --config-* flags) reach the services: protection of the shared view,
 * bookmarks on all three watch streams, config import limits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthStatus } from "../generated/switchboard/health/v1/check.js";
import { createSwitchboardClient, InvalidArgumentError } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

// Far below the 10 s default, so a bookmark within a few seconds proves the option arrived.
const BOOKMARK_MS = 200;
const WAIT_MS = 5_000;

describe("startServer tuning options", () => {
  let server: TestServer;
  let client: SwitchboardClient;

  beforeAll(async () => {
    server = await startTestServer({
      registry: { protectionMinInstances: 1, bookmarkIntervalMs: BOOKMARK_MS },
      health: { replicaTtlSeconds: 3, watch: { bookmarkIntervalMs: BOOKMARK_MS } },
      config: { bookmarkIntervalMs: BOOKMARK_MS, maxTxnOps: 4, maxImportBytes: 10 },
    });
    client = createSwitchboardClient({ address: server.grpcAddress });
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it("protectionMinInstances: with 1, a service's only failing instance is kept by protection", async () => {
    await client.registry.register({
      instance: { service: "solo", instanceId: "s1", address: "127.0.0.1", port: 1 },
      ttlSeconds: 30,
    });
    const { revision } = await client.health.reportHealth({
      service: "solo",
      instanceId: "s1",
      status: HealthStatus.HEALTH_STATUS_UNHEALTHY,
      output: "down",
    });
    const listed = await client.registry.listInstances({ service: "solo", minRevision: revision });
    expect(listed.instances.map((i) => [i.instanceId, i.healthStatus])).toEqual([["s1", HealthStatus.HEALTH_STATUS_UNHEALTHY]]);
    expect((await client.health.getHealth({ service: "solo" })).protectionActive).toBe(true);
  });

  it("bookmarkIntervalMs reaches Watch, WatchHealth and WatchConfig", async () => {
    const signal = AbortSignal.timeout(WAIT_MS);
    const firstBookmark = async <T>(stream: AsyncIterable<T>, isBookmark: (message: T) => boolean) => {
      const started = Date.now();
      for await (const message of stream) if (isBookmark(message)) return Date.now() - started;
      throw new Error("stream ended without a bookmark");
    };
    const [registry, health, config] = await Promise.all([
      firstBookmark(client.registry.watch({ service: "idle" }, { signal }), (m) => m.kind?.$case === "bookmark"),
      firstBookmark(client.health.watchHealth({ service: "idle" }, { signal }), (m) => m.kind?.$case === "bookmarkRevision"),
      firstBookmark(client.config.watchConfig({ service: "idle" }, { signal }), (m) => m.bookmark),
    ]);
    for (const ms of [registry, health, config]) expect(ms).toBeLessThan(WAIT_MS);
  });

  it("maxTxnOps and maxImportBytes limit ConfigService imports", async () => {
    const entries = (n: number, value: string) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value }));
    const rejection = async (call: Promise<unknown>) => {
      const error = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidArgumentError);
      return (error as InvalidArgumentError).message;
    };
    // maxTxnOps 4: at most 2 keys per import.
    expect(await rejection(client.config.importValues({ scope: { service: "limits" }, entries: entries(3, "x") }))).toContain(
      "at most 2 per import",
    );
    // maxImportBytes 10.
    expect(
      await rejection(client.config.importValues({ scope: { service: "limits" }, entries: entries(1, "x".repeat(11)) })),
    ).toContain("at most 10 per import");
    const ok = await client.config.importValues({ scope: { service: "limits" }, entries: entries(2, "12345") });
    expect(ok.written).toBe(2);
  });
});
