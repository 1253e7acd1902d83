import { spawn } from "node:child_process";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ClientError, Status, createChannel, createClient } from "nice-grpc";
import type { Channel } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigServiceDefinition } from "../generated/switchboard/config/v1/config.js";
import { HealthServiceDefinition } from "../generated/switchboard/health/v1/health.js";
import { RegistryServiceDefinition } from "../generated/switchboard/registry/v1/registry.js";
import { StoreUnavailableError, createEmbeddedStore, createStore } from "../src/store/index.js";
import type { Store } from "../src/store/index.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { eventually } from "./support/eventually.js";
import { createReflectionClient } from "./support/reflection-client.js";
import { spawnServer, startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const SERVING = 1;
const NOT_SERVING = 2;

const EXPECTED_SERVICES = [
  "envoy.service.discovery.v3.AggregatedDiscoveryService",
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
  "switchboard.auth.v1.AuthService",
  "switchboard.config.v1.ConfigService",
  "switchboard.health.v1.HealthService",
  "switchboard.registry.v1.RegistryService",
];

async function httpGet(address: string, path: string): Promise<{ status: number; type: string | null; body: string }> {
  const response = await fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, type: response.headers.get("content-type"), body: await response.text() };
}

async function statusOf(call: Promise<unknown>): Promise<Status> {
  try {
    await call;
    return Status.OK;
  } catch (error) {
    if (error instanceof ClientError) return error.code;
    throw error;
  }
}

