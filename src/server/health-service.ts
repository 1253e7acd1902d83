import { Counter, Gauge, Histogram } from "prom-client";
import type { Registry } from "prom-client";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import type { HealthServiceImplementation } from "../../generated/switchboard/health/v1/health.js";
import { createCheckerFactory, createHealthMonitor } from "../health/index.js";
import type { HealthMetrics, HealthMonitor, HealthMonitorOptions } from "../health/index.js";
import { UnavailableError } from "../errors.js";
import { parseRevision } from "../registry/index.js";
import type { ServiceDeps } from "./deps.js";
import { createGrpcHealthChecker } from "./grpc-health-checker.js";
import { createListReplicas } from "./list-replicas.js";
import type { HealthReport } from "./store-health.js";

/** Tuning of the health subsystem; every field defaults as documented on HealthMonitorOptions. */
export type HealthServiceOptions = Omit<
  HealthMonitorOptions,
  "store" | "cache" | "prefix" | "replicaId" | "logger" | "metrics" | "checkerFactory"
>;

/** The HealthService implementation plus the subsystem behind it (checks, replica membership). */
export interface HealthServiceHandle {
  impl: HealthServiceImplementation;
  monitor: HealthMonitor;
  /** Stops every check and leaves replicas/ (others take over at once). Call before closing the store. */
  close(): Promise<void>;
}

/**
 * switchboard.health.v1.HealthService and the active checks behind it. The
 * monitor starts at once (it waits for the cache itself) and stops when the
 * server's shutdown signal fires; close() lets the composition root wait for
 * that, so the replica lease is revoked while the store is still open.
 */
export function createHealthService(
  deps: ServiceDeps,
  options: HealthServiceOptions = {},
  /** This replica's store health, for ListReplicas. */
  storeReport: () => HealthReport,
): HealthServiceHandle {
  const log = deps.logger.child({ component: "health" });
  const monitor = createHealthMonitor({
    ...options,
    store: deps.store,
    cache: deps.cache,
    prefix: deps.prefix,
    replicaId: deps.replicaId,
    logger: deps.logger,
    metrics: healthMetrics(deps.metrics),
    checkerFactory: createCheckerFactory(createGrpcHealthChecker),
  });
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= monitor.close());
  monitor.start().catch((error: unknown) => {
    if (!deps.shutdownSignal.aborted) log.error({ err: error }, "health monitor failed to start");
  });
  deps.shutdownSignal.addEventListener("abort", () => void close(), { once: true });

  const impl: HealthServiceImplementation = {
    reportHealth: (request) =>
      monitor.reportHealth({
        namespace: request.namespace,
        service: request.service,
        instanceId: request.instanceId,
        status: request.status,
        output: request.output,
        ttlMs: request.ttlMs,
      }),
    listReplicas: createListReplicas({ cache: deps.cache, prefix: deps.prefix, replicaId: deps.replicaId, report: storeReport }),
    getHealth: (request) =>
      monitor.getHealth({ namespace: request.namespace, service: request.service, instanceId: request.instanceId }),
    async *watchHealth(request, context) {
      const input = {
        namespace: request.namespace,
        service: request.service,
        sinceRevision: parseRevision(request.sinceRevision, "since_revision"),
      };
      // context.signal aborts on client cancel and on server shutdown (call middleware).
      yield* monitor.watchHealth(input, context.signal);
      // The watch ends quietly when its signal aborts. A shutdown must not look
      // like a finished stream to the client but, as for Watch and WatchConfig,
      // UNAVAILABLE: resume elsewhere. (A client that cancelled gets nothing either way.)
      if (deps.shutdownSignal.aborted) throw new UnavailableError("server is shutting down; resume with since_revision");
    },
  };
  return { impl, monitor, close };
}

function healthMetrics(registry: Registry): HealthMetrics {
  const registers = [registry];
  const checks = new Counter({
    name: "switchboard_health_checks_total",
    help: "Active health-check probes run by this replica, by kind (http, grpc, tcp).",
    labelNames: ["kind"] as const,
    registers,
  });
  const failures = new Counter({
    name: "switchboard_health_check_failures_total",
    help: "Active health-check probes that failed (error, timeout, bad status), by kind.",
    labelNames: ["kind"] as const,
    registers,
  });
  const latency = new Histogram({
    name: "switchboard_health_check_duration_seconds",
    help: "Latency of active health-check probes, by kind.",
    labelNames: ["kind"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const transitions = new Counter({
    name: "switchboard_health_transitions_total",
    help: "Instance health transitions written by this replica, by new status.",
    labelNames: ["to"] as const,
    registers,
  });
  const protectionActive = new Gauge({
    name: "switchboard_health_protection_active",
    help: "1 for each service in protection: more than the threshold share of its UP instances are unhealthy, all kept routable.",
    labelNames: ["namespace", "service"] as const,
    registers,
  });
  const protectionActivations = new Counter({
    name: "switchboard_health_protection_activations_total",
    help: "Times a service entered protection.",
    registers,
  });
  const owned = new Gauge({
    name: "switchboard_health_owned_instances",
    help: "Instances whose checks run on this replica.",
    registers,
  });
  const streams = new Gauge({
    name: "switchboard_health_watch_streams",
    help: "Open WatchHealth streams.",
    registers,
  });
  return {
    probe(kind, ok, latencyMs) {
      checks.inc({ kind });
      if (!ok) failures.inc({ kind });
      latency.observe({ kind }, latencyMs / 1000);
    },
    transition(to) {
      transitions.inc({ to: statusLabel(to) });
    },
    protection(namespace, service, active) {
      if (active) {
        protectionActive.set({ namespace, service }, 1);
        protectionActivations.inc();
      } else {
        protectionActive.remove({ namespace, service });
      }
    },
    owned(count) {
      owned.set(count);
    },
    watchStreams(delta) {
      streams.inc(delta);
    },
  };
}

function statusLabel(status: HealthStatus): string {
  switch (status) {
    case HealthStatus.HEALTH_STATUS_HEALTHY:
      return "healthy";
    case HealthStatus.HEALTH_STATUS_UNHEALTHY:
      return "unhealthy";
    default:
      return "unspecified";
  }
}
