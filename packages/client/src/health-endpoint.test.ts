import { afterEach, describe, expect, it } from "vitest";
import type { AgentStatus } from "./agent.js";
import { serveHealth } from "./health-endpoint.js";
import type { HealthServer } from "./health-endpoint.js";

let server: HealthServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

describe("serveHealth", () => {
  it("answers UP with 200 and DOWN with 503, as JSON", async () => {
    server = await serveHealth({ host: "127.0.0.1" });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/health`);
    expect(await get(server.url)).toEqual({ status: 200, body: { status: "UP" } });
    server.endpoint.setStatus("DOWN");
    expect(await get(server.url)).toEqual({ status: 503, body: { status: "DOWN" } });
    server.endpoint.setStatus(undefined);
    expect((await get(server.url)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
  });

  it("runs checks and reports each; a failing, throwing or slow check is DOWN", async () => {
    let dbUp = true;
    server = await serveHealth({
      host: "127.0.0.1",
      path: "/healthz",
      checkTimeoutMs: 100,
      checks: {
        db: () => dbUp,
        cache: async () => {},
      },
    });
    expect(await get(server.url)).toEqual({
      status: 200,
      body: { status: "UP", checks: { db: { status: "UP" }, cache: { status: "UP" } } },
    });
    dbUp = false;
    expect(await get(server.url)).toEqual({
      status: 503,
      body: { status: "DOWN", checks: { db: { status: "DOWN" }, cache: { status: "UP" } } },
    });
    const slow = await serveHealth({
      host: "127.0.0.1",
      checkTimeoutMs: 100,
      checks: {
        slow: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 1000)),
        broken: () => {
          throw new Error("disk full");
        },
      },
    });
    try {
      expect(await get(slow.url)).toEqual({
        status: 503,
        body: {
          status: "DOWN",
          checks: {
            slow: { status: "DOWN", error: "check timed out after 100 ms" },
            broken: { status: "DOWN", error: "disk full" },
          },
        },
      });
    } finally {
      await slow.close();
    }
  });

  it("is DOWN unless the agent is running", async () => {
    const agent: { status: AgentStatus } = { status: "running" };
    server = await serveHealth({ host: "127.0.0.1", agent });
    expect((await get(server.url)).status).toBe(200);
    agent.status = "draining";
    expect(await get(server.url)).toEqual({ status: 503, body: { status: "DOWN" } });
  });
});
