import type { Logger } from "pino";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import type { CacheUpdate, KeySpaceCache } from "../cache/index.js";
import { StoreUnavailableError } from "../store/index.js";
import type { WatchBatch } from "../store/index.js";
import { decodeInstance } from "./codec.js";
import { createExpiryHold, DEFAULT_EXPIRY_HOLD_MS } from "./expiry-hold.js";
import { joinHealthStatus } from "./health-join.js";
import {
  deregisteredMarkerKey,
  healthStatusKey,
  instanceKey,
  instancesPrefix,
  parseHealthStatusKey,
  parseInstanceKey,
} from "./keys.js";
import type { InstanceName } from "./keys.js";
import {
  DEFAULT_PROTECTION_MIN_INSTANCES,
  DEFAULT_PROTECTION_THRESHOLD,
  type HealthCounts,
  isProtectionActive,
  isRoutable,
  isUnhealthy,
  isUp,
  validateProtection,
} from "./routing.js";

export interface RegistryViewOptions {
  cache: KeySpaceCache;
  /** Root prefix of the store keys, ending with "/". */
  prefix: string;
  logger: Logger;
  /** Share of UP instances that must be UNHEALTHY before protection starts; 0 disables. Default 0.5. */
  protectionThreshold?: number;
  /** UP instances a service needs before protection can apply; with fewer, unhealthy ones always leave routing. Integer >= 1. Default 3. */
  protectionMinInstances?: number;
  /**
   * Expiry hold (rule on Instance.held_until in registry.proto): how long an
   * instance whose lease expired soon after the store was unreachable stays
   * routable, marked held. 0 disables. Default 10,000 ms (the default TTL).
   */
  expiryHoldMs?: number;
  /**
   * Makes the store produce a new revision (the server writes a key under
   * holds/), at which held instances whose hold ended are removed. Without
   * it they are removed at the next store change.
   */
  requestRevision?: () => Promise<unknown>;
  /** Clock of the expiry hold. Default Date.now. */
  now?: () => number;
}

/** One service as the view holds it. Read-only for callers. */
export interface ServiceView {
  readonly namespace: string;
  readonly service: string;
  /** Decoded instances by id (revision and lease_id filled from the store). */
  readonly instances: ReadonlyMap<string, Instance>;
  /** UP and unhealthy UP counts, as protection is decided on. */
  readonly counts: Readonly<HealthCounts>;
  /** At least protectionMinInstances UP instances and more than the threshold of them unhealthy: every UP instance is routable. */
  readonly protectionActive: boolean;
  isRoutable(instance: Instance): boolean;
}

/**
 * How one instance changed at one revision, routability included. before and
 * after are the same object when only routability changed (a protection
 * flip). Shared by every watch stream of the service: never mutate.
 */
export interface InstanceChange {
  readonly instanceId: string;
  readonly before: Instance | undefined;
  readonly beforeRoutable: boolean;
  readonly after: Instance | undefined;
  readonly afterRoutable: boolean;
}

/** The changes of one service at one revision. */
export interface ServiceChange {
  readonly namespace: string;
  readonly service: string;
  readonly revision: number;
  readonly protectionBefore: boolean;
  readonly protectionAfter: boolean;
  readonly changes: readonly InstanceChange[];
}

/** All instance changes of one revision. */
export interface RevisionChanges {
  readonly revision: number;
  readonly services: readonly ServiceChange[];
}

export type ViewUpdate =
  /** Instances changed at revision. */
  | { type: "changes"; changes: RevisionChanges }
  /** The revision advanced with no instance change (other keys, progress). */
  | { type: "progress"; revision: number }
  /** State reloaded at revision (cache relist); history before it is gone. */
  | { type: "reset"; revision: number };

/**
 * RegistryView is the decoded, per-service picture of every instance under
 * the prefix, kept in step with the KeySpaceCache (no store reads). For every
 * cache batch it computes, once per touched service, which instances changed
 * and which changed routability (health, state, protection flips). Those
 * changes are kept for as long as the cache keeps the batch they came from:
 * the cache's window (KeySpaceCacheOptions.historyLimit) is the one history,
 * and resuming maps its batches to the view's changes.
 *
 * Consistency: after `ready`, the view reflects exactly the cache state at
 * `revision`: listeners run synchronously inside the cache listener, so
 * anything that observes cache.revision >= R after an await also observes
 * view.revision >= R.
 */
