import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthStatus } from "../generated/switchboard/health/v1/check.js";
import type { WatchHealthResponse } from "../generated/switchboard/health/v1/health.js";
import { createPicker, createSwitchboardClient } from "@switchboard/client";
import type { Picker, SwitchboardClient } from "@switchboard/client";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";
import {
  collectWatch,
  eventually,
  instanceSpec,
  routableIds,
  startGrpcEndpoint,
  startHttpEndpoint,
  startTcpEndpoint,
} from "./health-fixtures.js";

// interval 1 s, unhealthy threshold 3, healthy threshold 2: the bound is interval × threshold + 1 s.
const INTERVAL_MS = 1_000;
const LEAVE_BOUND_MS = INTERVAL_MS * 3 + 1_000;
const RETURN_BOUND_MS = INTERVAL_MS * 2 + 1_000;
// The first probe is staggered up to one interval after registration; the first decision takes two passes.
const FIRST_HEALTHY_MS = INTERVAL_MS * 3 + 2_000;
// Polling granularity and a loaded 2-core machine.
const SLACK_MS = 500;

const etcdBinary = requireEtcd();

describe.skipIf(!etcdBinary).concurrent("active health checks (real etcd, real endpoints)", () => {
  let etcd: EtcdServer;
  let server: TestServer;
  let client: SwitchboardClient;

  beforeAll(async () => {
    etcd = await startEtcd();
    server = await startTestServer({ etcdEndpoints: etcd.endpoints });
    client = createSwitchboardClient({ address: server.grpcAddress });
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    await etcd?.stop();
  });

  async function register(service: string, id: string, port: number, check: Parameters<typeof instanceSpec>[3]) {
    await client.registry.register({ instance: instanceSpec(service, id, port, check), ttlSeconds: 60 });
  }

  // Each service below but "panic" has one UP instance: fewer than protectionMinInstances (3), so
  // protection never applies and a failing instance always leaves routing.

  /** Waits for HEALTHY (stored), then checks the routable views agree. */
  async function healthy(service: string, id: string, watch?: { present: Set<string> }) {
    await eventually(
      async () =>
        (await client.health.getHealth({ service, instanceId: id })).instances[0]?.status === HealthStatus.HEALTH_STATUS_HEALTHY,
      FIRST_HEALTHY_MS,
      `${id} healthy`,
    );
    expect(await routableIds(client, service)).toContain(id);
    if (watch) await eventually(() => watch.present.has(id), 2_000, `${id} in watch`);
  }

  /** What the SDK's picker (load balancing for HTTP callers, fed by a Watch) would route to. */
  type Routing = { present: Set<string>; picker?: Picker };
  const pickable = (routing: Routing, service: string, id: string) =>
    routing.picker?.instances(service).some((i) => i.instanceId === id);

  /** Measures how long until id leaves ListInstances, the watch stream and the picker. */
  async function leaves(service: string, id: string, routing: Routing): Promise<number> {
    const started = Date.now();
    await eventually(
      async () =>
        !(await routableIds(client, service)).includes(id) && !routing.present.has(id) && pickable(routing, service, id) !== true,
      LEAVE_BOUND_MS + SLACK_MS,
      `${id} leaves`,
    );
    return Date.now() - started;
  }

  async function returns(service: string, id: string, routing: Routing): Promise<number> {
    const started = Date.now();
    await eventually(
      async () =>
        (await routableIds(client, service)).includes(id) && routing.present.has(id) && pickable(routing, service, id) !== false,
      RETURN_BOUND_MS + SLACK_MS,
      `${id} returns`,
    );
    return Date.now() - started;
  }

  it('HTTP: 503 and a 200 with {"status":"DOWN"} take the instance out of ListInstances, Watch and the SDK picker; recovery brings it back', async () => {
    const endpoint = await startHttpEndpoint();
    const picker = createPicker({ client });
    const watch = Object.assign(collectWatch(client, "web"), { picker });
    const healthStream = new AbortController();
    const transitions: WatchHealthResponse[] = [];
    const healthDone = (async () => {
      try {
        for await (const m of client.health.watchHealth({ service: "web" }, { signal: healthStream.signal })) transitions.push(m);
      } catch (error) {
        if (!healthStream.signal.aborted) throw error;
      }
    })();
    try {
      await register("web", "w1", endpoint.port, [
        { target: { $case: "http", value: { path: "/health" } }, intervalMs: INTERVAL_MS },
      ]);
      await healthy("web", "w1", watch);
      await picker.pick("web");
      await eventually(() => pickable(watch, "web", "w1") === true, 2_000, "w1 pickable");

      endpoint.set("503");
      const left503 = await leaves("web", "w1", watch);
      const detail = (await client.health.getHealth({ service: "web", instanceId: "w1" })).instances[0]!;
      expect(detail.status).toBe(HealthStatus.HEALTH_STATUS_UNHEALTHY);
      expect(detail.checks[0]).toMatchObject({ name: "http", output: "HTTP 503: service unavailable" });
      expect(detail.checks[0]!.consecutiveFailures).toBeGreaterThanOrEqual(3);
      expect(detail.checkedBy).toBe(server.replicaId);
      // Still visible to callers that ask for everything.
      const all = await client.registry.listInstances({ service: "web", includeUnroutable: true });
      expect(all.instances.find((i) => i.instanceId === "w1")?.healthStatus).toBe(HealthStatus.HEALTH_STATUS_UNHEALTHY);

      endpoint.set("up-json");
      const back1 = await returns("web", "w1", watch);

      endpoint.set("down-json");
      const leftDown = await leaves("web", "w1", watch);
      expect((await client.health.getHealth({ service: "web", instanceId: "w1" })).instances[0]!.checks[0]!.output).toContain(
        '"status":"DOWN"',
      );

      endpoint.set("ok");
      const back2 = await returns("web", "w1", watch);

      console.info(
        `HTTP: left after 503 in ${left503} ms, after DOWN in ${leftDown} ms; back in ${back1} / ${back2} ms (bounds ${LEAVE_BOUND_MS} / ${RETURN_BOUND_MS} ms)`,
      );

      // The registry watch saw REMOVED and ADDED events; WatchHealth saw the four transitions in order.
      const eventTypes = watch.messages
        .filter((m) => m.kind?.$case === "event")
        .map((m) => (m.kind!.value as { type: number }).type);
      expect(eventTypes).toEqual(expect.arrayContaining([3, 1]));
      await eventually(() => transitions.filter((m) => m.kind?.$case === "transition").length >= 5, 2_000, "health transitions");
      const seen = transitions
        .filter((m) => m.kind?.$case === "transition")
        .map((m) => (m.kind!.value as { current: HealthStatus }).current);
      expect(seen).toEqual([
        HealthStatus.HEALTH_STATUS_HEALTHY,
        HealthStatus.HEALTH_STATUS_UNHEALTHY,
        HealthStatus.HEALTH_STATUS_HEALTHY,
        HealthStatus.HEALTH_STATUS_UNHEALTHY,
        HealthStatus.HEALTH_STATUS_HEALTHY,
      ]);
    } finally {
      healthStream.abort();
      await healthDone;
      picker.close();
      await watch.stop();
      await endpoint.close();
    }
  });

  it("gRPC: NOT_SERVING takes the instance out, SERVING brings it back", async () => {
    const endpoint = await startGrpcEndpoint();
    endpoint.state.setStatus("healthy", "orders.v1.Orders");
    const watch = collectWatch(client, "grpc-svc");
    try {
      await register("grpc-svc", "g1", endpoint.port, [
        { target: { $case: "grpc", value: { service: "orders.v1.Orders" } }, intervalMs: INTERVAL_MS },
      ]);
      await healthy("grpc-svc", "g1", watch);
      endpoint.state.setStatus("unhealthy", "orders.v1.Orders");
      const left = await leaves("grpc-svc", "g1", watch);
      expect((await client.health.getHealth({ service: "grpc-svc", instanceId: "g1" })).instances[0]!.checks[0]!.output).toBe(
        "orders.v1.Orders: NOT_SERVING",
      );
      endpoint.state.setStatus("healthy", "orders.v1.Orders");
      const back = await returns("grpc-svc", "g1", watch);
      console.info(`gRPC: left in ${left} ms, back in ${back} ms`);
    } finally {
      await watch.stop();
      await endpoint.close();
    }
  });

  it("TCP: a closed port takes the instance out, reopening brings it back", async () => {
    const endpoint = await startTcpEndpoint();
    const watch = collectWatch(client, "tcp-svc");
    try {
      await register("tcp-svc", "t1", endpoint.port, [{ target: { $case: "tcp", value: {} }, intervalMs: INTERVAL_MS }]);
      await healthy("tcp-svc", "t1", watch);
      await endpoint.close();
      const left = await leaves("tcp-svc", "t1", watch);
      expect((await client.health.getHealth({ service: "tcp-svc", instanceId: "t1" })).instances[0]!.checks[0]!.output).toContain(
        "ECONNREFUSED",
      );
      await endpoint.reopen();
      const back = await returns("tcp-svc", "t1", watch);
      console.info(`TCP: left in ${left} ms, back in ${back} ms`);
    } finally {
      await watch.stop();
      await endpoint.close();
    }
  });

  it("a single failed probe (below the threshold) does not remove the instance", async () => {
    const endpoint = await startHttpEndpoint();
    const watch = collectWatch(client, "flaky");
    try {
      await register("flaky", "f1", endpoint.port, [
        { target: { $case: "http", value: { path: "/health" } }, intervalMs: INTERVAL_MS },
      ]);
      await healthy("flaky", "f1", watch);
      const before = endpoint.hits.get("/health") ?? 0;
      const eventsBefore = watch.messages.length;
      endpoint.failNext(1);
      // Watch it for the whole detection window and then some: it never leaves.
      const until = Date.now() + LEAVE_BOUND_MS + 1_000;
      let sawFailure = false;
      while (Date.now() < until) {
        expect(await routableIds(client, "flaky")).toEqual(["f1"]);
        expect(watch.present.has("f1")).toBe(true);
        const check = (await client.health.getHealth({ service: "flaky", instanceId: "f1" })).instances[0]!.checks[0]!;
        if (check.consecutiveFailures === 1) sawFailure = true;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(sawFailure).toBe(true);
      expect((endpoint.hits.get("/health") ?? 0) - before).toBeGreaterThanOrEqual(4);
      expect(watch.messages.slice(eventsBefore).filter((m) => m.kind?.$case === "event")).toEqual([]);
    } finally {
      await watch.stop();
      await endpoint.close();
    }
  });

  it("protection: when more than half of a service fails at once, all stay routable and it is flagged", async () => {
    const endpoints = await Promise.all([0, 1, 2, 3].map(() => startHttpEndpoint()));
    const ids = ["p0", "p1", "p2", "p3"];
    try {
      for (const [i, id] of ids.entries()) {
        await register("panic", id, endpoints[i]!.port, [
          { target: { $case: "http", value: { path: "/health" } }, intervalMs: INTERVAL_MS },
        ]);
      }
      for (const id of ids) await healthy("panic", id);

      // Two of four failing (not more than half): they leave routing.
      endpoints[0]!.set("503");
      endpoints[1]!.set("503");
      await eventually(async () => (await routableIds(client, "panic")).join() === "p2,p3", LEAVE_BOUND_MS + 2_000, "two leave");
      expect((await client.health.getHealth({ service: "panic" })).protectionActive).toBe(false);

      // A third failure: 3 of 4 > 0.5, so protection keeps all four routable and says so.
      endpoints[2]!.set("503");
      await eventually(
        async () => (await client.health.getHealth({ service: "panic" })).protectionActive,
        LEAVE_BOUND_MS + 2_000,
        "protection",
      );
      expect(await routableIds(client, "panic")).toEqual(ids);
      const health = await client.health.getHealth({ service: "panic" });
      expect(health.instances.filter((i) => i.status === HealthStatus.HEALTH_STATUS_UNHEALTHY).map((i) => i.instanceId)).toEqual([
        "p0",
        "p1",
        "p2",
      ]);
      const metrics = await (await fetch(`http://${server.httpAddress}/metrics`)).text();
      expect(metrics).toMatch(/switchboard_health_protection_active\{namespace="default",service="panic"\} 1/);
      expect(metrics).toMatch(/switchboard_health_transitions_total\{to="unhealthy"\} \d+/);
      expect(metrics).toMatch(/switchboard_health_checks_total\{kind="http"\} \d+/);
      expect(metrics).toMatch(/switchboard_health_check_duration_seconds_bucket/);

      // Recovery of one ends protection: the two still failing leave again.
      endpoints[2]!.set("ok");
      await eventually(
        async () => (await routableIds(client, "panic")).join() === "p2,p3",
        RETURN_BOUND_MS + 2_000,
        "protection ends",
      );
      expect((await client.health.getHealth({ service: "panic" })).protectionActive).toBe(false);
      const after = await (await fetch(`http://${server.httpAddress}/metrics`)).text();
      expect(after).not.toMatch(/switchboard_health_protection_active\{namespace="default",service="panic"\} 1/);
    } finally {
      await Promise.all(endpoints.map((e) => e.close()));
    }
  });

  it("self-reports with a TTL: unhealthy when reports stop", async () => {
    await client.registry.register({ instance: instanceSpec("reporting", "r1", 1, []), ttlSeconds: 60 });
    const first = await client.health.reportHealth({
      service: "reporting",
      instanceId: "r1",
      status: HealthStatus.HEALTH_STATUS_HEALTHY,
      output: "ready",
      ttlMs: 1_500,
    });
    expect(Number(first.revision)).toBeGreaterThan(0);
    expect(await routableIds(client, "reporting")).toContain("r1");
    await eventually(async () => !(await routableIds(client, "reporting")).includes("r1"), 1_500 + 1_500, "TTL expiry");
    const detail = (await client.health.getHealth({ service: "reporting", instanceId: "r1" })).instances[0]!;
    expect(detail.checks).toEqual([expect.objectContaining({ name: "self", output: expect.stringContaining("TTL expired") })]);
    await client.health.reportHealth({
      service: "reporting",
      instanceId: "r1",
      status: HealthStatus.HEALTH_STATUS_HEALTHY,
      output: "back",
      ttlMs: 0,
    });
    await eventually(async () => (await routableIds(client, "reporting")).includes("r1"), 2_000, "report brings it back");
  });
});
