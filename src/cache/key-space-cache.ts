import type { Logger } from "pino";
import { CompactedError, StoreUnavailableError } from "../store/index.js";
import type { Store, WatchBatch } from "../store/index.js";
import { HistoryWindow } from "./history.js";
import { KeyIndex } from "./key-index.js";
import type { CacheUpdate, KeySpaceCache } from "./types.js";

export interface KeySpaceCacheOptions {
  store: Store;
  /** Root prefix to mirror, e.g. "/switchboard/". */
  prefix: string;
  logger: Logger;
  /**
   * Revisions kept for resuming watches: the one history of the replica, from
   * which the registry, health and config watches all resume. It counts
   * revisions of any key under the prefix (instances, health status, config,
   * markers) and progress notices, not only the changes one domain cares
   * about. Default 10,000.
   */
  historyLimit?: number;
  /** Default timeout of waitForRevision. Default 5,000 ms. */
  waitTimeoutMs?: number;
  /** Backoff after a failed list or watch: first and maximum delay. Default 100 ms .. 5,000 ms. */
  retryDelayMs?: { min: number; max: number };
}

/**
 * Creates and starts the cache. Usage:
 *
 *   const cache = createKeySpaceCache({ store, prefix: "/switchboard/", logger });
 *   await cache.waitForRevision(minRevision);        // also waits for the first load
 *   const instances = cache.list("/switchboard/instances/default/orders/");
 *   const stop = cache.subscribe((update) => queue.push(update));
 */
export function createKeySpaceCache(options: KeySpaceCacheOptions): KeySpaceCache {
  const { store, prefix, logger } = options;
  const log = logger.child({ component: "cache" });
  const waitTimeoutMs = options.waitTimeoutMs ?? 5_000;
  const retry = options.retryDelayMs ?? { min: 100, max: 5_000 };
  const index = new KeyIndex();
  const history = new HistoryWindow(options.historyLimit ?? 10_000);
  const listeners = new Set<(update: CacheUpdate) => void>();
  const waiters = new Set<Waiter>();
  const lifetime = new AbortController();
  let revision = 0;
  let loaded = false;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  function emit(update: CacheUpdate): void {
    for (const listener of listeners) {
      try {
        listener(update);
      } catch (error) {
        log.error({ err: error }, "cache listener failed");
      }
    }
  }

  // Only called once loaded, so a waiter for revision 0 (readiness only) resolves on the first load.
  function advance(to: number): void {
    revision = to;
    for (const waiter of waiters) if (waiter.minRevision <= to) waiter.resolve();
  }

  function apply(batch: WatchBatch): void {
    for (const event of batch.events) {
      if (event.type === "put") index.set(event.kv);
      else index.delete(event.key);
    }
    // The same object goes to history and to subscribers: domains key what they derive from it by it.
    history.push(batch);
    advance(batch.revision);
    emit(batch.events.length > 0 ? { type: "batch", batch } : { type: "progress", revision: batch.revision });
  }

  async function load(): Promise<number> {
    const { kvs, revision: listed } = await store.list(prefix);
    index.clear();
    for (const kv of kvs) index.set(kv);
    history.reset(listed);
    const wasLoaded = loaded;
    loaded = true;
    advance(listed);
    if (wasLoaded) emit({ type: "reset", revision: listed });
    markReady();
    log.info({ revision: listed, keys: kvs.length, reload: wasLoaded }, "cache loaded");
    return listed;
  }

  // List at R, watch from R + 1; on any failure the watch cannot recover from, list again with backoff.
  async function run(): Promise<void> {
    let delay = retry.min;
    while (!lifetime.signal.aborted) {
      try {
        const listed = await load();
        delay = retry.min;
        for await (const batch of store.watch(prefix, listed + 1, lifetime.signal)) apply(batch);
      } catch (error) {
        if (lifetime.signal.aborted) break;
        if (error instanceof CompactedError) log.warn({ compactRevision: error.compactRevision }, "watch compacted; reloading");
        else log.warn({ err: error, retryInMs: delay }, "cache list/watch failed; keeping last state and retrying");
        await sleep(delay, lifetime.signal);
        delay = Math.min(delay * 2, retry.max);
      }
    }
  }

  const running = run();

  return {
    ready,
    get revision() {
      return revision;
    },
    get: (key) => index.get(key),
    list: (subPrefix) => index.list(subPrefix),
    changesSince: (subPrefix, sinceRevision) => history.since(subPrefix, sinceRevision),
    batchesSince: (sinceRevision) => history.after(sinceRevision),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitForRevision(minRevision, waitOptions = {}) {
      if (loaded && revision >= minRevision) return Promise.resolve();
      return waitFor(minRevision, waitOptions.timeoutMs ?? waitTimeoutMs, waitOptions.signal);
    },
    async waitForResume(sinceRevision, waitOptions = {}) {
      if (loaded && revision >= sinceRevision) return true;
      const deadline = Date.now() + (waitOptions.timeoutMs ?? waitTimeoutMs);
      const reach = async (min: number) => {
        if (loaded && revision >= min) return;
        await waitFor(min, Math.max(0, deadline - Date.now()), waitOptions.signal);
      };
      await reach(0);
      if (revision >= sinceRevision) return true;
      // An empty transaction answers the store's current revision and writes nothing.
      const current = await withTimeout(store.txn({ ops: [] }), Math.max(0, deadline - Date.now()), waitOptions.signal);
      if (current.revision >= sinceRevision) {
        // The store has it: this replica lags (read-your-writes across replicas), so wait.
        await reach(sinceRevision);
        return true;
      }
      // The store itself is behind: no replica will ever serve sinceRevision's history. The caller's
      // reset snapshot is taken at this cache's revision and the live feed continues after it, so it
      // needs no further wait even if this cache trails the store (writes outside the prefix).
      return false;
    },
    async close() {
      lifetime.abort();
      for (const waiter of waiters) waiter.reject(new StoreUnavailableError("cache closed"));
      listeners.clear();
      await running;
    },
  };

  function waitFor(minRevision: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        minRevision,
        resolve: () => finish(resolve),
        reject: (error) => finish(() => reject(error)),
      };
      const timer = setTimeout(
        () =>
          waiter.reject(
            new StoreUnavailableError(`not caught up to revision ${minRevision} within ${timeoutMs} ms (at ${revision})`),
          ),
        timeoutMs,
      );
      const onAbort = () => waiter.reject(signal!.reason);
      function finish(settle: () => void): void {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        waiters.delete(waiter);
        settle();
      }
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      waiters.add(waiter);
    });
  }
}

/** The promise, or StoreUnavailableError after timeoutMs, or the abort reason. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(() => reject(new StoreUnavailableError(`store did not answer within ${timeoutMs} ms`))),
      timeoutMs,
    );
    const onAbort = () => finish(() => reject(signal!.reason));
    let settled = false;
    function finish(settle: () => void): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      settle();
    }
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

interface Waiter {
  minRevision: number;
  resolve(): void;
  reject(error: unknown): void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
