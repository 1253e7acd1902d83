import type { Logger } from "pino";
import type { CheckResult } from "../../generated/switchboard/health/v1/health.js";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import type { CacheUpdate, KeySpaceCache } from "../cache/index.js";
import { parseHealthStatusKey, parseInstanceKey, resolveChecks, SELF_CHECK_NAME } from "../registry/index.js";
import type { CheckTarget, InstanceName, RegistryView } from "../registry/index.js";
import type { CheckerFactory } from "./checker.js";
import type { Clock } from "./clock.js";
import { createInstanceMonitor, type InstanceMonitor, type SelfReport } from "./instance-monitor.js";
import { replicasPrefix } from "./keys.js";
import type { ReplicaMembership } from "./replica-membership.js";
import type { SelfReportRelay } from "./self-report-relay.js";
import type { StatusReader } from "./status-record.js";
import type { StatusNotifier, StatusSubject } from "./transitions.js";

/** An instance whose checks run on this replica. */
export interface OwnedInstance extends StatusSubject {
  readonly monitor: InstanceMonitor;
}

export interface OwnershipOptions {
  cache: KeySpaceCache;
  view: RegistryView;
  membership: ReplicaMembership;
  prefix: string;
  replicaId: string;
  logger: Logger;
  checkerFactory: CheckerFactory;
  clock: Clock;
  random?: () => number;
  readStatus: StatusReader;
  relay: SelfReportRelay;
  /** Where owned instances report their combined status. */
  notifier: StatusNotifier;
  onProbe?: (kind: CheckTarget["kind"], ok: boolean, latencyMs: number) => void;
  onOwnedCount?: (count: number) => void;
}

/**
 * Which replica checks which instance: an instance belongs to the live
 * replica rendezvous hashing picks (replica-membership.ts); this keeps one
 * InstanceMonitor per instance this replica owns, started and stopped as
 * instances, their status records and the replicas come and go (cache
 * subscription). A check that moves resumes from the stored status, so
 * moves do not flap.
 */
export interface Ownership {
  /** Subscribes to the cache and adopts what this replica owns now. Call once the view is ready. */
  start(): void;
  owns(name: InstanceName): boolean;
  /** The live owner of an instance, if any replica is live. */
  ownerOf(name: InstanceName): string | undefined;
  get(name: InstanceName): OwnedInstance | undefined;
  /** The owned instance, adopted now if needed (a self-report to an instance without checks). */
  getOrAdopt(name: InstanceName, instance: Instance): OwnedInstance;
  /** "{namespace}/{service}/{instance_id}" of every owned instance, sorted. */
  paths(): string[];
  readonly size: number;
  /** Stops every check and unsubscribes. */
  close(): void;
}

interface Owned extends OwnedInstance {
  fingerprint: string;
  released: boolean;
  monitor: InstanceMonitor;
}

export const pathOf = (name: InstanceName): string => `${name.namespace}/${name.service}/${name.instanceId}`;

const fingerprintOf = (instance: Instance) =>
  JSON.stringify([instance.leaseId, instance.address, instance.port, instance.healthChecks]);

