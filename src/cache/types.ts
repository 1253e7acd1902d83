import type { KeyValue, WatchBatch } from "../store/index.js";

/**
 * KeySpaceCache mirrors every key under one root prefix of the store in
 * memory, fed by a single store watch (one etcd watch per replica, as the
 * Kubernetes API server's watch cache). Every read and every client watch
 * stream of the replica is served from it.
 *
 * Consistency: list at revision R, watch from R + 1; on compaction or a
 * watch failure that cannot resume without a gap, list again (with backoff)
 * and tell subscribers with a reset. While the store is unreachable the cache
 * keeps its last state and revision.
 */
export interface KeySpaceCache {
  /** Resolves once the first list has loaded. */
  readonly ready: Promise<void>;
  /** Every change up to this revision has been applied. */
  readonly revision: number;
  get(key: string): KeyValue | undefined;
  /** Entries under prefix (a sub-prefix of the root), sorted by key. */
  list(prefix: string): KeyValue[];
  /**
   * Resolves when revision >= minRevision (read-your-writes across replicas:
   * all Switchboard writes are under the root, so the watch passes them).
   * Rejects with StoreUnavailableError after timeoutMs, or on abort.
   */
  waitForRevision(minRevision: number, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<void>;
  /**
   * Where a watch resumed from sinceRevision stands: resolves true once this
   * cache has reached sinceRevision (as waitForRevision: the revision may come
   * from a replica that is ahead), false when the store itself has not
   * reached it, so the caller sends a reset snapshot instead of waiting for a
   * revision that may never come (a client that kept a revision across a
   * restore of the store from a backup). The store is asked its current
   * revision (one linearizable read) only when the cache is behind
   * sinceRevision, so the answer is false at once when the store is behind,
   * and true after waiting (up to timeoutMs) when only this replica is.
   * Rejects as waitForRevision (timeout, abort, store unreachable).
   */
  waitForResume(sinceRevision: number, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<boolean>;
  /**
   * Batches with revision > sinceRevision whose events touch prefix (events
   * filtered to prefix), oldest first; undefined when the retained window no
   * longer reaches back to sinceRevision (the caller sends a reset snapshot).
   */
  changesSince(prefix: string, sinceRevision: number): WatchBatch[] | undefined;
  /**
   * The retained batches with revision > sinceRevision, oldest first,
   * unfiltered: the very objects subscribers received (progress batches with
   * no events included), so a domain that derived something from a batch can
   * find it again by the batch (e.g. a WeakMap: its entries go when the
   * window drops the batch). undefined as changesSince. This is the one
   * history every domain's watch resumes from.
   */
  batchesSince(sinceRevision: number): readonly WatchBatch[] | undefined;
  /**
   * Calls listener synchronously after each applied batch and after a relist
   * (reset). Returns the unsubscribe function. Listeners must not block:
   * they enqueue and return.
   */
  subscribe(listener: (update: CacheUpdate) => void): () => void;
  close(): Promise<void>;
}

export type CacheUpdate =
  /** One revision applied: events under the root prefix. The same object the history window keeps (batchesSince). */
  | { type: "batch"; batch: WatchBatch }
  /** State was reloaded at revision; history before it is unknown. */
  | { type: "reset"; revision: number }
  /** No change under the root up to revision (progress). */
  | { type: "progress"; revision: number };
