import type { Logger } from "pino";
import type { Registry as MetricsRegistry } from "prom-client";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { InstanceState } from "../../generated/switchboard/registry/v1/registry.js";
import type { Instance, ServiceSummary, WatchResponse } from "../../generated/switchboard/registry/v1/registry.js";
import type { KeySpaceCache } from "../cache/index.js";
import {
  AlreadyExistsError,
  ConflictError,
  InvalidArgumentError,
  LeaseExpiredError,
  NotFoundError,
  UnavailableError,
} from "../errors.js";
import type { KeyValue, Store } from "../store/index.js";
import { fromStoreError } from "../store-errors.js";
import { decodeInstance, encodeInstance } from "./codec.js";
import { validateHealthChecks } from "./health-check-spec.js";
import { joinHealthStatus } from "./health-join.js";
import { deregisteredMarkerKey, healthStatusKey, instanceKey, parseInstanceKey } from "./keys.js";
import { createRegistryMetrics } from "./metrics.js";
import { createRegistryView, type RegistryView } from "./registry-view.js";
import { compileFilter, isUnhealthy } from "./routing.js";
import {
  generateInstanceId,
  validateAddress,
  validateLeaseId,
  validateMetadata,
  validateName,
  validateNamespace,
  validateOwner,
  validatePort,
  validateState,
  validateTags,
  validateTtl,
  validateWeight,
  validateZone,
} from "./validation.js";
import { createWatchHub, type WatchHub } from "./watch-hub.js";

export interface RegistryOptions {
  store: Store;
  cache: KeySpaceCache;
  /** Root key prefix, ending with "/". */
  prefix: string;
  logger: Logger;
  /**
   * A view to share (e.g. with src/health, so both see the same routability
   * and protection); the caller closes it. Default: one created here from
   * the cache, with protectionThreshold, protectionMinInstances and
   * expiryHoldMs, closed by close(). Watches resume from the cache's history
   * window (KeySpaceCacheOptions.historyLimit).
   */
  view?: RegistryView;
  /** Where to register the registry metrics; none when absent. */
  metrics?: MetricsRegistry;
  /**
   * Protection (panic) threshold: when more than this share of a service's UP
   * instances are UNHEALTHY, all its UP instances stay routable. 0 disables
   * protection. Default 0.5. Ignored when a view is given (it has its own).
   */
  protectionThreshold?: number;
  /**
   * UP instances a service needs before protection can apply; with fewer,
   * unhealthy instances always leave routing. Integer >= 1. Default 3.
   * Ignored when a view is given.
   */
  protectionMinInstances?: number;
  /** Per-stream Watch queue limit in messages. Default 1,000. */
  watchQueueLimit?: number;
  /** Bookmark interval of idle Watch streams. Default 10,000 ms. */
  bookmarkIntervalMs?: number;
  /** How long reads wait for min_revision (and watches for since_revision). Default 5,000 ms. */
  minRevisionTimeoutMs?: number;
  /**
   * Expiry hold of the instance view after a store stall (see
   * Instance.held_until). Default 10,000 ms; 0 disables. Ignored when a view is given.
   */
  expiryHoldMs?: number;
  /** Renewals one KeepAlive stream may have in flight. Default 256. */
  keepAliveConcurrency?: number;
  /** Clock (ms since the epoch) for registered_at and bookmarks. Default Date.now. */
  now?: () => number;
}

export interface RegisterInput {
  instance: Instance | undefined;
  /** 2..300; 0 means 10. */
  ttlSeconds: number;
}

export interface RegisterResult {
  instance: Instance;
  leaseId: string;
  ttlSeconds: number;
  revision: number;
}

export interface InstanceRef {
  /** "" means "default". */
  namespace: string;
  service: string;
  instanceId: string;
}

export interface UpdateInput extends InstanceRef {
  state?: InstanceState | undefined;
  weight?: number | undefined;
  /** Replaces all metadata when set. */
  metadata?: Record<string, string> | undefined;
  /** Replaces all tags when set. */
  tags?: string[] | undefined;
}

