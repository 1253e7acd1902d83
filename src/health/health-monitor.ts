import type { Logger } from "pino";
import type { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import type {
  CheckResult,
  GetHealthResponse,
  ReportHealthResponse,
  WatchHealthResponse,
} from "../../generated/switchboard/health/v1/health.js";
import type { KeySpaceCache } from "../cache/index.js";
import { NotFoundError, UnavailableError } from "../errors.js";
import { createRegistryView, instanceKey, watchProtection } from "../registry/index.js";
import type { CheckTarget, RegistryView } from "../registry/index.js";
import type { Store } from "../store/index.js";
import { fromStoreError } from "../store-errors.js";
import type { CheckerFactory } from "./checker.js";
import { type Clock, systemClock } from "./clock.js";
import { createCheckerFactory } from "./default-checkers.js";
import {
  type GetHealthInput,
  type ReportHealthInput,
  validateGetHealth,
  validateReportHealth,
  validateWatchHealth,
  type WatchHealthInput,
} from "./health-input.js";
import { createHealthReads } from "./health-reads.js";
import { createHealthWatch } from "./health-watch.js";
import { createOwnership } from "./ownership.js";
import { createReplicaMembership } from "./replica-membership.js";
import { createSelfReportRelay } from "./self-report-relay.js";
import { createStatusReader } from "./status-record.js";
import { createTransitionWriter } from "./transitions.js";

/** Counters and gauges the monitor reports; src/server backs them with prom-client. */
export interface HealthMetrics {
  /** One probe of an active check finished. */
  probe(kind: CheckTarget["kind"], ok: boolean, latencyMs: number): void;
  /** This replica wrote a status transition. */
  transition(to: HealthStatus): void;
  /** A service entered or left protection (as this replica's view sees it). */
  protection(namespace: string, service: string, active: boolean): void;
  /** Instances whose checks this replica runs. */
  owned(count: number): void;
  watchStreams(delta: 1 | -1): void;
}

export interface HealthMonitorOptions {
  store: Store;
  cache: KeySpaceCache;
  /** Root key prefix, ending with "/". */
  prefix: string;
  replicaId: string;
  logger: Logger;
  /** Instances and protection as the registry computes them; created from the cache when omitted (and closed with the monitor). */
  view?: RegistryView;
  /** Used only when the view is created here. Default: the registry's default (0.5). */
  protectionThreshold?: number;
  /** Used only when the view is created here. Default: the registry's default (3). */
  protectionMinInstances?: number;
  /** Default: HTTP and TCP only (gRPC probes fail, saying why); the server passes one with gRPC. */
  checkerFactory?: CheckerFactory;
  /** Default: the system clock. */
  clock?: Clock;
  /** First-run stagger source in [0, 1). Default Math.random. */
  random?: () => number;
  /** TTL of this replica's membership lease: a dead replica's checks move within it. Default 5 s. */
  replicaTtlSeconds?: number;
  metrics?: HealthMetrics;
  /** WatchHealth stream limits: queue default 1,000 messages, bookmark every 10,000 ms when idle. */
  watch?: { queueLimit?: number; bookmarkIntervalMs?: number };
}

/**
 * The health subsystem of one control-plane replica.
 *
 * - Ownership (ownership.ts, replica-membership.ts): each replica keeps
 *   replicas/{id} on its own lease and runs the checks of the instances
 *   rendezvous hashing assigns it among the live replicas in the cache.
 * - Transitions (transitions.ts): when an instance's combined status (its
 *   checks and its self-report) differs from the one readers see, the owner
 *   writes health/{ns}/{svc}/{id}, health's own status record, on the
 *   instance's lease. The instance record (instances/) is never written: the
 *   registry view joins the status into the instance (registry/health-join.ts),
 *   so ListInstances, Watch and routability see it.
 * - Routing: the registry filters unhealthy instances at read time and keeps
 *   them routable while their service is in protection; this monitor only
 *   reports protection (GetHealth, registry/protection-alerts.ts, a metric).
 * - Self-reports (self-report-relay.ts): handled in memory by the owner (TTL
 *   timer there). A replica that receives a report for an instance it does
 *   not own relays it through health-reports/{ns}/{svc}/{id}.
 * - Reads (health-reads.ts) and WatchHealth (health-watch.ts) come from the view.
 *
 * @example
 * const monitor = createHealthMonitor({ store, cache, prefix, replicaId, logger });
 * await monitor.start();
 * const health = await monitor.getHealth({ namespace: "", service: "orders", instanceId: "" });
 * await monitor.close();
 */
export interface HealthMonitor {
  /** Waits for the cache, joins replicas/ and starts the checks this replica owns. */
  start(): Promise<void>;
  getHealth(input: GetHealthInput): Promise<GetHealthResponse>;
  reportHealth(input: ReportHealthInput): Promise<ReportHealthResponse>;
  watchHealth(input: WatchHealthInput, signal: AbortSignal): AsyncIterable<WatchHealthResponse>;
  /** "{namespace}/{service}/{instance_id}" of every instance whose checks run here, sorted. */
  ownedInstances(): string[];
  /** Current check states of an owned instance (undefined when not owned here). */
  localResults(namespace: string, service: string, instanceId: string): CheckResult[] | undefined;
  /** Stops every check and leaves replicas/ so the others take over at once. */
  close(): Promise<void>;
}

export function createHealthMonitor(options: HealthMonitorOptions): HealthMonitor {
  const { store, cache, prefix, replicaId } = options;
  const log = options.logger.child({ component: "health" });
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics;
  const ownView = options.view === undefined;
  const view =
    options.view ??
    createRegistryView({
      cache,
      prefix,
      logger: options.logger,
      protectionThreshold: options.protectionThreshold,
      protectionMinInstances: options.protectionMinInstances,
    });
  let started: Promise<void> | undefined;
  let closed = false;
  let stopProtection: (() => void) | undefined;
  const isClosed = () => closed;

  const membership = createReplicaMembership({
    store,
    cache,
    prefix,
    replicaId,
    logger: options.logger,
    clock,
    ttlSeconds: options.replicaTtlSeconds,
  });
  const readStatus = createStatusReader(cache, prefix, log);
  const relay = createSelfReportRelay({ store, cache, prefix });
  const notifier = createTransitionWriter({
    store,
    view,
    readStatus,
    prefix,
    replicaId,
    clock,
    logger: log,
    onTransition: (to) => metrics?.transition(to),
    closed: isClosed,
  });
  const ownership = createOwnership({
    cache,
    view,
    membership,
    prefix,
    replicaId,
    logger: log,
    checkerFactory: options.checkerFactory ?? createCheckerFactory(),
    clock,
    random: options.random,
    readStatus,
    relay,
    notifier,
    onProbe: (kind, ok, latencyMs) => metrics?.probe(kind, ok, latencyMs),
    onOwnedCount: (count) => metrics?.owned(count),
  });
  const reads = createHealthReads({
    view,
    ownership,
    readStatus,
    replicaId,
    // A read of the registry's record: does the instance exist yet, and since when.
    lookUp: async (name) => (await store.get(instanceKey(prefix, name.namespace, name.service, name.instanceId)))?.modRevision,
    closed: isClosed,
  });
  const watch = createHealthWatch({
    view,
    clock,
    describe: reads.describe,
    transitionDetail: reads.transitionDetail,
    queueLimit: options.watch?.queueLimit,
    bookmarkIntervalMs: options.watch?.bookmarkIntervalMs,
    onStream: (delta) => metrics?.watchStreams(delta),
  });

  return {
    start: () =>
      (started ??= (async () => {
        await view.ready;
        if (closed) return;
        await membership.start();
        if (closed) return;
        ownership.start();
        stopProtection = watchProtection({
          view,
          logger: log,
          onChange: (namespace, service, active) => metrics?.protection(namespace, service, active),
        });
        log.info({ replicaId, owned: ownership.size }, "health monitor started");
      })()),

    getHealth: async (input) => reads.getHealth(validateGetHealth(input)),

    async reportHealth(input) {
      const report = validateReportHealth(input);
      await reads.ready();
      const instance = await reads.findOrWait(report);
      // Held after its lease expired (Instance.held_until): nothing can be written on that lease; the agent must register again.
      if (instance.heldUntil !== undefined)
        throw new NotFoundError(
          `instance ${report.namespace}/${report.service}/${report.instanceId} lease expired (held until it registers again)`,
        );
      const owner = ownership.ownerOf(report);
      if (owner === replicaId || owner === undefined) {
        const o = ownership.getOrAdopt(report, instance);
        o.monitor.report({ status: report.status, output: report.output, ttlMs: report.ttlMs });
        try {
          return { revision: String(await notifier.statusChanged(o)) };
        } catch (error) {
          throw fromStoreError(error);
        }
      }
      // Another replica runs this instance's checks: relay the report through the store.
      await relay.relay(report, instance.leaseId);
      return { revision: "0" };
    },

    watchHealth(input, signal) {
      const request = validateWatchHealth(input);
      if (closed) throw new UnavailableError("health monitor closed");
      return watch(request, signal);
    },

    ownedInstances: () => ownership.paths(),

    localResults: (namespace, service, instanceId) => ownership.get({ namespace, service, instanceId })?.monitor.results(),

    async close() {
      if (closed) return;
      closed = true;
      stopProtection?.();
      ownership.close();
      await membership.close();
      if (ownView) view.close();
      log.info("health monitor stopped");
    },
  };
}
