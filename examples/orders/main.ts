/**
 * orders: the caller of the example pair, an HTTP service that charges every order through the
 * payments service. It never knows where payments runs: its gRPC channel dials
 * `switchboard:///payments`, and the Switchboard resolver keeps grpc-js's round-robin list equal
 * to the live, healthy, non-draining instances. A call that hits an instance that just died is
 * retried on another (the SDK's retry middleware, with one idempotency key per order), so killing
 * a payments instance costs callers nothing.
 *
 * The same four stages as payments (see ../payments/main.ts): one executable; configuration
 * from Switchboard (service "orders") and environment; registration kept alive by an agent;
 * an HTTP /health endpoint (on the API port) declared in the registration.
 *
 *   POST /orders {"amount_cents": 1250}  →  201 {"order_id": "...", "payment": {...}}
 *   GET  /health                          →  200 {"status":"UP"} | 503 {"status":"DOWN"}
 *
 * Environment: SWITCHBOARD_ADDRESS, PORT (HTTP, default 0), ADVERTISE_HOST (127.0.0.1), INSTANCE_ID.
 * Configuration keys (service "orders"): payments.timeout.ms (2000), health.interval.ms (5000),
 * drain.grace.ms (2000).
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { ClientError, createChannel, createClientFactory } from "nice-grpc";
import { pino } from "pino";
import {
  bootstrap,
  createAgent,
  createHealthEndpoint,
  createRetryMiddleware,
  createSwitchboardClient,
  registerSwitchboardResolver,
} from "@switchboard/client";
import type { Agent } from "@switchboard/client";
import { PaymentsServiceDefinition } from "../payments/generated/payments/v1/payments.js";

const log = pino({ name: "orders" });

/**
 * Retry on UNAVAILABLE (3 attempts, 50 ms → 500 ms apart): a call sent to a payments instance that
 * died before the resolver's list caught up, or that died while answering, goes to another one.
 * The SDK middleware and not a grpc-js retry policy: grpc-js never retries a call once response
 * headers arrived, and an instance killed between its headers and its status leaves exactly such a
 * call. Charge is safe to retry only because every order sends one idempotency key on all
 * attempts (see ../payments/main.ts): the first attempt may have charged before its instance died.
 */
const retry = createRetryMiddleware({ logger: log });

async function main(): Promise<void> {
  const env = process.env;
  const instanceId = env.INSTANCE_ID || `orders-${hostname()}-${process.pid}`;
  const client = createSwitchboardClient();
  const config = await bootstrap({ client, service: "orders", logger: log, watch: true });
  log.info({ source: config.source, revision: config.revision, config: config.toObject() }, "configuration loaded");

  // Discovery: by name only.
  registerSwitchboardResolver({ client });
  // The resolver's service config: round_robin over the live, healthy instances.
  const channel = createChannel("switchboard:///payments");
  const payments = createClientFactory().use(retry).create(PaymentsServiceDefinition, channel);

  let agent: Agent | undefined;
  const health = createHealthEndpoint({
    agent: {
      get status() {
        return agent?.status ?? "idle";
      },
    },
  });
  let orders = 0;

  async function placeOrder(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readJson(request);
    const amountCents = typeof body?.amount_cents === "number" ? body.amount_cents : NaN;
    if (!Number.isInteger(amountCents) || amountCents <= 0) {
      return send(response, 400, { error: "amount_cents must be a positive integer" });
    }
    orders += 1;
    const orderId = `${instanceId}-${orders}`;
    try {
      const payment = await payments.charge(
        { orderId, amountCents, idempotencyKey: randomUUID() },
        { signal: AbortSignal.timeout(config.getNumber("payments.timeout.ms", 2000)) },
      );
      send(response, 201, {
        order_id: orderId,
        payment: {
          payment_id: payment.paymentId,
          total_cents: payment.totalCents,
          currency: payment.currency,
          instance_id: payment.instanceId,
        },
      });
    } catch (error) {
      log.warn({ err: error, orderId }, "payment failed");
      const detail = error instanceof ClientError ? `${error.code}: ${error.details}` : String(error);
      send(response, 502, { order_id: orderId, error: `payments: ${detail}` });
    }
  }

  const server = createServer((request, response) => {
    if (health.handle(request, response)) return;
    if (request.method === "POST" && request.url === "/orders") {
      placeOrder(request, response).catch((error: unknown) => {
        log.error({ err: error }, "order handler failed");
        if (!response.headersSent) send(response, 500, { error: "internal error" });
      });
      return;
    }
    send(response, 404, { error: "not found" });
  });
  await new Promise<void>((resolve) => server.listen(Number(env.PORT ?? 0), resolve));
  const port = (server.address() as AddressInfo).port;

  agent = createAgent({
    client,
    instance: {
      service: "orders",
      instanceId,
      address: env.ADVERTISE_HOST || "127.0.0.1",
      port,
      tags: ["http"],
      healthChecks: [
        {
          name: "http",
          target: { $case: "http", value: { url: "", path: "/health", port: 0, headers: {} } },
          intervalMs: config.getNumber("health.interval.ms", 5000),
          timeoutMs: 1000,
          unhealthyThreshold: 2,
          healthyThreshold: 1,
        },
      ],
    },
    ttlSeconds: 10,
    drainGraceMs: config.getNumber("drain.grace.ms", 2000),
    logger: log,
  });
  await agent.start();
  log.info({ instanceId, port }, "orders serving");

  const shutdown = async (signal: NodeJS.Signals) => {
    log.info({ signal }, "draining");
    await agent?.drain();
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    channel.close();
    config.close();
    client.close();
    log.info("stopped");
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, (s) => {
      shutdown(s).catch((error: unknown) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      });
    });
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

// No top-level await: the single executable is a CommonJS bundle.
main().catch((error: unknown) => {
  log.fatal({ err: error }, "orders failed to start");
  process.exit(1);
});
