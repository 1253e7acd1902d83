import type { Logger } from "pino";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import {
  type CheckResult,
  type GetHealthRequest,
  type GetHealthResponse,
  InstanceHealth,
  ReportHealthRequest,
  type ReportHealthResponse,
  type WatchHealthRequest,
  type WatchHealthResponse,
} from "../../generated/switchboard/health/v1/health.js";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import type { CacheUpdate, KeySpaceCache } from "../cache/index.js";
import { InvalidArgumentError, NotFoundError, SwitchboardError, UnavailableError } from "../errors.js";
import {
  createRegistryView,
  DEFAULT_NAMESPACE,
  decodeInstance,
  encodeInstance,
  instanceKey,
  isDnsLabel,
  parseInstanceKey,
  parseRevision,
  resolveChecks,
  SELF_CHECK_NAME,
} from "../registry/index.js";
import type { CheckTarget, InstanceName, RegistryView, ResolvedCheck, ViewUpdate } from "../registry/index.js";
import { LeaseNotFoundError, StoreError } from "../store/index.js";
import type { KeyValue, Store } from "../store/index.js";
import type { CheckerFactory } from "./checker.js";
import { type Clock, systemClock } from "./clock.js";
import { createCheckerFactory } from "./default-checkers.js";
import { createHealthWatch } from "./health-watch.js";
import { createInstanceMonitor, type InstanceMonitor, summarizeChecks } from "./instance-monitor.js";
import { healthKey, instancePath, replicasPrefix, reportKey, reportsPrefix } from "./keys.js";
import { createReplicaMembership, type ReplicaMembership } from "./replica-membership.js";

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
 * - Ownership: each replica keeps replicas/{id} on its own lease and runs the
 *   checks of the instances rendezvous hashing assigns it among the live
 *   replicas in the cache. Schedulers start and stop as instances and
 *   replicas come and go (cache subscription); a check that moves resumes
 *   from the stored status, so moves do not flap.
 * - Transitions: when an instance's combined status (its checks and its
 *   self-report) differs from the stored health_status, the owner writes the
 *   instance record (compare-and-set on its mod revision, retried on
 *   conflict, same lease) and health/{ns}/{svc}/{id} (check results at the
 *   transition, same lease) in one transaction. Nothing else is written.
 * - Routing: the registry filters unhealthy instances at read time and keeps
 *   them routable while their service is in protection; this monitor only
 *   reports protection (GetHealth, a warning per activation, a metric).
 * - Self-reports: handled in memory by the owner (TTL timer there). A
 *   replica that receives a report for an instance it does not own relays it
 *   through health-reports/{ns}/{svc}/{id} (one write), which the owner picks up.
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
  getHealth(request: GetHealthRequest): Promise<GetHealthResponse>;
  reportHealth(request: ReportHealthRequest): Promise<ReportHealthResponse>;
  watchHealth(request: WatchHealthRequest, signal: AbortSignal): AsyncIterable<WatchHealthResponse>;
  /** "{namespace}/{service}/{instance_id}" of every instance whose checks run here, sorted. */
  ownedInstances(): string[];
  /** Current check states of an owned instance (undefined when not owned here). */
  localResults(namespace: string, service: string, instanceId: string): CheckResult[] | undefined;
  /** Stops every check and leaves replicas/ so the others take over at once. */
  close(): Promise<void>;
}

interface Owned {
  key: string;
  path: string;
  name: InstanceName;
  fingerprint: string;
  monitor: InstanceMonitor;
  released: boolean;
  /** Our last successful write, until the cache has caught up with it. */
  lastWritten?: { status: HealthStatus; revision: number };
  /** The last write attempt failed (logged once until one succeeds). */
  writeFailing: boolean;
  /** Serialises writes; at most one running and one queued. */
  chain: Promise<unknown>;
  queued?: Promise<number>;
}

const MAX_OUTPUT_CHARS = 4096;
const MIN_TTL_MS = 1_000;
const MAX_TTL_MS = 3_600_000;
const CAS_ATTEMPTS = 5;

