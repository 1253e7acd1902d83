import type { CacheUpdate, KeySpaceCache } from "../cache/index.js";
import { ResourceExhaustedError } from "../errors.js";
import { type Clock, createFanOut } from "../watch/index.js";
import type { KeyValue, WatchBatch } from "../store/index.js";
import { decodeRecord, historyRevision } from "./layout.js";
import type { ConfigLayout } from "./layout.js";
import { changedKeys, LayeredState, layersFor } from "./resolve.js";
import type { StoredEntry } from "./resolve.js";
import type { ConfigViewUpdate, ResolvedEntry, ViewSelector } from "./types.js";

export interface WatchContext {
  cache: KeySpaceCache;
  layout: ConfigLayout;
  /** Versions kept per key: a key with this many may have lost older ones. */
  historyLimit: number;
  /** A stream with nothing queued for this long gets a bookmark (0: never). */
  bookmarkIntervalMs: number;
  queueLimit: number;
  /** Clock of bookmarks. Default systemClock. */
  clock?: Clock;
}

/**
 * Every config watch stream of one manager, served from ONE cache
 * subscription. Streams with the same selector (namespace + service +
 * profile) share one group: one LayeredState, resolved and diffed once per
 * batch, and the same immutable ConfigViewUpdate object queued on each of
 * their streams. Each stream keeps its own bounded queue.
 *
 * The stream guarantees (ConfigService.WatchConfig in config.proto):
 *
 * - since 0: the current view first (revision R = the cache's), then a new
 *   view each time a batch changes the resolved view (value, content type or
 *   layer of some key; a rewrite of the same value sends nothing), with that
 *   batch's revision and the keys that changed.
 * - since S > 0: the views after S, as a live stream would have sent them. The
 *   view the client had at S is rebuilt from the explicit config history; when
 *   that is impossible (the cache's window no longer reaches S, history of a
 *   touched key was pruned, or more views than the queue holds) the stream
 *   starts with the current view flagged reset; so does S ahead of the store
 *   itself (S ahead of this replica only waits for it). The replay is computed and the
 *   stream joins its group in one synchronous stretch at the cache's revision,
 *   so the live feed continues exactly after the replay.
 * - A cache relist (etcd compaction or outage) is diffed against the last view
 *   sent, so the client sees an ordinary change, never a gap.
 * - Nothing queued for bookmarkIntervalMs: a bookmark at the cache's revision
 *   (one shared interval timer checks every stream).
 * - More than queueLimit views waiting for a slow consumer: ResourceExhaustedError.
 * - signal aborts: an AbortError.
 *
 * Batches without config value keys (registry, health, history writes) cost
 * one prefix check per event and wake no stream.
 *
 * Queues, overflow, bookmarks, resume or reset and cancellation are the
 * fan-out engine's (src/watch): a group's id is the key its streams are
 * attached under; this module keeps the groups' resolved views.
 */
export interface ConfigWatchHub {
  watch(selector: ViewSelector, sinceRevision: number, signal: AbortSignal): AsyncGenerator<ConfigViewUpdate>;
  /** Streams attached to the live feed. */
  readonly streamCount: number;
  /** Distinct selectors with attached streams. */
  readonly groupCount: number;
}

/** The shared state of every stream of one selector. */
interface Group {
  readonly id: string;
  readonly state: LayeredState;
  /** Scope prefix of each layer, by layer index. */
  readonly layerPrefixes: readonly string[];
  /** The resolved view at the cache's revision (the state resolved after the last batch that touched it). */
  view: ResolvedEntry[];
  /** The first message for since-0 streams joining at this revision, shared while the revision stays. */
  initial: ConfigViewUpdate | undefined;
}

