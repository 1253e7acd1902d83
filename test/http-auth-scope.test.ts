/**
 * --auth over HTTP/JSON decides on the same scope as over gRPC: the namespace
 * and service come from the request body, so a grant on one namespace or one
 * service allows exactly that over both transports (unary and SSE).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const REGISTRY = "switchboard.registry.v1.RegistryService";
const CONFIG = "switchboard.config.v1.ConfigService";
const AUTH = "switchboard.auth.v1.AuthService";
const newToken = () => `${randomBytes(8).toString("hex")}.${randomBytes(32).toString("base64url")}`;

describe("--auth scope over HTTP/JSON", () => {
  const admin = newToken();
  let server: TestServer;
  let base: string;
  let shopReader = "";
  let ordersOperator = "";

  async function call(method: string, body: unknown, token: string): Promise<{ status: number; json: Record<string, any> }> {
    const response = await fetch(`${base}/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  }

  beforeAll(async () => {
    server = await startTestServer({ auth: { bootstrapToken: admin } });
    base = `http://${server.httpAddress}`;
    const create = async (grants: unknown[]) =>
      (await call(`${AUTH}/CreateToken`, { description: "t", grants }, admin)).json.secret;
    shopReader = await create([{ namespace: "shop", role: "ROLE_READ" }]);
    ordersOperator = await create([{ namespace: "shop", service: "orders", role: "ROLE_REGISTER" }]);
    for (const namespace of ["default", "shop"])
      await call(`${CONFIG}/PutValue`, { scope: { namespace }, key: "k", value: namespace }, admin);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("allows a namespace grant on its namespace only", async () => {
    const shop = await call(`${CONFIG}/GetValue`, { scope: { namespace: "shop" }, key: "k" }, shopReader);
    expect(shop.status).toBe(200);
    expect(shop.json.value.value).toBe("shop");
    const other = await call(`${CONFIG}/GetValue`, { scope: { namespace: "default" }, key: "k" }, shopReader);
    expect(other).toEqual({
      status: 403,
      json: { code: "permission_denied", message: 'permission "read" on default/* required' },
    });
    expect((await call(`${REGISTRY}/ListInstances`, { namespace: "shop", service: "orders" }, shopReader)).status).toBe(200);
  });

  it("allows a service grant on that service, and nothing wider", async () => {
    const instance = { namespace: "shop", service: "orders", instanceId: "o1", address: "127.0.0.1", port: 9000 };
    expect((await call(`${REGISTRY}/Register`, { instance, ttlSeconds: 60 }, ordersOperator)).status).toBe(200);
    const payments = await call(
      `${REGISTRY}/Register`,
      { instance: { ...instance, service: "payments" }, ttlSeconds: 60 },
      ordersOperator,
    );
    expect(payments.status).toBe(403);
    expect(payments.json.message).toBe('permission "register" on shop/payments required');
  });

  it("takes the scope of an SSE watch from its query", async () => {
    const open = (namespace: string) =>
      fetch(`${base}/${REGISTRY}/Watch?namespace=${namespace}&service=orders`, {
        headers: { accept: "text/event-stream", authorization: `Bearer ${shopReader}` },
        signal: AbortSignal.timeout(10_000),
      });
    const denied = await open("default");
    expect(denied.status).toBe(403);
    await denied.body?.cancel();
    const allowed = await open("shop");
    expect(allowed.status).toBe(200);
    await allowed.body?.cancel();
  });

  it("answers a malformed body with INVALID_ARGUMENT once the caller may call at all", async () => {
    const response = await fetch(`${base}/${CONFIG}/GetValue`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe("invalid_argument");
  });
});