export interface GetInput extends InstanceRef {
  /** Wait until this replica has seen this revision. 0: no wait. */
  minRevision: number;
}

export interface ListInput {
  namespace: string;
  service: string;
  includeUnroutable: boolean;
  tags: string[];
  zone: string;
  metadataSelector: Record<string, string>;
  minRevision: number;
}

export interface WatchInput {
  namespace: string;
  /** "" watches every service of the namespace. */
  service: string;
  includeUnroutable: boolean;
  tags: string[];
  zone: string;
  sinceRevision: number;
}

export interface KeepAliveResult {
  leaseId: string;
  /** 0 when the lease is gone. */
  ttlSeconds: number;
}

/**
 * The registry: the write path goes to the store (leases, compare-and-set
 * transactions), every read and watch is served from the replica's
 * KeySpaceCache through a RegistryView. Usage:
 *
 *   const registry = createRegistry({ store, cache, prefix, logger });
 *   const { leaseId, revision } = await registry.register({ instance, ttlSeconds: 10 });
 *   await registry.heartbeat(leaseId);
 *   const { instances } = await registry.listInstances({ ...query, minRevision: revision });
 *   for await (const message of registry.watch({ namespace: "", service: "orders", ... }, signal)) ...
 */
export interface Registry {
  register(input: RegisterInput): Promise<RegisterResult>;
  /** Renews a lease; NotFoundError when it is gone. Answers the TTL. */
  heartbeat(leaseId: string): Promise<number>;
  /** Renews the leases named by a request stream, answering each (TTL 0 when gone), until requests end or signal aborts. */
  keepAlive(leaseIds: AsyncIterable<string>, signal: AbortSignal): AsyncGenerator<KeepAliveResult, void, undefined>;
  /** Deletes the instance and revokes its lease; answers the revision of the delete. */
  deregister(ref: InstanceRef): Promise<number>;
  updateInstance(input: UpdateInput): Promise<{ instance: Instance; revision: number }>;
  getInstance(input: GetInput, signal?: AbortSignal): Promise<{ instance: Instance; revision: number }>;
  listInstances(input: ListInput, signal?: AbortSignal): Promise<{ instances: Instance[]; revision: number }>;
  listServices(
    input: { namespace: string; minRevision: number },
    signal?: AbortSignal,
  ): Promise<{ services: ServiceSummary[]; revision: number }>;
  /** See WatchHub for the stream contract. */
  watch(input: WatchInput, signal: AbortSignal): AsyncGenerator<WatchResponse, void, undefined>;
  readonly view: RegistryView;
  readonly hub: WatchHub;
  /** Ends every watch stream and detaches from the cache. */
  close(): void;
}

// Compare-and-set retries before answering ABORTED (only under heavy contention on one instance).
const MAX_CAS_ATTEMPTS = 16;