export function createOwnership(options: OwnershipOptions): Ownership {
  const { cache, view, membership, prefix, replicaId, readStatus, relay, notifier } = options;
  const log = options.logger;
  const owned = new Map<string, Owned>();
  let unsubscribe: (() => void) | undefined;
  let closed = false;
  let lastReplicas = "";

  const findInstance = (name: InstanceName): Instance | undefined =>
    view.service(name.namespace, name.service)?.instances.get(name.instanceId);
  const owns = (name: InstanceName) => membership.ownerOf(pathOf(name)) === replicaId;
  const changed = (o: Owned) => void notifier.statusChanged(o).catch(() => {});

  const release = (o: Owned) => {
    o.released = true;
    o.monitor.stop();
    owned.delete(o.path);
    options.onOwnedCount?.(owned.size);
  };

  const adopt = (name: InstanceName, instance: Instance): Owned => {
    const path = pathOf(name);
    const stored = readStatus(name)?.health;
    const o: Owned = {
      name,
      path,
      fingerprint: fingerprintOf(instance),
      released: false,
      monitor: undefined as unknown as InstanceMonitor,
      status: () => o.monitor.status(),
      results: (): CheckResult[] => o.monitor.results(),
    };
    o.monitor = createInstanceMonitor({
      checks: resolveChecks(instance.healthChecks, instance),
      seed: { status: instance.healthStatus, checks: stored?.checks ?? [] },
      checkerFactory: options.checkerFactory,
      clock: options.clock,
      random: options.random,
      onChange: () => changed(o),
      onProbe: (check, state, probe) => {
        options.onProbe?.(check.target.kind, probe.ok, state.latencyMs);
        log.debug({ instance: path, check: check.name, ok: probe.ok, output: state.output, latencyMs: state.latencyMs }, "probe");
      },
    });
    owned.set(path, o);
    options.onOwnedCount?.(owned.size);
    const relayed = relay.stored(name);
    if (relayed) o.monitor.report(relayed);
    return o;
  };

  /** Brings the monitor of one instance in line with the view and the ownership rule. */
  const reconcileInstance = (name: InstanceName) => {
    const existing = owned.get(pathOf(name));
    const instance = findInstance(name);
    if (instance === undefined || !owns(name)) {
      if (existing) release(existing);
      return;
    }
    if (existing && existing.fingerprint === fingerprintOf(instance)) {
      // The instance or its status changed under us (our own transition, an update, another replica): re-check.
      changed(existing);
      return;
    }
    if (existing) release(existing);
    const checks = resolveChecks(instance.healthChecks, instance);
    const hasSelf = relay.stored(name) !== undefined || readStatus(name)?.health.checks.some((c) => c.name === SELF_CHECK_NAME);
    if (checks.length === 0 && !hasSelf) return;
    adopt(name, instance);
  };

  const reconcileAll = () => {
    if (closed) return;
    const seen = new Set<string>();
    for (const svc of view.services()) {
      for (const instance of svc.instances.values()) {
        const name = { namespace: svc.namespace, service: svc.service, instanceId: instance.instanceId };
        seen.add(pathOf(name));
        reconcileInstance(name);
      }
    }
    for (const o of [...owned.values()]) if (!seen.has(o.path)) release(o);
    const replicas = membership.liveReplicas().join(",");
    if (replicas !== lastReplicas) {
      lastReplicas = replicas;
      log.info({ replicas: membership.liveReplicas(), owned: owned.size }, "health-check replicas changed");
    }
  };

  const applyRelay = (name: InstanceName, report: SelfReport) => {
    if (!owns(name)) return;
    const instance = findInstance(name);
    if (!instance) return;
    const existing = owned.get(pathOf(name));
    // adopt() applies the stored relay itself.
    if (existing) existing.monitor.report(report);
    else adopt(name, instance);
  };

  const onCacheUpdate = (update: CacheUpdate) => {
    if (closed) return;
    if (update.type === "reset") {
      reconcileAll();
      return;
    }
    if (update.type !== "batch") return;
    let membershipChanged = false;
    const relays: Array<{ name: InstanceName; report: SelfReport }> = [];
    const touched = new Map<string, InstanceName>();
    const replicasRoot = replicasPrefix(prefix);
    for (const event of update.batch.events) {
      const key = event.type === "put" ? event.kv.key : event.key;
      const name = parseInstanceKey(prefix, key) ?? parseHealthStatusKey(prefix, key);
      if (name) touched.set(pathOf(name), name);
      else if (key.startsWith(replicasRoot)) membershipChanged = true;
      else if (event.type === "put") {
        const relayed = relay.relayed(event.kv);
        if (relayed) relays.push(relayed);
      }
    }
    if (membershipChanged) reconcileAll();
    else {
      for (const name of touched.values()) reconcileInstance(name);
    }
    for (const { name, report } of relays) applyRelay(name, report);
  };

  return {
    start() {
      if (closed || unsubscribe) return;
      unsubscribe = cache.subscribe(onCacheUpdate);
      reconcileAll();
    },
    owns,
    ownerOf: (name) => membership.ownerOf(pathOf(name)),
    get: (name) => owned.get(pathOf(name)),
    getOrAdopt: (name, instance) => owned.get(pathOf(name)) ?? adopt(name, instance),
    paths: () => [...owned.keys()].sort(),
    get size() {
      return owned.size;
    },
    close() {
      closed = true;
      unsubscribe?.();
      for (const o of [...owned.values()]) release(o);
    },
  };
}
