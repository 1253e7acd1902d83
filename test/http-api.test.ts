/**
 * The HTTP/JSON API (src/http) against a real server: curl and a Connect
 * client call the unary RPCs, errors follow Connect's codes and statuses,
 * calls are counted like gRPC ones, and the watches stream as Server-Sent
 * Events (snapshot, then changes, resume by Last-Event-ID).
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import type { DescService } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDescriptorSet } from "../src/server/descriptor-set.js";
import { eventually } from "./support/eventually.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const execFileAsync = promisify(execFile);
const REGISTRY = "switchboard.registry.v1.RegistryService";
const CONFIG = "switchboard.config.v1.ConfigService";

let server: TestServer;
let base: string;

beforeAll(async () => {
  server = await startTestServer();
  base = `http://${server.httpAddress}`;
});
afterAll(async () => {
  await server?.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, any> };
}

async function register(id: string, service = "orders") {
  const { status, json } = await post(`/${REGISTRY}/Register`, {
    instance: { service, instance_id: id, address: "127.0.0.1", port: 9000, tags: ["http"] },
    ttlSeconds: 30,
  });
  expect(status).toBe(200);
  return json;
}

/** curl, as an operator would run it. */
async function curl(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("curl", ["-sS", ...args]);
  return stdout;
}

describe("unary RPCs over HTTP/JSON", () => {
  it("answers curl with proto3 JSON: int64 as strings, enums by name, camelCase", async () => {
    const registered = await register("curl-1");
    expect(registered.leaseId).toMatch(/^\d+$/);
    expect(registered.instance).toMatchObject({ instanceId: "curl-1", state: "INSTANCE_STATE_UP", weight: 100 });
    const out = await curl(
      "-H",
      "content-type: application/json",
      "-d",
      JSON.stringify({ service: "orders", min_revision: registered.revision }),
      `${base}/${REGISTRY}/ListInstances`,
    );
    const listed = JSON.parse(out);
    expect(typeof listed.revision).toBe("string");
    expect(listed.instances.map((i: { instanceId: string }) => i.instanceId)).toContain("curl-1");
    expect(listed.instances[0].registeredAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("maps errors to Connect codes and HTTP statuses, naming the field", async () => {
    const bad = await post(`/${REGISTRY}/ListInstances`, { service: "Not A Name" });
    expect(bad.status).toBe(400);
    expect(bad.json).toEqual({ code: "invalid_argument", message: expect.stringMatching(/^service: /) });

    const unknownField = await post(`/${REGISTRY}/ListInstances`, { service: "orders", bogus: 1 });
    expect(unknownField.status).toBe(400);
    expect(unknownField.json.message).toContain('"bogus"');

    const notJson = await post(`/${REGISTRY}/ListInstances`, "{not json");
    expect(notJson.status).toBe(400);
    expect(notJson.json.code).toBe("invalid_argument");

    const missing = await post(`/${REGISTRY}/GetInstance`, { service: "orders", instanceId: "nope" });
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe("not_found");

    const wrongMethod = await fetch(`${base}/${REGISTRY}/ListInstances`);
    expect(wrongMethod.status).toBe(405);
    const wrongType = await fetch(`${base}/${REGISTRY}/ListInstances`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "{}",
    });
    expect(wrongType.status).toBe(415);
    expect((await fetch(`${base}/${REGISTRY}/NoSuchMethod`, { method: "POST" })).status).toBe(404);
  });

  it("answers a compare-and-set conflict with aborted (409) and the current revision as a trailer- header", async () => {
    const scope = { service: "orders" };
    const first = await post(`/${CONFIG}/PutValue`, { scope, key: "timeout", value: "1s", expectedRevision: "0" });
    expect(first.status).toBe(200);
    const conflict = await post(`/${CONFIG}/PutValue`, { scope, key: "timeout", value: "2s", expectedRevision: "0" });
    expect(conflict.status).toBe(409);
    expect(conflict.json.code).toBe("aborted");
    expect(conflict.headers.get("trailer-switchboard-current-revision")).toBe(first.json.revision);
  });

  it("turns away bodies over 1 MiB with resource_exhausted (429), as gRPC does", async () => {
    const huge = JSON.stringify({ scope: { service: "orders" }, key: "big", value: "x".repeat(1024 * 1024 + 1) });
    const response = await post(`/${CONFIG}/PutValue`, huge);
    expect(response.status).toBe(429);
    expect(response.json.code).toBe("resource_exhausted");
  });

  it("counts HTTP calls in the gRPC metrics", async () => {
    await post(`/${REGISTRY}/ListServices`, {});
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /grpc_server_handled_total\{[^}]*grpc_service="switchboard\.registry\.v1\.RegistryService"[^}]*grpc_method="ListServices"[^}]*\} [1-9]/,
    );
  });

  it("serves a Connect client, JSON and binary", async () => {
    await register("connect-1");
    const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, loadDescriptorSet()));
    const service = registry.getService(REGISTRY) as DescService;
    for (const useBinaryFormat of [false, true]) {
      const transport = createConnectTransport({ baseUrl: base, httpVersion: "1.1", useBinaryFormat });
      const client = createClient(service, transport) as any;
      const listed = await client.listInstances({ service: "orders" });
      expect(listed.instances.map((i: { instanceId: string }) => i.instanceId)).toContain("connect-1");
      expect(typeof listed.revision).toBe("bigint");
      const error = await client.getInstance({ service: "orders", instanceId: "nope" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.NotFound);
    }
  });
});