export interface RegistryView {
  /** Resolves once the first cache load has been decoded. */
  readonly ready: Promise<void>;
  readonly loaded: boolean;
  readonly revision: number;
  readonly protectionThreshold: number;
  readonly protectionMinInstances: number;
  service(namespace: string, service: string): ServiceView | undefined;
  /** Services with at least one instance, sorted by namespace then service; one namespace when given. */
  services(namespace?: string): ServiceView[];
  /**
   * Instance changes with revision > sinceRevision, oldest first, or undefined
   * when the cache's history window does not reach back to sinceRevision,
   * the view (re)loaded after it, or sinceRevision is ahead of the view.
   */
  changesSince(sinceRevision: number): RevisionChanges[] | undefined;
  /** Listeners run synchronously after each update and must not block. */
  subscribe(listener: (update: ViewUpdate) => void): () => void;
  /** Tells the view the store was just seen unreachable: lease expiries that follow are held (see Instance.held_until). */
  noteStoreUnreachable(): void;
  /** Instances held after a store stall, across all services. */
  readonly heldCount: number;
  /** Resolves when loaded and revision >= minRevision; StoreUnavailableError on timeout. */
  waitForRevision(minRevision: number, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
  /**
   * For a watch resumed from sinceRevision: true once the view has reached
   * it, false when the store itself is behind it (send a reset snapshot);
   * see KeySpaceCache.waitForResume.
   */
  waitForResume(sinceRevision: number, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<boolean>;
  close(): void;
}

class MutableService implements ServiceView {
  readonly instances = new Map<string, Instance>();
  readonly counts: HealthCounts = { up: 0, unhealthyUp: 0 };
  protectionActive = false;
  constructor(
    readonly namespace: string,
    readonly service: string,
  ) {}
  isRoutable(instance: Instance): boolean {
    return isRoutable(instance, this.protectionActive);
  }
  add(instance: Instance, sign: 1 | -1): void {
    if (!isUp(instance)) return;
    this.counts.up += sign;
    if (isUnhealthy(instance)) this.counts.unhealthyUp += sign;
  }
}

export function createRegistryView(options: RegistryViewOptions): RegistryView {
  const { cache, prefix } = options;
  const log = options.logger.child({ component: "registry-view" });
  const threshold = options.protectionThreshold ?? DEFAULT_PROTECTION_THRESHOLD;
  const minInstances = options.protectionMinInstances ?? DEFAULT_PROTECTION_MIN_INSTANCES;
  validateProtection(threshold, minInstances);
  const root = instancesPrefix(prefix);
  const markerKey = deregisteredMarkerKey(prefix);
  const utf8 = new TextDecoder();
  const expiryHold = createExpiryHold({
    holdMs: options.expiryHoldMs ?? DEFAULT_EXPIRY_HOLD_MS,
    threshold,
    logger: log,
    now: options.now ?? Date.now,
    requestRevision: options.requestRevision,
  });
  // namespace → service → state
  const namespaces = new Map<string, Map<string, MutableService>>();
  const listeners = new Set<(update: ViewUpdate) => void>();
  // One history: the decoded changes of each batch (routability before and after included), keyed by the
  // very batch object the cache keeps in its window, so they go when the cache's window drops the batch.
  const changesOf = new WeakMap<WatchBatch, RevisionChanges>();
  // The revision the view last (re)loaded at: the cache's older batches were never decoded by it.
  let loadedAt = 0;
  let revision = 0;
  let loaded = false;
  let closed = false;
  let unsubscribe: (() => void) | undefined;

  const ready = cache.ready.then(() => {
    if (closed) return;
    // Subscribing and loading in one synchronous step: no batch can fall in between.
    unsubscribe = cache.subscribe(onCacheUpdate);
    load(cache.revision);
    loaded = true;
    log.debug({ revision }, "registry view loaded");
  });
  // A closed view never loads; readers awaiting `ready` are told by waitForRevision.
  ready.catch(() => {});

  function emit(update: ViewUpdate): void {
    for (const listener of listeners) {
      try {
        listener(update);
      } catch (error) {
        log.error({ err: error }, "registry view listener failed");
      }
    }
  }

  function getService(namespace: string, service: string, create: true): MutableService;
  function getService(namespace: string, service: string, create: false): MutableService | undefined;
  function getService(namespace: string, service: string, create: boolean): MutableService | undefined {
    let services = namespaces.get(namespace);
    if (services === undefined) {
      if (!create) return undefined;
      services = new Map();
      namespaces.set(namespace, services);
    }
    let state = services.get(service);
    if (state === undefined && create) {
      state = new MutableService(namespace, service);
      services.set(service, state);
    }
    return state;
  }

  function dropIfEmpty(state: MutableService): void {
    if (state.instances.size > 0) return;
    const services = namespaces.get(state.namespace);
    services?.delete(state.service);
    if (services?.size === 0) namespaces.delete(state.namespace);
  }

  /** The instance with its health status joined in (health-join.ts), as the cache holds both now. */
  function decode(kv: Parameters<typeof decodeInstance>[0], name: Parameters<typeof decodeInstance>[1]): Instance | undefined {
    try {
      return joinHealthStatus(
        decodeInstance(kv, name),
        cache.get(healthStatusKey(prefix, name.namespace, name.service, name.instanceId)),
      );
    } catch (error) {
      log.error({ err: error, key: kv.key }, "undecodable instance value; treated as absent");
      return undefined;
    }
  }

  function load(at: number): void {
    namespaces.clear();
    expiryHold.clear();
    for (const kv of cache.list(root)) {
      const name = parseInstanceKey(prefix, kv.key);
      if (name === undefined) continue;
      const instance = decode(kv, name);
      if (instance === undefined) continue;
      const state = getService(name.namespace, name.service, true);
      state.instances.set(name.instanceId, instance);
      state.add(instance, 1);
    }
    for (const services of namespaces.values()) {
      for (const state of services.values()) state.protectionActive = isProtectionActive(state.counts, threshold, minInstances);
    }
    revision = at;
    loadedAt = at;
  }

  function applyBatch(batch: WatchBatch): RevisionChanges | undefined {
    // Per touched service: the protection and the instances before the batch.
    const touched = new Map<MutableService, { protectionBefore: boolean; before: Map<string, Instance | undefined> }>();
    /** Records the instance as it was before the batch and takes it out of the service; answers it. */
    const take = (state: MutableService, instanceId: string): Instance | undefined => {
      let record = touched.get(state);
      if (record === undefined) {
        record = { protectionBefore: state.protectionActive, before: new Map() };
        touched.set(state, record);
      }
      const previous = state.instances.get(instanceId);
      if (!record.before.has(instanceId)) record.before.set(instanceId, previous);
      if (previous !== undefined) {
        state.add(previous, -1);
        state.instances.delete(instanceId);
      }
      return previous;
    };
    // Holds that ended are applied at this (new) revision, before its own events.
    for (const due of expiryHold.takeDue()) {
      const state = getService(due.namespace, due.service, false);
      if (state?.instances.get(due.instanceId)?.heldUntil === undefined) continue;
      take(state, due.instanceId);
      log.info({ ...due, revision: batch.revision }, "expiry hold ended; instance removed");
    }
    const statusChanged = new Map<string, InstanceName>();
    // Keys a Deregister deleted at this revision: explicit, never held nor counted as expiries.
    let deregistered: Set<string> | undefined;
    for (const event of batch.events) {
      if (event.type === "put" && event.kv.key === markerKey) (deregistered ??= new Set()).add(utf8.decode(event.kv.value));
    }
    for (const event of batch.events) {
      const key = event.type === "put" ? event.kv.key : event.key;
      const name = parseInstanceKey(prefix, key);
      if (name === undefined) {
        const health = parseHealthStatusKey(prefix, key);
        if (health !== undefined)
          statusChanged.set(instanceKey(prefix, health.namespace, health.service, health.instanceId), health);
        continue;
      }
      statusChanged.delete(key);
      const state = getService(name.namespace, name.service, true);
      const protectionNow = state.protectionActive;
      const previous = take(state, name.instanceId);
      if (previous?.heldUntil !== undefined) {
        expiryHold.forget(name.namespace, name.service, name.instanceId);
        if (event.type === "put") log.info({ ...name, revision: batch.revision }, "expiry hold: instance registered again");
      }
      if (event.type === "put") {
        const instance = decode(event.kv, name);
        if (instance !== undefined) {
          state.instances.set(name.instanceId, instance);
          state.add(instance, 1);
        }
      } else if (
        previous !== undefined &&
        previous.heldUntil === undefined &&
        isRoutable(previous, protectionNow) &&
        deregistered?.has(key) !== true &&
        // Counted first: every deletion of a routable instance feeds the burst rule.
        (expiryHold.noteDeletion() || expiryHold.inStallWindow())
      ) {
        const until = expiryHold.hold(name.namespace, name.service, name.instanceId, state.instances.size + 1);
        const held: Instance = { ...previous, heldUntil: new Date(until) };
        state.instances.set(name.instanceId, held);
        state.add(held, 1);
      }
    }
    for (const [key, name] of statusChanged) rejoin(key, name, take);
    if (touched.size === 0) return undefined;
    const services: ServiceChange[] = [];
    for (const [state, record] of touched) {
      const { protectionBefore } = record;
      const protectionAfter = isProtectionActive(state.counts, threshold, minInstances);
      state.protectionActive = protectionAfter;
      const changes: InstanceChange[] = [];
      for (const [instanceId, before] of record.before) {
        const after = state.instances.get(instanceId);
        if (before === undefined && after === undefined) continue;
        changes.push({
          instanceId,
          before,
          beforeRoutable: before !== undefined && isRoutable(before, protectionBefore),
          after,
          afterRoutable: after !== undefined && isRoutable(after, protectionAfter),
        });
      }
      if (protectionBefore !== protectionAfter) {
        log.debug(
          { namespace: state.namespace, service: state.service, protection: protectionAfter, ...state.counts },
          "protection flipped",
        );
        // Untouched instances whose routability flipped with protection: UP and unhealthy.
        for (const [instanceId, instance] of state.instances) {
          if (record.before.has(instanceId)) continue;
          const beforeRoutable = isRoutable(instance, protectionBefore);
          const afterRoutable = isRoutable(instance, protectionAfter);
          if (beforeRoutable !== afterRoutable) {
            changes.push({ instanceId, before: instance, beforeRoutable, after: instance, afterRoutable });
          }
        }
      }
      dropIfEmpty(state);
      if (changes.length > 0) {
        services.push({
          namespace: state.namespace,
          service: state.service,
          revision: batch.revision,
          protectionBefore,
          protectionAfter,
          changes,
        });
      }
    }
    return services.length > 0 ? { revision: batch.revision, services } : undefined;
  }

  /**
   * Health's status record of an instance changed while its instance record
   * did not (in this batch): the instance changes as the join says. Held
   * instances (no record in the cache) and joins that come out the same (a
   * stale record of an earlier lease going away) change nothing.
   */
  function rejoin(
    key: string,
    name: InstanceName,
    take: (state: MutableService, instanceId: string) => Instance | undefined,
  ): void {
    const kv = cache.get(key);
    const state = getService(name.namespace, name.service, false);
    const current = state?.instances.get(name.instanceId);
    if (kv === undefined || state === undefined || current === undefined || current.heldUntil !== undefined) return;
    const joined = decode(kv, name);
    if (joined === undefined || (joined.healthStatus === current.healthStatus && joined.revision === current.revision)) return;
    take(state, name.instanceId);
    state.instances.set(name.instanceId, joined);
    state.add(joined, 1);
  }

  function onCacheUpdate(update: CacheUpdate): void {
    if (update.type === "reset") {
      load(update.revision);
      log.info({ revision: update.revision }, "registry view reloaded after cache reset");
      emit({ type: "reset", revision: update.revision });
      return;
    }
    if (update.type === "progress") {
      revision = Math.max(revision, update.revision);
      emit({ type: "progress", revision });
      return;
    }
    const changes = applyBatch(update.batch);
    revision = update.batch.revision;
    if (changes === undefined) {
      emit({ type: "progress", revision });
      return;
    }
    changesOf.set(update.batch, changes);
    emit({ type: "changes", changes });
  }

  function compareServices(a: ServiceView, b: ServiceView): number {
    if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
    return a.service < b.service ? -1 : a.service > b.service ? 1 : 0;
  }

  return {
    ready,
    get loaded() {
      return loaded;
    },
    get revision() {
      return revision;
    },
    protectionThreshold: threshold,
    protectionMinInstances: minInstances,
    noteStoreUnreachable: () => expiryHold.noteStoreUnreachable(),
    get heldCount() {
      return expiryHold.size;
    },
    service: (namespace, service) => getService(namespace, service, false),
    services(namespace) {
      const out: ServiceView[] = [];
      if (namespace !== undefined) {
        for (const state of namespaces.get(namespace)?.values() ?? []) out.push(state);
      } else {
        for (const services of namespaces.values()) for (const state of services.values()) out.push(state);
      }
      return out.sort(compareServices);
    },
    changesSince(sinceRevision) {
      if (!loaded || sinceRevision > revision || sinceRevision < loadedAt) return undefined;
      const batches = cache.batchesSince(sinceRevision);
      if (batches === undefined) return undefined;
      const out: RevisionChanges[] = [];
      for (const batch of batches) {
        // Batches without an entry changed no instance (other keys, progress).
        const changes = changesOf.get(batch);
        if (changes !== undefined) out.push(changes);
      }
      return out;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    async waitForRevision(minRevision, waitOptions = {}) {
      if (closed) throw new StoreUnavailableError("registry view closed");
      if (loaded && revision >= minRevision) return;
      await cache.waitForRevision(minRevision, waitOptions);
      await ready;
      if (closed || revision < minRevision) {
        throw new StoreUnavailableError(`registry view not caught up to revision ${minRevision} (at ${revision})`);
      }
    },
    async waitForResume(sinceRevision, waitOptions = {}) {
      if (closed) throw new StoreUnavailableError("registry view closed");
      if (loaded && revision >= sinceRevision) return true;
      const resumable = await cache.waitForResume(sinceRevision, waitOptions);
      await ready;
      if (closed) throw new StoreUnavailableError("registry view closed");
      if (resumable && revision < sinceRevision) {
        throw new StoreUnavailableError(`registry view not caught up to revision ${sinceRevision} (at ${revision})`);
      }
      return resumable;
    },
    close() {
      closed = true;
      expiryHold.close();
      unsubscribe?.();
      listeners.clear();
    },
  };
}