export function createHealthMonitor(options: HealthMonitorOptions): HealthMonitor {
  const { store, cache, prefix, replicaId } = options;
  const log = options.logger.child({ component: "health" });
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics;
  const checkerFactory = options.checkerFactory ?? createCheckerFactory();
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
  const membership: ReplicaMembership = createReplicaMembership({
    store,
    cache,
    prefix,
    replicaId,
    logger: options.logger,
    clock,
    ttlSeconds: options.replicaTtlSeconds,
  });
  const owned = new Map<string, Owned>();
  const protectedServices = new Set<string>();
  const unsubscribes: Array<() => void> = [];
  let started: Promise<void> | undefined;
  let closed = false;
  let lastReplicas = "";

  const pathOf = (name: InstanceName) => `${name.namespace}/${name.service}/${name.instanceId}`;
  const owns = (path: string) => membership.ownerOf(path) === replicaId;

  const findInstance = (name: InstanceName): Instance | undefined =>
    view.service(name.namespace, name.service)?.instances.get(name.instanceId);

  const storedHealth = (name: InstanceName): { health: InstanceHealth; kv: KeyValue } | undefined => {
    const kv = cache.get(healthKey(prefix, name.namespace, name.service, name.instanceId));
    if (!kv) return undefined;
    try {
      return { health: InstanceHealth.decode(kv.value), kv };
    } catch (error) {
      log.warn({ err: error, key: kv.key }, "undecodable health record ignored");
      return undefined;
    }
  };

  const storedReport = (name: InstanceName): ReportHealthRequest | undefined => {
    const kv = cache.get(reportKey(prefix, name.namespace, name.service, name.instanceId));
    if (!kv) return undefined;
    try {
      return ReportHealthRequest.decode(kv.value);
    } catch {
      return undefined;
    }
  };

  const fingerprintOf = (instance: Instance) =>
    JSON.stringify([instance.leaseId, instance.address, instance.port, instance.healthChecks]);

  // ---- ownership ---------------------------------------------------------

  const release = (o: Owned) => {
    o.released = true;
    o.monitor.stop();
    owned.delete(o.key);
    metrics?.owned(owned.size);
  };

  const adopt = (name: InstanceName, instance: Instance, checks: ResolvedCheck[], fingerprint: string): Owned => {
    const key = instanceKey(prefix, name.namespace, name.service, name.instanceId);
    const stored = storedHealth(name)?.health;
    const o: Owned = {
      key,
      path: pathOf(name),
      name,
      fingerprint,
      released: false,
      writeFailing: false,
      chain: Promise.resolve(),
      monitor: undefined as unknown as InstanceMonitor,
    };
    o.monitor = createInstanceMonitor({
      checks,
      seed: { status: instance.healthStatus, checks: stored?.checks ?? [] },
      checkerFactory,
      clock,
      random: options.random,
      onChange: () => void evaluate(o).catch(() => {}),
      onProbe: (check, state, probe) => {
        metrics?.probe(check.target.kind, probe.ok, state.latencyMs);
        log.debug(
          { instance: o.path, check: check.name, ok: probe.ok, output: state.output, latencyMs: state.latencyMs },
          "probe",
        );
      },
    });
    owned.set(key, o);
    metrics?.owned(owned.size);
    const relayed = storedReport(name);
    if (relayed) o.monitor.report(selfReportOf(relayed));
    return o;
  };

  /** Brings the monitor of one instance in line with the view and the ownership rule. */
  const reconcileInstance = (name: InstanceName) => {
    const key = instanceKey(prefix, name.namespace, name.service, name.instanceId);
    const existing = owned.get(key);
    const instance = findInstance(name);
    if (instance === undefined || !owns(pathOf(name))) {
      if (existing) release(existing);
      return;
    }
    const fingerprint = fingerprintOf(instance);
    if (existing && existing.fingerprint === fingerprint) {
      // The record changed under us (our own transition, an update, a registry write): re-check.
      void evaluate(existing).catch(() => {});
      return;
    }
    if (existing) release(existing);
    const checks = resolveChecks(instance.healthChecks, instance);
    const hasSelf = storedReport(name) !== undefined || storedHealth(name)?.health.checks.some((c) => c.name === SELF_CHECK_NAME);
    if (checks.length === 0 && !hasSelf) return;
    adopt(name, instance, checks, fingerprint);
  };

  const reconcileAll = () => {
    if (closed) return;
    const seen = new Set<string>();
    for (const svc of view.services()) {
      for (const instance of svc.instances.values()) {
        const name = { namespace: svc.namespace, service: svc.service, instanceId: instance.instanceId };
        seen.add(instanceKey(prefix, name.namespace, name.service, name.instanceId));
        reconcileInstance(name);
      }
    }
    for (const o of [...owned.values()]) if (!seen.has(o.key)) release(o);
    const replicas = membership.liveReplicas().join(",");
    if (replicas !== lastReplicas) {
      lastReplicas = replicas;
      log.info({ replicas: membership.liveReplicas(), owned: owned.size }, "health-check replicas changed");
    }
  };

  const onCacheUpdate = (update: CacheUpdate) => {
    if (closed) return;
    if (update.type === "reset") {
      reconcileAll();
      return;
    }
    if (update.type !== "batch") return;
    let membershipChanged = false;
    const relays: KeyValue[] = [];
    const touched = new Map<string, InstanceName>();
    const replicasRoot = replicasPrefix(prefix);
    const reportsRoot = reportsPrefix(prefix);
    for (const event of update.batch.events) {
      const key = event.type === "put" ? event.kv.key : event.key;
      const name = parseInstanceKey(prefix, key);
      if (name) touched.set(key, name);
      else if (key.startsWith(replicasRoot)) membershipChanged = true;
      else if (event.type === "put" && instancePath(reportsRoot, key) !== undefined) relays.push(event.kv);
    }
    if (membershipChanged) reconcileAll();
    else {
      for (const name of touched.values()) reconcileInstance(name);
    }
    for (const kv of relays) applyRelay(kv);
  };

  const applyRelay = (kv: KeyValue) => {
    const path = instancePath(reportsPrefix(prefix), kv.key)!;
    const [namespace, service, instanceId] = path.split("/") as [string, string, string];
    const name = { namespace, service, instanceId };
    if (!owns(path)) return;
    const instance = findInstance(name);
    if (!instance) return;
    let report: ReportHealthRequest;
    try {
      report = ReportHealthRequest.decode(kv.value);
    } catch {
      return;
    }
    const existing = owned.get(instanceKey(prefix, namespace, service, instanceId));
    // adopt() applies the stored relay itself.
    if (existing) existing.monitor.report(selfReportOf(report));
    else adopt(name, instance, resolveChecks(instance.healthChecks, instance), fingerprintOf(instance));
  };

  // ---- transitions -------------------------------------------------------

  /** Writes a transition when the combined status differs from the stored one; resolves with its revision or 0. */
  const evaluate = (o: Owned): Promise<number> => {
    if (o.queued) return o.queued;
    const next = o.chain.then(() => {
      o.queued = undefined;
      return writeIfNeeded(o);
    });
    o.queued = next;
    o.chain = next.catch(() => 0);
    return next;
  };

  const writeIfNeeded = async (o: Owned): Promise<number> => {
    if (o.released || closed) return 0;
    const desired = o.monitor.status();
    if (desired === HealthStatus.HEALTH_STATUS_UNSPECIFIED) return 0;
    const kv = cache.get(o.key);
    if (!kv) return 0;
    let stored = findInstance(o.name)?.healthStatus ?? HealthStatus.HEALTH_STATUS_UNSPECIFIED;
    if (o.lastWritten && kv.modRevision < o.lastWritten.revision) stored = o.lastWritten.status;
    if (desired === stored) return 0;
    const revision = await writeTransition(o, desired, kv);
    if (revision > 0) o.lastWritten = { status: desired, revision };
    return revision;
  };

  const writeTransition = async (o: Owned, status: HealthStatus, first: KeyValue): Promise<number> => {
    let current: KeyValue | undefined = first;
    for (let attempt = 0; attempt < CAS_ATTEMPTS && current !== undefined; attempt++) {
      const instance = decodeInstance(current, o.name);
      if (instance.healthStatus === status) return 0;
      const previous = instance.healthStatus;
      instance.healthStatus = status;
      const checks = o.monitor.results();
      const health: InstanceHealth = {
        namespace: o.name.namespace,
        service: o.name.service,
        instanceId: o.name.instanceId,
        status,
        checks,
        lastTransitionAt: new Date(clock.now()),
        checkedBy: replicaId,
      };
      const lease = instance.leaseId && instance.leaseId !== "0" ? instance.leaseId : undefined;
      let result;
      try {
        result = await store.txn({
          compare: [{ key: o.key, modRevision: current.modRevision }],
          ops: [
            { type: "put", key: o.key, value: encodeInstance(instance), lease },
            {
              type: "put",
              key: healthKey(prefix, o.name.namespace, o.name.service, o.name.instanceId),
              value: InstanceHealth.encode(health).finish(),
              lease,
            },
          ],
        });
      } catch (error) {
        if (error instanceof LeaseNotFoundError) return 0; // the instance is going away with its lease
        // Retried at the next probe; said once per outage, not once per probe.
        if (!o.writeFailing && !closed)
          log.warn({ err: error, instance: o.path }, "could not write health transition; retrying at each probe");
        o.writeFailing = true;
        throw error;
      }
      if (o.writeFailing) log.info({ instance: o.path }, "health transitions can be written again");
      o.writeFailing = false;
      if (result.succeeded) {
        metrics?.transition(status);
        const output = summarizeChecks(checks);
        const fields = {
          instance: o.path,
          from: HealthStatus[previous],
          to: HealthStatus[status],
          output,
          revision: result.revision,
        };
        if (status === HealthStatus.HEALTH_STATUS_UNHEALTHY) log.warn(fields, "instance unhealthy");
        else log.info(fields, "instance health changed");
        return result.revision;
      }
      current = result.current[0];
    }
    return 0;
  };

  // ---- protection --------------------------------------------------------

  const syncProtection = (namespace: string, service: string) => {
    const svc = view.service(namespace, service);
    const id = `${namespace}/${service}`;
    const active = svc?.protectionActive ?? false;
    if (active === protectedServices.has(id)) return;
    if (active) {
      protectedServices.add(id);
      log.warn(
        {
          namespace,
          service,
          up: svc?.counts.up,
          unhealthy: svc?.counts.unhealthyUp,
          threshold: view.protectionThreshold,
          minInstances: view.protectionMinInstances,
        },
        "health protection active: more than the threshold share of the service's UP instances are unhealthy; " +
          "keeping all of them routable (the checker itself may be cut off)",
      );
    } else {
      protectedServices.delete(id);
      log.info({ namespace, service, up: svc?.counts.up, unhealthy: svc?.counts.unhealthyUp }, "health protection ended");
    }
    metrics?.protection(namespace, service, active);
  };

  const syncAllProtection = () => {
    const now = new Set(view.services().map((s) => `${s.namespace}/${s.service}`));
    for (const id of [...protectedServices]) if (!now.has(id)) now.add(id);
    for (const id of now) {
      const [namespace, service] = id.split("/") as [string, string];
      syncProtection(namespace, service);
    }
  };

  const onViewUpdate = (update: ViewUpdate) => {
    if (closed) return;
    if (update.type === "reset") syncAllProtection();
    else if (update.type === "changes") {
      for (const svc of update.changes.services) {
        if (
          svc.protectionBefore !== svc.protectionAfter ||
          protectedServices.has(`${svc.namespace}/${svc.service}`) !== svc.protectionAfter
        ) {
          syncProtection(svc.namespace, svc.service);
        }
      }
    }
  };

  // ---- reads -------------------------------------------------------------

  const describe = (instance: Instance): InstanceHealth => {
    const name = { namespace: instance.namespace, service: instance.service, instanceId: instance.instanceId };
    const o = owned.get(instanceKey(prefix, name.namespace, name.service, name.instanceId));
    const stored = storedHealth(name)?.health;
    let checks: CheckResult[];
    if (o) checks = o.monitor.results();
    else {
      const byName = new Map((stored?.checks ?? []).map((c) => [c.name, c]));
      checks = resolveChecks(instance.healthChecks, instance).map((check) => byName.get(check.name) ?? emptyResult(check.name));
      const self = byName.get(SELF_CHECK_NAME);
      if (self) checks.push(self);
    }
    const checkedBy = checks.length === 0 ? "" : o ? replicaId : (membership.ownerOf(pathOf(name)) ?? "");
    return {
      namespace: name.namespace,
      service: name.service,
      instanceId: name.instanceId,
      status: instance.healthStatus,
      checks,
      lastTransitionAt: stored?.lastTransitionAt,
      checkedBy,
    };
  };

  const transitionDetail = (instance: Instance, revision: number) => {
    const stored = storedHealth({ namespace: instance.namespace, service: instance.service, instanceId: instance.instanceId });
    if (!stored || stored.kv.modRevision !== revision) return { output: "" };
    return { output: summarizeChecks(stored.health.checks), at: stored.health.lastTransitionAt };
  };

  const watch = createHealthWatch({
    view,
    clock,
    describe,
    transitionDetail,
    queueLimit: options.watch?.queueLimit,
    bookmarkIntervalMs: options.watch?.bookmarkIntervalMs,
    onStream: (delta) => metrics?.watchStreams(delta),
  });

  /**
   * The instance from the view; on a miss, asks the store once, so a call
   * right after Register (possibly through another replica) still finds it.
   */
  const findOrWait = async (name: InstanceName): Promise<Instance> => {
    const found = findInstance(name);
    if (found) return found;
    const notFound = new NotFoundError(`instance ${name.namespace}/${name.service}/${name.instanceId} not found`);
    try {
      const kv = await store.get(instanceKey(prefix, name.namespace, name.service, name.instanceId));
      if (!kv) throw notFound;
      await view.waitForRevision(kv.modRevision, { timeoutMs: 5_000 });
    } catch (error) {
      throw toDomainError(error);
    }
    const instance = findInstance(name);
    if (!instance) throw notFound;
    return instance;
  };

  const ready = async () => {
    if (closed) throw new UnavailableError("health monitor closed");
    try {
      await view.waitForRevision(0);
    } catch (error) {
      throw toDomainError(error);
    }
  };

  return {
    start: () =>
      (started ??= (async () => {
        await view.ready;
        if (closed) return;
        await membership.start();
        if (closed) return;
        unsubscribes.push(cache.subscribe(onCacheUpdate));
        unsubscribes.push(view.subscribe(onViewUpdate));
        reconcileAll();
        syncAllProtection();
        log.info({ replicaId, owned: owned.size }, "health monitor started");
      })()),

    async getHealth(request) {
      const namespace = validateNamespace(request.namespace);
      const service = validateName(request.service, "service");
      const instanceId = request.instanceId === "" ? "" : validateName(request.instanceId, "instance_id");
      await ready();
      let instances: Instance[];
      if (instanceId !== "") {
        instances = [await findOrWait({ namespace, service, instanceId })];
      } else {
        instances = [...(view.service(namespace, service)?.instances.values() ?? [])].sort((a, b) =>
          a.instanceId < b.instanceId ? -1 : 1,
        );
      }
      return {
        instances: instances.map(describe),
        protectionActive: view.service(namespace, service)?.protectionActive ?? false,
        revision: String(view.revision),
      };
    },

    async reportHealth(request) {
      const namespace = validateNamespace(request.namespace);
      const service = validateName(request.service, "service");
      const instanceId = validateName(request.instanceId, "instance_id");
      if (request.status !== HealthStatus.HEALTH_STATUS_HEALTHY && request.status !== HealthStatus.HEALTH_STATUS_UNHEALTHY) {
        throw new InvalidArgumentError("status", "must be HEALTH_STATUS_HEALTHY or HEALTH_STATUS_UNHEALTHY");
      }
      if (request.output.length > MAX_OUTPUT_CHARS) {
        throw new InvalidArgumentError("output", `at most ${MAX_OUTPUT_CHARS} characters`);
      }
      if (request.ttlMs !== 0 && (request.ttlMs < MIN_TTL_MS || request.ttlMs > MAX_TTL_MS)) {
        throw new InvalidArgumentError("ttl_ms", `0 or ${MIN_TTL_MS}..${MAX_TTL_MS}`);
      }
      await ready();
      const name = { namespace, service, instanceId };
      const instance = await findOrWait(name);
      // Held after its lease expired (Instance.held_until): nothing can be written on that lease; the agent must register again.
      if (instance.heldUntil !== undefined)
        throw new NotFoundError(`instance ${namespace}/${service}/${instanceId} lease expired (held until it registers again)`);
      const key = instanceKey(prefix, namespace, service, instanceId);
      const owner = membership.ownerOf(pathOf(name));
      if (owner === replicaId || owner === undefined) {
        const o =
          owned.get(key) ?? adopt(name, instance, resolveChecks(instance.healthChecks, instance), fingerprintOf(instance));
        o.monitor.report(selfReportOf(request));
        try {
          return { revision: String(await evaluate(o)) };
        } catch (error) {
          throw toDomainError(error);
        }
      }
      // Another replica runs this instance's checks: relay the report through the store.
      const lease = instance.leaseId && instance.leaseId !== "0" ? instance.leaseId : undefined;
      try {
        await store.txn({
          ops: [
            {
              type: "put",
              key: reportKey(prefix, namespace, service, instanceId),
              value: ReportHealthRequest.encode({ ...request, namespace }).finish(),
              lease,
            },
          ],
        });
      } catch (error) {
        if (error instanceof LeaseNotFoundError) {
          throw new NotFoundError(`instance ${namespace}/${service}/${instanceId} not found`);
        }
        throw toDomainError(error);
      }
      return { revision: "0" };
    },

    watchHealth(request, signal) {
      const namespace = validateNamespace(request.namespace);
      const service = request.service === "" ? "" : validateName(request.service, "service");
      const sinceRevision = parseRevision(request.sinceRevision || "0", "since_revision");
      if (closed) throw new UnavailableError("health monitor closed");
      return watch({ namespace, service, sinceRevision }, signal);
    },

    ownedInstances: () => [...owned.values()].map((o) => o.path).sort(),

    localResults: (namespace, service, instanceId) =>
      owned.get(instanceKey(prefix, namespace, service, instanceId))?.monitor.results(),

    async close() {
      if (closed) return;
      closed = true;
      for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
      for (const o of [...owned.values()]) release(o);
      await membership.close();
      if (ownView) view.close();
      log.info("health monitor stopped");
    },
  };
}

