import type { Logger } from "pino";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { type CheckResult, InstanceHealth } from "../../generated/switchboard/health/v1/health.js";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import { LeaseExpiredError } from "../errors.js";
import { healthStatusKey } from "../registry/index.js";
import type { InstanceName, RegistryView } from "../registry/index.js";
import type { KeyValue, Store } from "../store/index.js";
import { fromStoreError } from "../store-errors.js";
import type { Clock } from "./clock.js";
import { summarizeChecks } from "./instance-monitor.js";
import type { StatusReader } from "./status-record.js";

/** An owned instance as the transition writer sees it. */
export interface StatusSubject {
  readonly name: InstanceName;
  /** "{namespace}/{service}/{instance_id}", for logs. */
  readonly path: string;
  /** True once this replica stopped checking the instance: nothing more is written for it. */
  readonly released: boolean;
  /** The combined status of the checks and the self-report. */
  status(): HealthStatus;
  results(): CheckResult[];
}

/**
 * What an instance's checks report through (one method, as Consul's check
 * notifier): "my combined status may have changed". Resolves with the
 * revision of the transition written, or 0 when nothing was written.
 */
export interface StatusNotifier {
  statusChanged(subject: StatusSubject): Promise<number>;
}

export interface TransitionWriterOptions {
  store: Store;
  view: RegistryView;
  readStatus: StatusReader;
  prefix: string;
  replicaId: string;
  clock: Clock;
  logger: Logger;
  /** This replica wrote a transition. */
  onTransition?: (to: HealthStatus) => void;
  /** True once the monitor is closing: nothing more is written. */
  closed: () => boolean;
}

/** Per subject: writes are serialised (at most one running and one queued). */
interface WriteState {
  chain: Promise<unknown>;
  queued?: Promise<number>;
  /** Our last successful write, until the cache has caught up with it. */
  lastWritten?: { status: HealthStatus; revision: number };
  /** The last attempt failed (logged once until one succeeds). */
  failing: boolean;
}

const CAS_ATTEMPTS = 5;

/**
 * Writes transitions: when an owned instance's combined status differs from
 * the one readers see (the registry view's join), the owner writes
 * health/{ns}/{svc}/{id} (status, check results, time, replica) on the
 * instance's lease, compare-and-set on that record's own revision. Only
 * health writes this key, so the compare fails only while ownership moves
 * between replicas. The instance record is never written.
 */
export function createTransitionWriter(options: TransitionWriterOptions): StatusNotifier {
  const { store, view, readStatus, prefix, replicaId, clock } = options;
  const log = options.logger;
  const states = new WeakMap<StatusSubject, WriteState>();

  const findInstance = (name: InstanceName): Instance | undefined =>
    view.service(name.namespace, name.service)?.instances.get(name.instanceId);

  const writeIfNeeded = async (subject: StatusSubject, state: WriteState): Promise<number> => {
    if (subject.released || options.closed()) return 0;
    const desired = subject.status();
    if (desired === HealthStatus.HEALTH_STATUS_UNSPECIFIED) return 0;
    const instance = findInstance(subject.name);
    // Held instances have no lease left to write on.
    if (instance === undefined || instance.heldUntil !== undefined) return 0;
    let seen = instance.healthStatus;
    const stored = readStatus(subject.name);
    if (state.lastWritten && (stored?.kv.modRevision ?? 0) < state.lastWritten.revision) seen = state.lastWritten.status;
    if (desired === seen) return 0;
    const revision = await write(subject, state, desired, instance, stored?.kv);
    if (revision > 0) state.lastWritten = { status: desired, revision };
    return revision;
  };

  const write = async (
    subject: StatusSubject,
    state: WriteState,
    status: HealthStatus,
    instance: Instance,
    first: KeyValue | undefined,
  ): Promise<number> => {
    const { name } = subject;
    const key = healthStatusKey(prefix, name.namespace, name.service, name.instanceId);
    const lease = instance.leaseId && instance.leaseId !== "0" ? instance.leaseId : undefined;
    const previous = instance.healthStatus;
    let current = first;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      // A record of this registration already saying so: nothing to write.
      if (current !== undefined && current.lease === instance.leaseId && decodedStatus(current) === status) return 0;
      const checks = subject.results();
      const health: InstanceHealth = {
        namespace: name.namespace,
        service: name.service,
        instanceId: name.instanceId,
        status,
        checks,
        lastTransitionAt: new Date(clock.now()),
        checkedBy: replicaId,
      };
      let result;
      try {
        result = await store.txn({
          compare: [{ key, modRevision: current?.modRevision ?? 0 }],
          ops: [{ type: "put", key, value: InstanceHealth.encode(health).finish(), lease }],
        });
      } catch (caught) {
        const error = fromStoreError(caught);
        if (error instanceof LeaseExpiredError) return 0; // the instance is going away with its lease
        // Retried at the next probe; said once per outage, not once per probe.
        if (!state.failing && !options.closed())
          log.warn({ err: caught, instance: subject.path }, "could not write health transition; retrying at each probe");
        state.failing = true;
        throw error;
      }
      if (state.failing) log.info({ instance: subject.path }, "health transitions can be written again");
      state.failing = false;
      if (result.succeeded) {
        options.onTransition?.(status);
        const fields = {
          instance: subject.path,
          from: HealthStatus[previous],
          to: HealthStatus[status],
          output: summarizeChecks(checks),
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

  return {
    statusChanged(subject) {
      let state = states.get(subject);
      if (state === undefined) {
        state = { chain: Promise.resolve(), failing: false };
        states.set(subject, state);
      }
      if (state.queued) return state.queued;
      const own = state;
      const next = own.chain.then(() => {
        own.queued = undefined;
        return writeIfNeeded(subject, own);
      });
      own.queued = next;
      own.chain = next.catch(() => 0);
      return next;
    },
  };
}

function decodedStatus(kv: KeyValue): HealthStatus | undefined {
  try {
    return InstanceHealth.decode(kv.value).status;
  } catch {
    return undefined;
  }
}