export function createConfigWatchHub(ctx: WatchContext): ConfigWatchHub {
  const { cache, layout } = ctx;
  const root = layout.valuesRoot;
  /** Groups by selector id, while they have streams. */
  const groups = new Map<string, Group>();
  /** Which groups a scope prefix feeds, and as which layer. */
  const feeds = new Map<string, Map<Group, number>>();
  let unsubscribe: (() => void) | undefined;

  const fanOut = createFanOut<ViewSelector, ConfigViewUpdate>({
    queueLimit: ctx.queueLimit,
    bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    ...(ctx.clock !== undefined && { clock: ctx.clock }),
    bookmark: () => ({ entries: [], changedKeys: [], revision: cache.revision, reset: false, bookmark: true }),
    overflowError: () =>
      new ResourceExhaustedError(`watch stream fell more than ${ctx.queueLimit} views behind; resume with since_revision`),
    onAbort: "throw",
    onKeyIdle: (id) => dropGroup(id),
    source: {
      keys: (selector) => [selectorId(selector)],
      // Also waits for the first load; a resume token from a replica that is ahead waits for this one to
      // catch up, and one the store itself has not reached (kept across a restore) gets a reset.
      ready: (_selector, sinceRevision, signal) => cache.waitForResume(sinceRevision, { signal }),
      // The group is made (loaded at the cache's revision) in the same synchronous step that attaches the
      // stream: the live feed continues right after what is queued here.
      snapshot(selector, reset) {
        const group = groupOf(selector);
        const current = cache.revision;
        if (reset) return { entries: group.view, changedKeys: [], revision: current, reset: true, bookmark: false };
        if (group.initial?.revision !== current) {
          group.initial = { entries: group.view, changedKeys: [], revision: current, reset: false, bookmark: false };
        }
        return group.initial;
      },
      changesSince(selector, sinceRevision) {
        groupOf(selector);
        if (sinceRevision >= cache.revision) return [];
        const replay = replayFrom(selector, sinceRevision);
        if (replay === undefined || replay.length > ctx.queueLimit) return undefined;
        return replay.map((update) => [update]);
      },
    },
  });

  function onCacheUpdate(update: CacheUpdate): void {
    if (update.type === "batch") applyBatch(update.batch);
    else if (update.type === "reset") reloadAll(update.revision);
  }

  function applyBatch(batch: WatchBatch): void {
    let touched: Set<Group> | undefined;
    for (const event of batch.events) {
      const key = event.type === "put" ? event.kv.key : event.key;
      if (!key.startsWith(root)) continue;
      // A value key is root + ns/svc/profile/ + key: its scope prefix is everything up to the last "/".
      const slash = key.lastIndexOf("/");
      const name = key.slice(slash + 1);
      if (name === "") continue;
      const fed = feeds.get(key.slice(0, slash + 1));
      if (fed === undefined) continue;
      const entry = event.type === "put" ? storedEntry(event.kv) : undefined;
      for (const [group, index] of fed) {
        group.state.set(index, name, entry);
        (touched ??= new Set()).add(group);
      }
    }
    if (touched === undefined) return;
    for (const group of touched) publish(group, batch.revision);
  }

  function reloadAll(revision: number): void {
    for (const group of groups.values()) {
      load(group.state, group.layerPrefixes);
      publish(group, revision);
    }
  }

  /** Resolves the group once; a change is queued, as one object, on every stream of the group. */
  function publish(group: Group, revision: number): void {
    const view = group.state.resolve();
    const changed = changedKeys(group.view, view);
    group.view = view;
    if (changed.length === 0) return;
    group.initial = undefined;
    const update: ConfigViewUpdate = { entries: view, changedKeys: changed, revision, reset: false, bookmark: false };
    fanOut.publish(group.id, [update]);
  }

  /** Sets the state to the cache's current values of its layers. */
  function load(state: LayeredState, layerPrefixes: readonly string[]): void {
    state.clear();
    layerPrefixes.forEach((prefix, index) => {
      for (const kv of cache.list(prefix)) {
        const name = kv.key.slice(prefix.length);
        if (name !== "" && !name.includes("/")) state.set(index, name, storedEntry(kv));
      }
    });
  }

  function selectorId(selector: ViewSelector): string {
    return `${selector.namespace}/${selector.service}/${selector.profile}`;
  }

  /** The group of a selector, created (loaded at the cache's revision) when it has none. */
  function groupOf(selector: ViewSelector): Group {
    const id = selectorId(selector);
    let group = groups.get(id);
    if (group !== undefined) return group;
    const state = new LayeredState(layersFor(selector));
    group = {
      id,
      state,
      layerPrefixes: state.layers.map((source) => layout.scopePrefix(source.scope)),
      view: [],
      initial: undefined,
    };
    load(state, group.layerPrefixes);
    group.view = state.resolve();
    groups.set(id, group);
    group.layerPrefixes.forEach((prefix, index) => {
      let fed = feeds.get(prefix);
      if (fed === undefined) feeds.set(prefix, (fed = new Map()));
      fed.set(group!, index);
    });
    // One cache subscription while any group has streams.
    unsubscribe ??= cache.subscribe(onCacheUpdate);
    return group;
  }

  function dropGroup(id: string): void {
    const group = groups.get(id);
    if (group === undefined) return;
    groups.delete(id);
    for (const prefix of group.layerPrefixes) {
      const fed = feeds.get(prefix);
      fed?.delete(group);
      if (fed?.size === 0) feeds.delete(prefix);
    }
    if (groups.size === 0) {
      unsubscribe?.();
      unsubscribe = undefined;
    }
  }

  /**
   * The views a live stream would have sent after `since`, rebuilt on a
   * private state: the current state rewound to `since` for the keys the
   * retained batches touch (from the history records, written with each
   * value, so their modRevision is the write's revision), then the batches
   * replayed. Undefined when the cache's window or some key's history no
   * longer reaches back to `since`.
   */
  function replayFrom(selector: ViewSelector, since: number): ConfigViewUpdate[] | undefined {
    const batches = cache.changesSince(layout.namespacePrefix(selector.namespace), since);
    if (batches === undefined) return undefined;
    const state = new LayeredState(layersFor(selector));
    load(
      state,
      state.layers.map((source) => layout.scopePrefix(source.scope)),
    );
    const touchedKeys = new Map<string, { index: number; key: string }>();
    for (const batch of batches) {
      for (const event of batch.events) {
        const parsed = layout.parseValueKey(event.type === "put" ? event.kv.key : event.key);
        const index = parsed ? state.layerOf(parsed.scope) : -1;
        if (parsed && index >= 0) touchedKeys.set(`${index}/${parsed.key}`, { index, key: parsed.key });
      }
    }
    for (const { index, key } of touchedKeys.values()) {
      const history = cache.list(layout.historyPrefix(state.layers[index]!.scope, key));
      let atSince: KeyValue | undefined;
      for (const kv of history) {
        // The write's revision: a re-sealed record's modRevision is that of the rotation.
        if (historyRevision(kv) <= since && (atSince === undefined || historyRevision(kv) > historyRevision(atSince)))
          atSince = kv;
      }
      if (atSince === undefined) {
        if (history.length >= ctx.historyLimit) return undefined;
        state.set(index, key, undefined);
        continue;
      }
      const record = decodeRecord(atSince.value);
      if (record === undefined) return undefined;
      state.set(
        index,
        key,
        record.deleted
          ? undefined
          : {
              value: record.value,
              contentType: record.contentType,
              revision: historyRevision(atSince),
              secret: record.secret === true,
            },
      );
    }
    let view = state.resolve();
    const replay: ConfigViewUpdate[] = [];
    for (const batch of batches) {
      let touched = false;
      for (const event of batch.events) {
        const parsed = layout.parseValueKey(event.type === "put" ? event.kv.key : event.key);
        const index = parsed ? state.layerOf(parsed.scope) : -1;
        if (!parsed || index < 0) continue;
        touched = true;
        state.set(index, parsed.key, event.type === "put" ? storedEntry(event.kv) : undefined);
      }
      if (!touched) continue;
      const next = state.resolve();
      const changed = changedKeys(view, next);
      view = next;
      if (changed.length > 0)
        replay.push({ entries: next, changedKeys: changed, revision: batch.revision, reset: false, bookmark: false });
    }
    return replay;
  }

  return {
    watch: (selector, sinceRevision, signal) => fanOut.watch(selector, sinceRevision, signal),
    get streamCount() {
      return fanOut.size;
    },
    get groupCount() {
      return groups.size;
    },
  };
}

function storedEntry(kv: KeyValue): StoredEntry | undefined {
  const record = decodeRecord(kv.value);
  return (
    record && { value: record.value, contentType: record.contentType, revision: kv.modRevision, secret: record.secret === true }
  );
}
