/**
 * The reference microservice pair (examples/), run as the single executables `npm run
 * build:examples` makes, with no node on PATH: two payments instances and one orders instance
 * against a Switchboard server. They configure themselves from Switchboard + environment,
 * register, get health-checked over HTTP, and orders reaches payments only through
 * `switchboard:///payments`. A payments instance killed with SIGKILL costs the caller nothing
 * (orders retries a charge that died with it, under one idempotency key), and Switchboard's HTTP
 * check takes it out of the registry; SIGTERM drains and deregisters.
 *
 * Builds both executables into a temporary directory unless SWITCHBOARD_PAYMENTS_BINARY and
 * SWITCHBOARD_ORDERS_BINARY name prebuilt ones.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createChannel, createClient } from "nice-grpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PaymentsServiceDefinition } from "../examples/payments/generated/payments/v1/payments.js";
import { createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { prepareBinary } from "./support/binary.js";
import type { TestBinary } from "./support/binary.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";
import { eventually } from "./support/eventually.js";

interface ExampleProcess {
  readonly pid: number;
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves with the first log entry whose msg is `msg` (waiting for it if needed). */
  logged(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

interface Order {
  status: number;
  body: { order_id?: string; payment?: { total_cents: number; currency: string; instance_id: string }; error?: string };
  sentAt: number;
}

describe("examples: orders calls payments through switchboard:///payments", () => {
  let payments: TestBinary;
  let orders: TestBinary;
  let server: TestServer;
  let client: SwitchboardClient;
  let dir: string;
  const processes: ExampleProcess[] = [];

  beforeAll(async () => {
    [payments, orders] = await Promise.all([
      prepareBinary({ entry: "examples/payments/main.ts", name: "payments", env: "SWITCHBOARD_PAYMENTS_BINARY" }),
      prepareBinary({ entry: "examples/orders/main.ts", name: "orders", env: "SWITCHBOARD_ORDERS_BINARY" }),
    ]);
    server = await startTestServer();
    client = createSwitchboardClient({ address: server.grpcAddress });
    dir = await mkdtemp(join(tmpdir(), "switchboard-examples-"));
  }, 180_000);

  afterAll(async () => {
    for (const child of processes) child.kill("SIGKILL");
    await Promise.all(processes.map((child) => child.exited));
    client?.close();
    await server?.close();
    await Promise.all([payments?.remove(), orders?.remove(), dir && rm(dir, { recursive: true, force: true })]);
  });

  function start(binary: TestBinary, env: Record<string, string>): ExampleProcess {
    const child = spawn(binary.path, [], {
      cwd: dir,
      // No node, no node_modules: only what the service needs to find Switchboard and itself.
      env: {
        PATH: join(dir, "no-such-dir"),
        HOME: dir,
        SWITCHBOARD_ADDRESS: server.grpcAddress,
        SWITCHBOARD_CACHE_FILE: "off",
        SWITCHBOARD_CONFIG_HEALTH_INTERVAL_MS: "1000",
        SWITCHBOARD_CONFIG_DRAIN_GRACE_MS: "300",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const logs: Array<Record<string, unknown>> = [];
    const waiters = new Set<() => void>();
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on("line", (line) => {
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          logs.push({ msg: line });
        }
        for (const wake of waiters) wake();
      });
    }
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const example: ExampleProcess = {
      pid: child.pid!,
      logs,
      exited,
      kill: (signal) => void (child.exitCode === null && child.signalCode === null && child.kill(signal)),
      logged: (msg, timeoutMs = 20_000) =>
        new Promise((resolve, reject) => {
          const check = () => {
            const entry = logs.find((e) => e.msg === msg);
            if (!entry) return;
            cleanup();
            resolve(entry);
          };
          const timer = setTimeout(() => {
            cleanup();
            reject(new Error(`no "${msg}" within ${timeoutMs} ms; logs:\n${logs.map((e) => JSON.stringify(e)).join("\n")}`));
          }, timeoutMs);
          const cleanup = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        }),
    };
    processes.push(example);
    return example;
  }

  async function placeOrder(port: number): Promise<Order> {
    const sentAt = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/orders`, {
      method: "POST",
      body: JSON.stringify({ amount_cents: 1000 }),
      signal: AbortSignal.timeout(5_000),
    });
    return { status: response.status, body: (await response.json()) as Order["body"], sentAt };
  }

  async function routable(service: string): Promise<string[]> {
    const { instances } = await client.registry.listInstances({ service });
    return instances.map((i) => i.instanceId).sort();
  }

  it("configures, registers, discovers, survives a killed instance and drains on SIGTERM", async () => {
    // Bootstrapping input: a namespace-wide value and a service value; the environment adds more.
    await client.config.putValue({ scope: {}, key: "currency", value: "EUR", contentType: "text/plain" });
    await client.config.putValue({ scope: { service: "payments" }, key: "fee.percent", value: "10", contentType: "text/plain" });

    const payA = start(payments, { INSTANCE_ID: "pay-a" });
    const payB = start(payments, { INSTANCE_ID: "pay-b" });
    const caller = start(orders, { INSTANCE_ID: "orders-1" });
    const [loaded] = await Promise.all([
      payA.logged("configuration loaded"),
      payA.logged("payments serving"),
      payB.logged("payments serving"),
    ]);
    expect(loaded.source).toBe("control-plane");
    expect(loaded.config).toMatchObject({ currency: "EUR", "fee.percent": "10", "health.interval.ms": "1000" });
    const port = Number((await caller.logged("orders serving")).port);

    // Registered, and healthy by Switchboard's HTTP checks (the default list shows routable ones only).
    await eventually(
      async () => (await routable("payments")).length === 2 && (await routable("orders")).length === 1,
      10_000,
      "registrations",
    );
    const { instances } = await client.registry.listInstances({ service: "payments" });
    expect(instances.map((i) => i.healthChecks[0]?.target?.$case)).toEqual(["http", "http"]);

    // Calls spread over both payments instances.
    const served = new Set<string>();
    await eventually(
      async () => {
        const order = await placeOrder(port);
        expect(order.status).toBe(201);
        expect(order.body.payment).toMatchObject({ total_cents: 1100, currency: "EUR" });
        served.add(order.body.payment!.instance_id);
        return served.size === 2;
      },
      10_000,
      "orders served by both payments instances",
    );

    // A repeated idempotency key is answered with the first charge, not charged again: what makes
    // orders' retry of a call that died with its instance safe.
    const payBPort = Number((await payB.logged("payments serving")).port);
    const channel = createChannel(`127.0.0.1:${payBPort}`);
    try {
      const direct = createClient(PaymentsServiceDefinition, channel);
      const request = { orderId: "direct-1", amountCents: 500, idempotencyKey: "direct-key-1" };
      const first = await direct.charge(request);
      expect(await direct.charge(request)).toEqual(first);
      expect((await direct.charge({ ...request, idempotencyKey: "direct-key-2" })).paymentId).not.toBe(first.paymentId);
    } finally {
      channel.close();
    }

    // Orders keep flowing while one payments instance dies without a word.
    const results: Order[] = [];
    let sending = true;
    const load = (async () => {
      while (sending) {
        results.push(await placeOrder(port));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    payA.kill("SIGKILL");
    const killedAt = Date.now();
    await payA.exited;
    // Switchboard's HTTP check (1 s interval, 2 failures) takes it out of the registry.
    await eventually(async () => (await routable("payments")).join() === "pay-b", 8_000, "pay-a removed by its health check");
    // Enough orders after the kill and after the removal, however slowly a loaded machine sends them.
    const removedAt = Date.now();
    await eventually(
      () => results.filter((r) => r.sentAt > killedAt).length > 10 && results.some((r) => r.sentAt > removedAt),
      30_000,
      "orders after pay-a's removal",
    );
    sending = false;
    await load;

    const failed = results.filter((r) => r.status !== 201);
    expect(failed).toEqual([]);
    const afterKill = results.filter((r) => r.sentAt > killedAt);
    expect(afterKill.length).toBeGreaterThan(10);
    expect(new Set(afterKill.map((r) => r.body.payment?.instance_id))).toEqual(new Set(["pay-b"]));

    // SIGTERM: drain, deregister, exit 0.
    caller.kill("SIGTERM");
    payB.kill("SIGTERM");
    expect(await caller.exited).toBe(0);
    expect(await payB.exited).toBe(0);
    expect(await routable("orders")).toEqual([]);
    const all = await client.registry.listInstances({ service: "payments", includeUnroutable: true });
    // pay-b deregistered itself; the killed pay-a is left to its lease (10 s) and is unroutable meanwhile.
    expect(all.instances.map((i) => i.instanceId)).not.toContain("pay-b");
  }, 90_000);
});
