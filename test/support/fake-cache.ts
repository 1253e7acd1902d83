/**
 * A KeySpaceCache driven by hand, for unit tests of code that consumes the
 * cache (registry view, watch hub): each apply() is one revision, reset()
 * simulates a relist.
 *
 *   const cache = new FakeCache();                   // (startRevision, loadNow, historyLimit)
 *   cache.put("/switchboard/instances/default/orders/a", bytes, "7");
 *   cache.apply([{ put }, { delete }]);   // several keys in one revision
 *   cache.reset();                        // relist at a new revision
 */
import { type CacheUpdate, HistoryWindow, type KeySpaceCache } from "../../src/cache/index.js";
import { StoreUnavailableError } from "../../src/store/index.js";
import type { KeyValue, WatchBatch } from "../../src/store/index.js";

export type FakeChange = { type: "put"; key: string; value: Uint8Array; lease?: string } | { type: "delete"; key: string };

export class FakeCache implements KeySpaceCache {
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly kvs = new Map<string, KeyValue>();
  private readonly listeners = new Set<(update: CacheUpdate) => void>();
  private readonly waiters = new Set<{ min: number; resolve: () => void }>();
  /** The same window as the real cache's, so resume and reset follow its limit and floor. */
  private readonly history: HistoryWindow<WatchBatch>;
  private loaded = false;
  revision: number;

  constructor(startRevision = 1, loadNow = true, historyLimit = 10_000) {
    this.revision = startRevision;
    this.history = new HistoryWindow<WatchBatch>(historyLimit);
    this.history.reset(startRevision);
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    if (loadNow) this.load();
  }

  load(): void {
    this.loaded = true;
    this.markReady();
    this.wakeWaiters();
  }

  get(key: string): KeyValue | undefined {
    return this.kvs.get(key);
  }

  list(prefix: string): KeyValue[] {
    return [...this.kvs.values()].filter((kv) => kv.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async waitForRevision(minRevision: number, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.loaded && this.revision >= minRevision) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = { min: minRevision, resolve: () => done(resolve) };
      const timer = setTimeout(() => done(() => reject(new StoreUnavailableError("timeout"))), options.timeoutMs ?? 5_000);
      const onAbort = () => done(() => reject(options.signal!.reason));
      const done = (settle: () => void) => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.waiters.delete(waiter);
        settle();
      };
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** The store revision waitForResume compares with; undefined: the store has every revision asked for. */
  storeRevision: number | undefined;

  async waitForResume(sinceRevision: number, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<boolean> {
    if (this.loaded && this.revision >= sinceRevision) return true;
    if (this.storeRevision !== undefined && this.storeRevision < sinceRevision) {
      await this.waitForRevision(0, options);
      return false;
    }
    await this.waitForRevision(sinceRevision, options);
    return true;
  }

  changesSince(prefix: string, sinceRevision: number): WatchBatch[] | undefined {
    return this.history.since(prefix, sinceRevision);
  }

  batchesSince(sinceRevision: number): readonly WatchBatch[] | undefined {
    return this.history.after(sinceRevision);
  }

  subscribe(listener: (update: CacheUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  /** Applies changes as one revision and returns it. */
  apply(changes: FakeChange[]): number {
    const revision = this.revision + 1;
    const batch: WatchBatch = { revision, events: [] };
    for (const change of changes) {
      if (change.type === "put") {
        const previous = this.kvs.get(change.key);
        const kv: KeyValue = {
          key: change.key,
          value: change.value,
          createRevision: previous?.createRevision ?? revision,
          modRevision: revision,
          version: (previous?.version ?? 0) + 1,
          lease: change.lease ?? "0",
        };
        this.kvs.set(change.key, kv);
        batch.events.push({ type: "put", kv });
      } else if (this.kvs.delete(change.key)) {
        batch.events.push({ type: "delete", key: change.key, modRevision: revision });
      }
    }
    this.revision = revision;
    this.history.push(batch);
    this.wakeWaiters();
    this.emit(batch.events.length > 0 ? { type: "batch", batch } : { type: "progress", revision });
    return revision;
  }

  put(key: string, value: Uint8Array, lease?: string): number {
    return this.apply([{ type: "put", key, value, ...(lease !== undefined && { lease }) }]);
  }

  delete(key: string): number {
    return this.apply([{ type: "delete", key }]);
  }

  /** A relist: state unchanged (or replaced by `mutate`), revision advanced, history gone. */
  reset(mutate?: (kvs: Map<string, KeyValue>) => void): number {
    this.revision += 1;
    mutate?.(this.kvs);
    this.history.reset(this.revision);
    this.wakeWaiters();
    this.emit({ type: "reset", revision: this.revision });
    return this.revision;
  }

  private emit(update: CacheUpdate): void {
    for (const listener of this.listeners) listener(update);
  }

  private wakeWaiters(): void {
    if (!this.loaded) return;
    for (const waiter of [...this.waiters]) if (waiter.min <= this.revision) waiter.resolve();
  }
}