describe("server on the embedded store (in-process)", () => {
  let server: TestServer;
  let channel: Channel;

  beforeAll(async () => {
    server = await startTestServer();
    channel = createChannel(server.grpcAddress);
  });

  afterAll(async () => {
    channel?.close();
    await server?.close();
  });

  it.each(["v1", "v1alpha"] as const)("lists every service through reflection %s", async (version) => {
    const names = await createReflectionClient(channel, version).listServices();
    expect([...names].sort()).toEqual(EXPECTED_SERVICES);
  });

  it("describes Switchboard, health and reflection symbols (grpcurl describe)", async () => {
    const reflection = createReflectionClient(channel, "v1alpha");
    const declaringFile = async (symbol: string) => {
      const answer = await reflection.fileContainingSymbol(symbol);
      if (answer.kind !== "files" || !answer.fileDescriptorProtos[0]) throw new Error(`${symbol}: ${JSON.stringify(answer)}`);
      return fromBinary(FileDescriptorProtoSchema, answer.fileDescriptorProtos[0]);
    };
    const registry = await declaringFile("switchboard.registry.v1.RegistryService");
    expect(registry.name).toBe("switchboard/registry/v1/registry.proto");
    expect(registry.service[0]?.method.map((m) => m.name)).toContain("Watch");
    expect((await declaringFile("switchboard.config.v1.PutValueRequest")).package).toBe("switchboard.config.v1");
    expect((await declaringFile("switchboard.health.v1.HealthService.WatchHealth")).package).toBe("switchboard.health.v1");
    const health = await declaringFile("grpc.health.v1.Health");
    expect(health.service.map((service) => [service.name, service.method.map((m) => m.name)])).toEqual([
      ["Health", ["Check", "Watch"]],
    ]);
    expect((await declaringFile("grpc.reflection.v1alpha.ServerReflection")).name).toBe(
      "grpc/reflection/v1alpha/reflection.proto",
    );
    const ads = await declaringFile("envoy.service.discovery.v3.AggregatedDiscoveryService");
    expect(ads.service[0]?.method.map((m) => m.name)).toEqual(["StreamAggregatedResources", "DeltaAggregatedResources"]);
    expect((await reflection.fileByFilename("envoy/service/discovery/v3/discovery.proto")).kind).toBe("files");
    for (const file of ["google/protobuf/timestamp.proto", "switchboard/health/v1/check.proto"]) {
      expect((await reflection.fileByFilename(file)).kind, file).toBe("files");
    }
    expect(await reflection.fileContainingSymbol("no.such.Service")).toEqual({
      kind: "error",
      code: Status.NOT_FOUND,
      message: "Symbol not found: no.such.Service",
    });
  });

  it("answers grpc.health.v1 Check SERVING for the server and each Switchboard service", async () => {
    const health = createClient(HealthDefinition, channel);
    for (const service of ["", ...EXPECTED_SERVICES.filter((s) => s.startsWith("switchboard."))]) {
      expect(await health.check({ service })).toEqual({ status: SERVING });
    }
    expect(await statusOf(health.check({ service: "unknown.Service" }))).toBe(Status.NOT_FOUND);
  });

  it("answers each Switchboard service with a proper status, never UNKNOWN or INTERNAL", async () => {
    const calls = [
      () => createClient(RegistryServiceDefinition, channel).listServices({}),
      () => createClient(ConfigServiceDefinition, channel).getValue({}),
      () => createClient(HealthServiceDefinition, channel).getHealth({}),
    ];
    for (const call of calls) {
      expect([Status.UNKNOWN, Status.INTERNAL]).not.toContain(await statusOf(call()));
    }
  });

  it("rejects requests over 1 MiB with RESOURCE_EXHAUSTED", async () => {
    const health = createClient(HealthDefinition, channel);
    expect(await statusOf(health.check({ service: "x".repeat(1024 * 1024 + 1) }))).toBe(Status.RESOURCE_EXHAUSTED);
  });

  it("serves GET /healthz as JSON, 200 while SERVING", async () => {
    const response = await httpGet(server.httpAddress, "/healthz");
    expect(response.status).toBe(200);
    expect(response.type).toBe("application/json");
    expect(JSON.parse(response.body)).toMatchObject({
      status: "SERVING",
      store: { backend: "embedded", reachable: true },
      cacheReady: true,
      shuttingDown: false,
      replicaId: server.replicaId,
    });
    expect((await httpGet(server.httpAddress, "/nope")).status).toBe(404);
  });

  it("serves GET /metrics with default metrics and RPC counts and latencies", async () => {
    await createClient(HealthDefinition, channel).check({ service: "" });
    const { status, type, body } = await httpGet(server.httpAddress, "/metrics");
    expect(status).toBe(200);
    expect(type).toContain("text/plain");
    expect(body).toContain("process_cpu_user_seconds_total");
    expect(body).toContain("switchboard_serving 1");
    expect(body).toMatch(
      /grpc_server_handled_total\{grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK"\} [1-9]/,
    );
    expect(body).toMatch(
      /grpc_server_handling_seconds_bucket\{le="0.005",grpc_type="bidi_stream",grpc_service="grpc.reflection.v1alpha/,
    );
  });
});

describe("health follows the store", () => {
  let store: Store;
  let down = false;
  let server: TestServer;
  let channel: Channel;

  beforeAll(async () => {
    store = await createEmbeddedStore();
    const flaky = new Proxy(store, {
      get(target, property, receiver) {
        if (property === "ping" && down) return async () => Promise.reject(new StoreUnavailableError("store is down (test)"));
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    server = await startTestServer({ store: flaky, healthCheckIntervalMs: 100 });
    channel = createChannel(server.grpcAddress);
  });

  afterAll(async () => {
    channel?.close();
    await server?.close();
    await store?.close();
  });

  it("reports NOT_SERVING (gRPC and /healthz 503) while the store is unreachable, and recovers", async () => {
    const health = createClient(HealthDefinition, channel);
    down = true;
    await eventually(async () => (await health.check({ service: "" })).status === NOT_SERVING, 5_000);
    const response = await httpGet(server.httpAddress, "/healthz");
    expect(response.status).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({
      status: "NOT_SERVING",
      store: { backend: "injected", reachable: false, error: "store is down (test)" },
    });
    down = false;
    await eventually(async () => (await health.check({ service: "" })).status === SERVING, 5_000);
    expect((await httpGet(server.httpAddress, "/healthz")).status).toBe(200);
  });
});

describe("graceful shutdown", () => {
  it("ends open streams with UNAVAILABLE and closes well before the deadline", async () => {
    const server = await startTestServer({ shutdownTimeoutMs: 10_000 });
    const channel = createChannel(server.grpcAddress);
    try {
      const seen: number[] = [];
      const stream = (async () => {
        for await (const response of createClient(HealthDefinition, channel).watch({ service: "" })) {
          seen.push(response.status);
        }
      })();
      const ended = stream.then(
        () => Status.OK,
        (error: unknown) => (error instanceof ClientError ? error.code : Status.UNKNOWN),
      );
      await eventually(async () => seen.length > 0, 5_000);
      const started = Date.now();
      await server.close();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await ended).toBe(Status.UNAVAILABLE);
      expect(seen[0]).toBe(SERVING);
    } finally {
      channel.close();
      await server.close();
    }
  });
});

describe("switchboard serve (child process)", () => {
  it("serves, then exits 0 on SIGTERM after ending an open stream", async () => {
    const child = await spawnServer();
    const channel = createChannel(child.grpcAddress);
    try {
      const health = createClient(HealthDefinition, channel);
      expect(await health.check({ service: "" })).toEqual({ status: SERVING });
      const seen: number[] = [];
      const ended = (async () => {
        for await (const response of health.watch({ service: "" })) seen.push(response.status);
      })().then(
        () => Status.OK,
        (error: unknown) => (error instanceof ClientError ? error.code : Status.UNKNOWN),
      );
      await eventually(async () => seen.length > 0, 5_000);

      expect(await child.stop()).toEqual({ code: 0, signal: null });
      expect(await ended).toBe(Status.UNAVAILABLE);
      const messages = child.output.map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).toEqual(
        expect.arrayContaining([
          "switchboard serving",
          "shutdown: signal received",
          "shutdown: stopped accepting calls; ending open streams",
          "shutdown: closing cache",
          "shutdown: closing store",
          "shutdown: complete",
        ]),
      );
    } finally {
      channel.close();
      await child.stop();
    }
  });

  it("exits 2 with a clear message on bad configuration", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "serve", "--listen", "nowhere"], {
      cwd: new URL("..", import.meta.url),
      env: { ...process.env, SWITCHBOARD_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toBe(
      'switchboard serve: --listen: expected host:port (e.g. 0.0.0.0:7000 or [::]:7000), got "nowhere" (see "switchboard serve --help")\n',
    );
  });
});

describe.skipIf(!requireEtcd())("switchboard serve on etcd (child process)", () => {
  let etcd: EtcdServer;

  beforeAll(async () => {
    etcd = await startEtcd();
  });

  afterAll(async () => {
    await etcd?.stop();
  });

  it("reports NOT_SERVING while etcd does not answer, and SERVING again when it does", async () => {
    const server = await startTestServer({ etcdEndpoints: etcd.endpoints, healthCheckIntervalMs: 200 });
    const channel = createChannel(server.grpcAddress);
    const health = createClient(HealthDefinition, channel);
    try {
      expect(await health.check({ service: "" })).toEqual({ status: SERVING });
      etcd.pause();
      await eventually(async () => (await health.check({ service: "" })).status === NOT_SERVING, 10_000);
      expect((await httpGet(server.httpAddress, "/healthz")).status).toBe(503);
      etcd.resume();
      await eventually(async () => (await health.check({ service: "" })).status === SERVING, 10_000);
    } finally {
      etcd.resume();
      channel.close();
      await server.close();
    }
  });

  it("keeps its state in etcd under the prefix when SWITCHBOARD_ETCD_ENDPOINTS is set", async () => {
    const child = await spawnServer({
      env: { SWITCHBOARD_ETCD_ENDPOINTS: etcd.endpoints.join(","), SWITCHBOARD_PREFIX: "/sb-test/" },
    });
    const store = await createStore({ endpoints: etcd.endpoints });
    try {
      const healthz = JSON.parse((await httpGet(child.httpAddress, "/healthz")).body) as {
        store: { backend: string };
        replicaId: string;
      };
      expect(healthz.store.backend).toBe("etcd");
      // The replica announces itself under replicas/ (health checks are shared out over these keys).
      await eventually(async () => (await store.get(`/sb-test/replicas/${healthz.replicaId}`)) !== undefined, 5_000);
      expect((await store.list("/switchboard/")).kvs).toEqual([]);
      expect(await child.stop()).toEqual({ code: 0, signal: null });
      // A graceful shutdown leaves replicas/ before closing the store, so others take over at once.
      expect(await store.get(`/sb-test/replicas/${healthz.replicaId}`)).toBeUndefined();
    } finally {
      await store.close();
      await child.stop();
    }
  });
});
