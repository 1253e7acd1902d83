/**
 * payments: the callee of the example pair, a gRPC service (payments.v1.PaymentsService).
 * The four lifecycle stages, with nothing but the Switchboard SDK:
 *
 * 1. assembly       one executable, runtime included (npm run build:examples → dist/examples/payments)
 * 2. bootstrapping  configuration from Switchboard (service "payments") overlaid with environment
 *                   variables, followed live: a new fee.percent applies to the next charge
 * 3. registration   an agent registers this instance on a lease and keeps it alive; on SIGTERM it
 *                   drains (callers move away), deregisters, and the process exits
 * 4. monitoring     an HTTP health endpoint, declared in the registration, that Switchboard checks
 *
 * Environment (deployment facts; everything else is configuration in Switchboard):
 *   SWITCHBOARD_ADDRESS   control plane(s), e.g. "sb-1:7000,sb-2:7000" (default localhost:7000)
 *   PORT                  gRPC port (default 0: any free port); HEALTH_PORT likewise for /health
 *   ADVERTISE_HOST        address callers and health checks use to reach this instance (default 127.0.0.1)
 *   INSTANCE_ID           default: payments-<hostname>-<pid>
 * Configuration keys (service "payments"; SWITCHBOARD_CONFIG_<KEY> overrides, e.g. SWITCHBOARD_CONFIG_FEE_PERCENT):
 *   currency (USD), fee.percent (0), health.interval.ms (5000), drain.grace.ms (2000)
 */
import { hostname } from "node:os";
import { createServer, ServerError, Status } from "nice-grpc";
import { pino } from "pino";
import { bootstrap, createAgent, createSwitchboardClient, serveHealth } from "@switchboard/client";
import type { Agent } from "@switchboard/client";
import { PaymentsServiceDefinition } from "./generated/payments/v1/payments.js";
import type { ChargeResponse, PaymentsServiceImplementation } from "./generated/payments/v1/payments.js";

const log = pino({ name: "payments" });
/** Idempotency keys remembered (memory bound of the example's ledger). */
const LEDGER_LIMIT = 10_000;

async function main(): Promise<void> {
  const env = process.env;
  const instanceId = env.INSTANCE_ID || `payments-${hostname()}-${process.pid}`;
  const advertiseHost = env.ADVERTISE_HOST || "127.0.0.1";

  // 2. Bootstrapping: resolved config + environment, watched for changes.
  const client = createSwitchboardClient();
  const config = await bootstrap({ client, service: "payments", logger: log, watch: true });
  config.onChange(({ changedKeys, revision }) => log.info({ changedKeys, revision }, "configuration changed"));
  log.info({ source: config.source, revision: config.revision, config: config.toObject() }, "configuration loaded");

  let charges = 0;
  // Charges by idempotency key. Callers retry a Charge that failed UNAVAILABLE (orders does), and
  // UNAVAILABLE does not prove nothing was charged: the instance may have charged and died before
  // its answer left. So a repeated key gets the first result and is not charged again. A real
  // payments service keeps this ledger where every instance sees it (a unique key in its database,
  // or the payment provider's own idempotency key), so that a retry landing on another instance
  // finds the first charge too; the example keeps it in memory (the oldest keys beyond
  // LEDGER_LIMIT are forgotten), which covers retries that reach the same instance.
  const ledger = new Map<string, ChargeResponse>();
  const payments: PaymentsServiceImplementation = {
    async charge(request) {
      if (request.orderId === "") throw new ServerError(Status.INVALID_ARGUMENT, "order_id is required");
      if (request.amountCents <= 0) throw new ServerError(Status.INVALID_ARGUMENT, "amount_cents must be positive");
      const key = request.idempotencyKey;
      const earlier = key === "" ? undefined : ledger.get(key);
      if (earlier !== undefined) {
        log.info({ orderId: request.orderId, paymentId: earlier.paymentId }, "repeated charge answered from the ledger");
        return earlier;
      }
      // Read per call, so a change pushed by Switchboard applies to the next charge.
      const feePercent = config.getNumber("fee.percent", 0);
      charges += 1;
      const payment: ChargeResponse = {
        paymentId: `pay-${request.orderId}-${charges}`,
        totalCents: Math.round(request.amountCents * (1 + feePercent / 100)),
        currency: config.get("currency", "USD"),
        instanceId,
      };
      if (key !== "") {
        ledger.set(key, payment);
        if (ledger.size > LEDGER_LIMIT) ledger.delete(ledger.keys().next().value as string);
      }
      return payment;
    },
  };
  const server = createServer();
  server.add(PaymentsServiceDefinition, payments);
  const port = await server.listen(`0.0.0.0:${Number(env.PORT ?? 0)}`);

  // 4. Monitoring: {"status":"UP"} while the agent runs, DOWN once it drains.
  let agent: Agent | undefined;
  const health = await serveHealth({
    port: Number(env.HEALTH_PORT ?? 0),
    agent: {
      get status() {
        return agent?.status ?? "idle";
      },
    },
  });

  // 3. Registration: on a lease kept alive by the agent, with the health check Switchboard runs.
  agent = createAgent({
    client,
    instance: {
      service: "payments",
      instanceId,
      address: advertiseHost,
      port,
      tags: ["grpc"],
      metadata: { version: "1" },
      healthChecks: [
        {
          name: "http",
          target: { $case: "http", value: { url: "", path: "/health", port: health.port, headers: {} } },
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
  log.info({ instanceId, port, healthPort: health.port }, "payments serving");

  const shutdown = async (signal: NodeJS.Signals) => {
    log.info({ signal }, "draining");
    await agent?.drain();
    await server.shutdown();
    await health.close();
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

// No top-level await: the single executable is a CommonJS bundle.
main().catch((error: unknown) => {
  log.fatal({ err: error }, "payments failed to start");
  process.exit(1);
});