export function createRegistry(options: RegistryOptions): Registry {
  const { store, cache, prefix } = options;
  const log = options.logger.child({ component: "registry" });
  const now = options.now ?? Date.now;
  const readTimeoutMs = options.minRevisionTimeoutMs ?? 5_000;
  const keepAliveConcurrency = options.keepAliveConcurrency ?? 256;
  const ownsView = options.view === undefined;
  const view =
    options.view ??
    createRegistryView({
      cache,
      prefix,
      logger: options.logger,
      ...(options.protectionThreshold !== undefined && { protectionThreshold: options.protectionThreshold }),
      ...(options.protectionMinInstances !== undefined && { protectionMinInstances: options.protectionMinInstances }),
      ...(options.expiryHoldMs !== undefined && { expiryHoldMs: options.expiryHoldMs }),
    });
  const metrics = options.metrics === undefined ? undefined : createRegistryMetrics(options.metrics, view);
  const hub = createWatchHub({
    view,
    logger: options.logger,
    catchUpTimeoutMs: readTimeoutMs,
    now,
    ...(options.watchQueueLimit !== undefined && { queueLimit: options.watchQueueLimit }),
    ...(options.bookmarkIntervalMs !== undefined && { bookmarkIntervalMs: options.bookmarkIntervalMs }),
    ...(metrics !== undefined && { metrics }),
  });
  let closed = false;
  // Wake-ups of the open KeepAlive streams; close() calls each so they end.
  // A Set rather than one 'abort' listener per stream on a registry-wide
  // signal: that would pile up listeners (and MaxListenersExceededWarning)
  // with every connected agent.
  const openKeepAlives = new Set<() => void>();

  /** Store errors → domain errors (the table in src/store-errors.ts); everything else passes. */
  const translate = fromStoreError;

  async function revokeQuietly(leaseId: string): Promise<void> {
    try {
      await store.revokeLease(leaseId);
    } catch (error) {
      // The lease then expires by itself within its TTL.
      log.warn({ err: error, leaseId }, "could not revoke lease");
    }
  }

  function decodeStored(kv: KeyValue): Instance | undefined {
    const name = parseInstanceKey(prefix, kv.key);
    if (name === undefined) return undefined;
    try {
      return decodeInstance(kv, name);
    } catch {
      return undefined;
    }
  }

  function validateRef(ref: InstanceRef): InstanceRef {
    return {
      namespace: validateNamespace(ref.namespace, "namespace"),
      service: validateName(ref.service, "service"),
      instanceId: validateName(ref.instanceId, "instance_id"),
    };
  }

  function validateRegistration(input: RegisterInput): { draft: Instance; ttlSeconds: number } {
    const instance = input.instance;
    if (instance === undefined) throw new InvalidArgumentError("instance", "required");
    const ttlSeconds = validateTtl(input.ttlSeconds, "ttl_seconds");
    const draft: Instance = {
      namespace: validateNamespace(instance.namespace, "instance.namespace"),
      service: validateName(instance.service, "instance.service"),
      instanceId: instance.instanceId === "" ? generateInstanceId() : validateName(instance.instanceId, "instance.instance_id"),
      address: validateAddress(instance.address, "instance.address"),
      port: validatePort(instance.port, "instance.port"),
      metadata: validateMetadata(instance.metadata, "instance.metadata"),
      tags: validateTags(instance.tags, "instance.tags"),
      zone: validateZone(instance.zone, "instance.zone"),
      weight: validateWeight(instance.weight, "instance.weight", true),
      state: validateState(instance.state, "instance.state", true),
      // Output-only fields are set by the server, whatever the request says.
      healthStatus: HealthStatus.HEALTH_STATUS_UNSPECIFIED,
      healthChecks: validateHealthChecks(instance.healthChecks, "instance.health_checks"),
      registeredAt: undefined,
      revision: "0",
      leaseId: "0",
      ttlSeconds: 0,
      owner: validateOwner(instance.owner, "instance.owner"),
      heldUntil: undefined,
    };
    return { draft, ttlSeconds };
  }

  /**
   * Read-your-writes on this replica: a write answers once this replica's view
   * shows it, so a resolve or watch started here after the answer includes it
   * (other replicas: min_revision). A view that cannot catch up in time does
   * not fail a committed write; it is logged.
   */
  async function settle(revision: number): Promise<void> {
    if (view.loaded && view.revision >= revision) return;
    await view.waitForRevision(revision, { timeoutMs: readTimeoutMs }).catch((error: unknown) => {
      log.warn({ err: error, revision }, "write committed but this replica's view has not caught up yet");
    });
  }

  async function ensureRevision(minRevision: number, signal?: AbortSignal): Promise<void> {
    if (view.loaded && view.revision >= minRevision) return;
    try {
      await view.waitForRevision(minRevision, { timeoutMs: readTimeoutMs, ...(signal !== undefined && { signal }) });
    } catch (error) {
      throw translate(error);
    }
  }

  async function register(input: RegisterInput): Promise<RegisterResult> {
    const { draft, ttlSeconds } = validateRegistration(input);
    const key = instanceKey(prefix, draft.namespace, draft.service, draft.instanceId);
    let leaseId: string | undefined;
    let committed = false;
    try {
      const lease = await store.grantLease(ttlSeconds);
      leaseId = lease.id;
      // First try "create if absent" (one round trip); a failed compare hands back the current value.
      let existing: KeyValue | undefined;
      for (let attempt = 1; ; attempt++) {
        let registeredAt = new Date(now());
        if (existing !== undefined) {
          const previous = decodeStored(existing);
          // An undecodable value is garbage: replace it. A live instance of another owner is not ours to take.
          if (previous !== undefined && previous.owner !== draft.owner) {
            throw new AlreadyExistsError(
              `instance ${draft.namespace}/${draft.service}/${draft.instanceId} is registered by another owner`,
            );
          }
          if (previous?.registeredAt !== undefined) registeredAt = previous.registeredAt;
        }
        const stored: Instance = { ...draft, registeredAt, leaseId: lease.id, ttlSeconds: lease.ttlSeconds };
        const result = await store.txn({
          compare: [{ key, modRevision: existing?.modRevision ?? 0 }],
          ops: [{ type: "put", key, value: encodeInstance(stored), lease: lease.id }],
        });
        if (result.succeeded) {
          committed = true;
          // Same owner re-registering: the old lease (and anything else on it, e.g. health results) goes.
          if (existing !== undefined && existing.lease !== "0" && existing.lease !== lease.id)
            await revokeQuietly(existing.lease);
          log.debug({ key, leaseId: lease.id, revision: result.revision, replaced: existing !== undefined }, "registered");
          await settle(result.revision);
          return {
            instance: { ...stored, revision: String(result.revision) },
            leaseId: lease.id,
            ttlSeconds: lease.ttlSeconds,
            revision: result.revision,
          };
        }
        existing = result.current[0];
        if (attempt >= MAX_CAS_ATTEMPTS) {
          throw new ConflictError(`instance ${key} is being changed concurrently; retry`, existing?.modRevision ?? 0);
        }
      }
    } catch (error) {
      // The lease we just granted vanished before the put: as if the store had failed.
      if (translate(error) instanceof LeaseExpiredError) throw new UnavailableError("lease lost during registration; retry");
      throw translate(error);
    } finally {
      if (!committed && leaseId !== undefined) await revokeQuietly(leaseId);
    }
  }

  async function heartbeat(leaseId: string): Promise<number> {
    validateLeaseId(leaseId);
    let ttl: number;
    try {
      ttl = await store.keepAlive(leaseId);
    } catch (error) {
      if (translate(error) instanceof LeaseExpiredError) ttl = 0;
      else throw translate(error);
    }
    if (ttl <= 0) throw new NotFoundError(`lease ${leaseId} not found or expired; register again`);
    return ttl;
  }

  async function renew(leaseId: string): Promise<number> {
    try {
      validateLeaseId(leaseId);
    } catch {
      return 0;
    }
    try {
      return Math.max(0, await store.keepAlive(leaseId));
    } catch (error) {
      if (translate(error) instanceof LeaseExpiredError) return 0;
      throw translate(error);
    }
  }

  async function* keepAlive(
    leaseIds: AsyncIterable<string>,
    signal: AbortSignal,
  ): AsyncGenerator<KeepAliveResult, void, undefined> {
    // Requests are renewed concurrently (the store multiplexes them over one
    // etcd stream) and answered as they complete; reading pauses while
    // keepAliveConcurrency renewals are in flight or unanswered.
    const results: KeepAliveResult[] = [];
    let failure: unknown;
    let inFlight = 0;
    let readerDone = false;
    // Wakes whoever waits (the reader for a free slot, the writer for results).
    const waiters = new Set<() => void>();
    const changed = () => {
      for (const resolve of waiters) resolve();
      waiters.clear();
    };
    const nextChange = () => new Promise<void>((resolve) => waiters.add(resolve));
    signal.addEventListener("abort", changed);
    openKeepAlives.add(changed);
    void (async () => {
      try {
        for await (const leaseId of leaseIds) {
          if (signal.aborted || closed || failure !== undefined) break;
          inFlight++;
          renew(leaseId)
            .then(
              (ttlSeconds) => void results.push({ leaseId, ttlSeconds }),
              (error: unknown) => void (failure ??= error),
            )
            .finally(() => {
              inFlight--;
              changed();
            });
          while (inFlight + results.length >= keepAliveConcurrency && !signal.aborted && failure === undefined)
            await nextChange();
        }
      } catch (error) {
        // The request stream failing is the call ending (client cancel); nothing to answer.
        if (!signal.aborted) failure ??= error;
      } finally {
        readerDone = true;
        changed();
      }
    })();
    try {
      while (true) {
        if (results.length > 0) {
          const ready = results.splice(0);
          for (const result of ready) yield result;
          changed();
          continue;
        }
        if (closed) throw new UnavailableError("server is shutting down");
        if (signal.aborted) return;
        if (failure !== undefined) throw failure;
        if (readerDone && inFlight === 0) return;
        await nextChange();
      }
    } finally {
      signal.removeEventListener("abort", changed);
      openKeepAlives.delete(changed);
      changed();
    }
  }

  async function deregister(input: InstanceRef): Promise<number> {
    const ref = validateRef(input);
    const key = instanceKey(prefix, ref.namespace, ref.service, ref.instanceId);
    try {
      let existing = await store.get(key);
      for (let attempt = 1; ; attempt++) {
        if (existing === undefined)
          throw new NotFoundError(`instance ${ref.namespace}/${ref.service}/${ref.instanceId} not found`);
        const result = await store.txn({
          compare: [{ key, modRevision: existing.modRevision }],
          // The marker tells every replica's view that this deletion is no lease expiry (see keys.ts).
          ops: [
            { type: "delete", key },
            { type: "put", key: deregisteredMarkerKey(prefix), value: new TextEncoder().encode(key) },
          ],
        });
        if (result.succeeded) {
          if (existing.lease !== "0") await revokeQuietly(existing.lease);
          await settle(result.revision);
          return result.revision;
        }
        existing = result.current[0];
        if (attempt >= MAX_CAS_ATTEMPTS && existing !== undefined) {
          throw new ConflictError(`instance ${key} is being changed concurrently; retry`, existing.modRevision);
        }
      }
    } catch (error) {
      throw translate(error);
    }
  }

  async function updateInstance(input: UpdateInput): Promise<{ instance: Instance; revision: number }> {
    const ref = validateRef(input);
    const state = input.state === undefined ? undefined : validateState(input.state, "state", false);
    const weight = input.weight === undefined ? undefined : validateWeight(input.weight, "weight", false);
    const metadata = input.metadata === undefined ? undefined : validateMetadata(input.metadata, "metadata.entries");
    const tags = input.tags === undefined ? undefined : validateTags(input.tags, "tags.values");
    const key = instanceKey(prefix, ref.namespace, ref.service, ref.instanceId);
    const notFound = () => new NotFoundError(`instance ${ref.namespace}/${ref.service}/${ref.instanceId} not found`);
    try {
      // Start from the cached copy; a stale one fails the compare and the store hands back the current value.
      let current = cache.get(key) ?? (await store.get(key));
      for (let attempt = 1; ; attempt++) {
        if (current === undefined) throw notFound();
        const instance = decodeStored(current);
        if (instance === undefined) throw notFound();
        const updated: Instance = {
          ...instance,
          ...(state !== undefined && { state }),
          ...(weight !== undefined && { weight }),
          ...(metadata !== undefined && { metadata }),
          ...(tags !== undefined && { tags }),
        };
        const lease = current.lease === "0" ? undefined : current.lease;
        let result;
        try {
          result = await store.txn({
            compare: [{ key, modRevision: current.modRevision }],
            ops: [{ type: "put", key, value: encodeInstance(updated), ...(lease !== undefined && { lease }) }],
          });
        } catch (error) {
          // The instance's lease expired between the read and the write.
          if (translate(error) instanceof LeaseExpiredError) throw notFound();
          throw error;
        }
        if (result.succeeded) {
          await settle(result.revision);
          // Health is not in the record (health-join.ts): answer the instance as readers see it.
          const answered = { ...updated, revision: String(result.revision) };
          const status = cache.get(healthStatusKey(prefix, ref.namespace, ref.service, ref.instanceId));
          return { instance: joinHealthStatus(answered, status), revision: result.revision };
        }
        current = result.current[0];
        if (attempt >= MAX_CAS_ATTEMPTS && current !== undefined) {
          throw new ConflictError(`instance ${key} is being changed concurrently; retry`, current.modRevision);
        }
      }
    } catch (error) {
      throw translate(error);
    }
  }

  async function getInstance(input: GetInput, signal?: AbortSignal) {
    const ref = validateRef(input);
    await ensureRevision(input.minRevision, signal);
    const instance = view.service(ref.namespace, ref.service)?.instances.get(ref.instanceId);
    if (instance === undefined) throw new NotFoundError(`instance ${ref.namespace}/${ref.service}/${ref.instanceId} not found`);
    return { instance, revision: view.revision };
  }

  async function listInstances(input: ListInput, signal?: AbortSignal) {
    const namespace = validateNamespace(input.namespace, "namespace");
    const service = validateName(input.service, "service");
    const match = compileFilter({
      includeUnroutable: input.includeUnroutable,
      tags: validateTags(input.tags, "tags"),
      zone: validateZone(input.zone, "zone"),
      metadataSelector: validateMetadata(input.metadataSelector, "metadata_selector"),
    });
    await ensureRevision(input.minRevision, signal);
    const state = view.service(namespace, service);
    const instances: Instance[] = [];
    if (state !== undefined) {
      for (const instance of state.instances.values()) if (match(instance, state.isRoutable(instance))) instances.push(instance);
      instances.sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
    }
    return { instances, revision: view.revision };
  }

  async function listServices(input: { namespace: string; minRevision: number }, signal?: AbortSignal) {
    // Here an empty namespace means every namespace.
    const namespace = input.namespace === "" ? undefined : validateName(input.namespace, "namespace");
    await ensureRevision(input.minRevision, signal);
    const services: ServiceSummary[] = view.services(namespace).map((state) => {
      let routableCount = 0;
      let unhealthyCount = 0;
      let drainingCount = 0;
      for (const instance of state.instances.values()) {
        if (state.isRoutable(instance)) routableCount++;
        if (isUnhealthy(instance)) unhealthyCount++;
        if (instance.state === InstanceState.INSTANCE_STATE_DRAINING) drainingCount++;
      }
      return {
        namespace: state.namespace,
        service: state.service,
        instanceCount: state.instances.size,
        routableCount,
        unhealthyCount,
        drainingCount,
        protectionActive: state.protectionActive,
      };
    });
    return { services, revision: view.revision };
  }

  function watch(input: WatchInput, signal: AbortSignal): AsyncGenerator<WatchResponse, void, undefined> {
    const namespace = validateNamespace(input.namespace, "namespace");
    const service = input.service === "" ? "" : validateName(input.service, "service");
    return hub.watch(
      {
        namespace,
        service,
        includeUnroutable: input.includeUnroutable,
        tags: validateTags(input.tags, "tags"),
        zone: validateZone(input.zone, "zone"),
        sinceRevision: input.sinceRevision,
      },
      signal,
    );
  }

  return {
    register,
    heartbeat,
    keepAlive,
    deregister,
    updateInstance,
    getInstance,
    listInstances,
    listServices,
    watch,
    view,
    hub,
    close() {
      if (closed) return;
      closed = true;
      for (const wake of openKeepAlives) wake();
      hub.close();
      if (ownsView) view.close();
    },
  };
}