function selfReportOf(request: ReportHealthRequest) {
  return {
    status:
      request.status === HealthStatus.HEALTH_STATUS_HEALTHY
        ? HealthStatus.HEALTH_STATUS_HEALTHY
        : HealthStatus.HEALTH_STATUS_UNHEALTHY,
    output: request.output,
    ttlMs: request.ttlMs,
  } as const;
}

/** An empty namespace means "default". */
function validateNamespace(namespace: string): string {
  return namespace === "" ? DEFAULT_NAMESPACE : validateName(namespace, "namespace");
}

function validateName(name: string, field: string): string {
  if (name === "") throw new InvalidArgumentError(field, "required");
  if (!isDnsLabel(name)) {
    throw new InvalidArgumentError(
      field,
      `${JSON.stringify(name.slice(0, 70))} is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)`,
    );
  }
  return name;
}

function emptyResult(name: string): CheckResult {
  return {
    name,
    status: HealthStatus.HEALTH_STATUS_UNSPECIFIED,
    output: "",
    latencyMs: 0,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    lastCheckedAt: undefined,
  };
}

function toDomainError(error: unknown): unknown {
  if (error instanceof SwitchboardError) return error;
  if (error instanceof StoreError && error.retryable) return new UnavailableError(error.message);
  return error;
}
