import type { KeySpaceCache } from "../cache/index.js";
import { ResourceExhaustedError } from "../errors.js";
import type { KeyValue, StoreEvent, WatchBatch } from "../store/index.js";
import { decodeRecord } from "./layout.js";
import type { ConfigLayout } from "./layout.js";
import { changedKeys, LayeredState, layersFor } from "./resolve.js";
import type { StoredEntry } from "./resolve.js";
import type { ConfigViewUpdate, ResolvedEntry, ViewSelector } from "./types.js";

export interface WatchContext {
  cache: KeySpaceCache;
  layout: ConfigLayout;
  /** Versions kept per key: a key with this many may have lost older ones. */
  historyLimit: number;
  bookmarkIntervalMs: number;
  queueLimit: number;
}

/**
 * The resolved view of one selector as a stream, served from the cache.
 *
 * - since 0: the current view first (revision R = the cache's), then a new
 *   view each time a batch changes the resolved view (value, content type or
 *   layer of some key; a rewrite of the same value sends nothing), with that
 *   batch's revision and the keys that changed.
 * - since S > 0: the views after S, as a live stream would have sent them. The
 *   view the client had at S is rebuilt from the explicit config history; when
 *   that is impossible (the cache's window no longer reaches S, history of a
 *   touched key was pruned, or more views than the queue holds) the stream
 *   starts with the current view flagged reset.
 * - A cache relist (etcd compaction or outage) is diffed against the last view
 *   sent, so the client sees an ordinary change, never a gap.
 * - Idle for bookmarkIntervalMs: a bookmark at the cache's revision.
 * - More than queueLimit views waiting for a slow consumer: ResourceExhaustedError.
 * - signal aborts: an AbortError.
 */