/** Runs `curl -N` on an SSE URL and collects the events it prints. */
function curlEvents(url: string, headers: string[] = []) {
  const child = spawn("curl", ["-sS", "-N", ...headers.flatMap((h) => ["-H", h]), url], { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
  const events = () =>
    text
      .split("\n\n")
      .slice(0, -1)
      .map((block) =>
        Object.fromEntries(
          block.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
        ),
      )
      .filter((e) => e.event !== undefined)
      .map((e) => ({ id: e.id as string | undefined, event: e.event as string, data: JSON.parse(e.data as string) }));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    events,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

describe("watches as Server-Sent Events", () => {
  it("streams a snapshot, then a registration, with revisions as event ids; resumes from Last-Event-ID", async () => {
    await register("sse-1", "billing");
    const watch = curlEvents(`${base}/${REGISTRY}/Watch?service=billing&include_unroutable=true`);
    try {
      await eventually(() => watch.events().length >= 1, 10_000, "snapshot");
      const [snapshot] = watch.events();
      expect(snapshot!.event).toBe("snapshot");
      expect(snapshot!.data.snapshot.instances.map((i: { instanceId: string }) => i.instanceId)).toEqual(["sse-1"]);
      expect(snapshot!.id).toBe(snapshot!.data.snapshot.revision);

      const second = await register("sse-2", "billing");
      await eventually(() => watch.events().some((e) => e.event === "event"), 10_000, "registration event");
      const added = watch.events().find((e) => e.event === "event")!;
      expect(added.data.event).toMatchObject({ type: "EVENT_TYPE_ADDED", instance: { instanceId: "sse-2" } });
      expect(added.id).toBe(second.revision);

      // A reconnecting EventSource sends Last-Event-ID: the stream resumes after it, no snapshot.
      const resumed = curlEvents(`${base}/${REGISTRY}/Watch?service=billing`, [`Last-Event-ID: ${snapshot!.id}`]);
      try {
        await eventually(() => resumed.events().length >= 1, 10_000, "resumed event");
        expect(resumed.events()[0]).toMatchObject({ event: "event", id: second.revision });
      } finally {
        await resumed.stop();
      }
    } finally {
      await watch.stop();
    }
  });

  it("answers a bad watch request before streaming, and streams WatchConfig and WatchHealth", async () => {
    const bad = await fetch(`${base}/${REGISTRY}/Watch?service=Bad!`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "invalid_argument" });

    await post(`/${CONFIG}/PutValue`, { scope: { service: "billing" }, key: "limit", value: "5" });
    const config = curlEvents(`${base}/${CONFIG}/WatchConfig?service=billing`);
    const health = curlEvents(`${base}/switchboard.health.v1.HealthService/WatchHealth?service=billing`);
    try {
      await eventually(() => config.events().length >= 1 && health.events().length >= 1, 10_000, "first events");
      expect(config.events()[0]).toMatchObject({ event: "config", data: { entries: [{ key: "limit", value: "5" }] } });
      expect(health.events()[0]!.event).toBe("snapshot");
      await post(`/${CONFIG}/PutValue`, { scope: { service: "billing" }, key: "limit", value: "6" });
      await eventually(() => config.events().length >= 2, 10_000, "config change");
      expect(config.events()[1]).toMatchObject({ event: "config", data: { changedKeys: ["limit"] } });
    } finally {
      await Promise.all([config.stop(), health.stop()]);
    }
  });
});

describe("the dashboard route", () => {
  it("serves the page at / and at deep links, and leaves /metrics and RPC paths alone", async () => {
    for (const path of ["/", "/services/default/orders"]) {
      const response = await fetch(base + path);
      expect(response.headers.get("content-type")).toContain("text/html");
      await response.text();
    }
    expect((await fetch(`${base}/nothing.here`)).status).toBe(404);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it("is off with ui: false", async () => {
    const quiet = await startTestServer({ ui: false });
    try {
      expect((await fetch(`http://${quiet.httpAddress}/`)).status).toBe(404);
    } finally {
      await quiet.close();
    }
  });
});