export async function* watchConfigView(
  ctx: WatchContext,
  selector: ViewSelector,
  sinceRevision: number,
  signal: AbortSignal,
): AsyncGenerator<ConfigViewUpdate> {
  const { cache, layout } = ctx;
  // Also waits for the first load; a resume token from a replica that is ahead waits for this one to catch up.
  await cache.waitForRevision(sinceRevision, { signal });

  const state = new LayeredState(layersFor(selector));
  const layerPrefixes = state.layers.map((source) => layout.scopePrefix(source.scope));
  const queue: ConfigViewUpdate[] = [];
  let overflowed = false;
  let lastView: ResolvedEntry[] = [];
  let wake: (() => void) | undefined;

  function push(update: ConfigViewUpdate): void {
    if (overflowed) return;
    if (queue.length >= ctx.queueLimit) {
      overflowed = true;
      queue.length = 0;
    } else {
      queue.push(update);
    }
    wake?.();
  }

  /** Applies the events of our layers; true when any touched them. */
  function apply(events: readonly StoreEvent[]): boolean {
    let touched = false;
    for (const event of events) {
      const parsed = layout.parseValueKey(event.type === "put" ? event.kv.key : event.key);
      if (!parsed) continue;
      const index = state.layerOf(parsed.scope);
      if (index < 0) continue;
      touched = true;
      state.set(index, parsed.key, event.type === "put" ? storedEntry(event.kv) : undefined);
    }
    return touched;
  }

  /** The next view when it differs from the last one. */
  function next(revision: number): ConfigViewUpdate | undefined {
    const view = state.resolve();
    const changed = changedKeys(lastView, view);
    if (changed.length === 0) return undefined;
    lastView = view;
    return { entries: view, changedKeys: changed, revision, reset: false, bookmark: false };
  }

  function loadCurrent(): void {
    state.clear();
    layerPrefixes.forEach((prefix, index) => {
      for (const kv of cache.list(prefix)) {
        const parsed = layout.parseValueKey(kv.key);
        if (parsed) state.set(index, parsed.key, storedEntry(kv));
      }
    });
  }

  /**
   * Sets the state to what it was at `since`, for the keys the batches touch,
   * from the history records (written with each value, so their modRevision
   * is the write's revision). False when some key's history may be pruned.
   */
  function rewindTo(since: number, batches: readonly WatchBatch[]): boolean {
    loadCurrent();
    const touched = new Map<string, { index: number; key: string }>();
    for (const batch of batches) {
      for (const event of batch.events) {
        const parsed = layout.parseValueKey(event.type === "put" ? event.kv.key : event.key);
        const index = parsed ? state.layerOf(parsed.scope) : -1;
        if (parsed && index >= 0) touched.set(`${index}/${parsed.key}`, { index, key: parsed.key });
      }
    }
    for (const { index, key } of touched.values()) {
      const history = cache.list(layout.historyPrefix(state.layers[index]!.scope, key));
      let atSince: KeyValue | undefined;
      for (const kv of history) {
        if (kv.modRevision <= since && (atSince === undefined || kv.modRevision > atSince.modRevision)) atSince = kv;
      }
      if (atSince === undefined) {
        if (history.length >= ctx.historyLimit) return false;
        state.set(index, key, undefined);
        continue;
      }
      const record = decodeRecord(atSince.value);
      if (record === undefined) return false;
      state.set(index, key, record.deleted ? undefined : { value: record.value, contentType: record.contentType, revision: atSince.modRevision });
    }
    return true;
  }

  function pushReset(revision: number): void {
    loadCurrent();
    lastView = state.resolve();
    push({ entries: lastView, changedKeys: [], revision, reset: true, bookmark: false });
  }

  // Subscribing and reading the cache in the same synchronous stretch: nothing can fall between them.
  const unsubscribe = cache.subscribe((update) => {
    if (update.type === "batch") {
      if (!apply(update.batch.events)) return;
      const view = next(update.batch.revision);
      if (view) push(view);
    } else if (update.type === "reset") {
      loadCurrent();
      const view = next(update.revision);
      if (view) push(view);
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => wake?.();
  signal.addEventListener("abort", onAbort);
  try {
    const current = cache.revision;
    if (sinceRevision === 0) {
      loadCurrent();
      lastView = state.resolve();
      push({ entries: lastView, changedKeys: [], revision: current, reset: false, bookmark: false });
    } else if (sinceRevision >= current) {
      loadCurrent();
      lastView = state.resolve();
    } else {
      const batches = cache.changesSince(layout.namespacePrefix(selector.namespace), sinceRevision);
      if (batches === undefined || !rewindTo(sinceRevision, batches)) {
        pushReset(current);
      } else {
        lastView = state.resolve();
        const replay: ConfigViewUpdate[] = [];
        for (const batch of batches) {
          if (!apply(batch.events)) continue;
          const view = next(batch.revision);
          if (view) replay.push(view);
        }
        if (replay.length > ctx.queueLimit) pushReset(current);
        else for (const view of replay) push(view);
      }
    }

    for (;;) {
      if (signal.aborted) throw abortError(signal);
      if (overflowed) {
        throw new ResourceExhaustedError(
          `watch stream fell more than ${ctx.queueLimit} views behind; resume with since_revision`,
        );
      }
      const update = queue.shift();
      if (update) {
        yield update;
        continue;
      }
      const woken = await new Promise<boolean>((resolve) => {
        wake = () => resolve(true);
        timer = setTimeout(() => resolve(false), ctx.bookmarkIntervalMs);
      });
      wake = undefined;
      clearTimeout(timer);
      if (!woken && queue.length === 0 && !overflowed && !signal.aborted) {
        yield { entries: [], changedKeys: [], revision: cache.revision, reset: false, bookmark: true };
      }
    }
  } finally {
    unsubscribe();
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
  }
}

function storedEntry(kv: KeyValue): StoredEntry | undefined {
  const record = decodeRecord(kv.value);
  return record && { value: record.value, contentType: record.contentType, revision: kv.modRevision };
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  return new DOMException("The watch was aborted", "AbortError");
}
