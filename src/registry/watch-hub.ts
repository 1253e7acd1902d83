import type { Logger } from "pino";
import { EventType, type Instance, type WatchResponse } from "../../generated/switchboard/registry/v1/registry.js";
import { ResourceExhaustedError, UnavailableError } from "../errors.js";
import { StoreUnavailableError } from "../store/index.js";
import type { RegistryView, RevisionChanges, ServiceChange, ServiceView } from "./registry-view.js";
import { compileFilter, type InstanceFilter } from "./routing.js";

/** What one Watch stream selects. Names are already validated and normalised. */
export interface WatchOptions extends InstanceFilter {
  namespace: string;
  /** One service, or every service of the namespace when "". */
  service: string;
  /** Resume after this revision; 0 starts with a snapshot. */
  sinceRevision: number;
}

/** Counters the hub reports; src/registry/metrics.ts backs them with prom-client. */
export interface WatchMetrics {
  streamOpened(): void;
  streamClosed(): void;
  messageSent(kind: "snapshot" | "event" | "bookmark"): void;
  queueOverflow(): void;
}

/** Default per-stream queue limit of Watch (and WatchHealth) streams, in messages. */
export const DEFAULT_WATCH_QUEUE_LIMIT = 1_000;
/** Default bookmark interval of idle Watch (and WatchHealth) streams, in ms. */
export const DEFAULT_BOOKMARK_INTERVAL_MS = 10_000;

export interface WatchHubOptions {
  view: RegistryView;
  logger: Logger;
  /** Most messages a stream may have queued (not yet taken by gRPC); more ends it with RESOURCE_EXHAUSTED. Default 1,000. */
  queueLimit?: number;
  /** A stream with nothing sent for this long gets a bookmark. Default 10,000 ms. */
  bookmarkIntervalMs?: number;
  /** How long a stream resuming from a revision this replica has not seen yet waits for it. Default 5,000 ms. */
  catchUpTimeoutMs?: number;
  metrics?: WatchMetrics;
  /** Clock for bookmark idleness. Default Date.now. */
  now?: () => number;
}

/**
 * WatchHub serves every Watch stream of the replica from one RegistryView.
 *
 * The guarantee (the RegistryService.Watch contract in registry.proto):
 * - A stream starts with a snapshot of the matching instances at the view
 *   revision R, taken in the same synchronous step that attaches the stream
 *   to the view, then gets, for every later revision touching its services,
 *   the ADDED / UPDATED / REMOVED events of that revision. Nothing is missed
 *   or repeated: the view applies one cache batch at a time and fans out the
 *   batch's changes before the next one.
 * - Matching is "instance passes the filter and (include_unroutable or
 *   routable)", routable as in routing.ts (state UP, not UNHEALTHY, or its
 *   service in protection). Events come from diffing, per instance, matching
 *   before vs after the revision: starts matching → ADDED, stops → REMOVED
 *   (carrying the instance after the change when it still exists, e.g.
 *   UNHEALTHY or DRAINING, else the last state), matches both and changed →
 *   UPDATED. So health changes, state changes, filter changes and protection
 *   flips are all plain events with the revision that caused them.
 * - One revision can touch several instances (a transaction, a lease with
 *   several keys): its events share that revision, are queued together and
 *   are never split by a stream end. Revisions are non-decreasing along a
 *   stream and strictly increasing between revisions' groups.
 * - since_revision = S resumes: the events of every revision > S are
 *   replayed from the view's change history (which holds, per revision, each
 *   changed instance before and after and its routability before and after:
 *   the state at S never has to be rebuilt), then a bookmark at R marks the
 *   end of the replay. S older than the history (or a reload) → snapshot
 *   with reset = true. S ahead of the store itself (a revision kept across a
 *   restore from backup) → snapshot with reset = true at once. S ahead of
 *   this replica only → wait up to catchUpTimeoutMs for it, else UNAVAILABLE.
 * - A cache reset (relist after compaction or a watch gap) sends every stream
 *   a snapshot with reset = true, replacing whatever was still queued.
 * - Streams with nothing to send for bookmarkIntervalMs get a bookmark with
 *   the view revision. While the store is unreachable the view does not move,
 *   so streams stay quiet (bookmarks repeat the last revision); nothing is
 *   ever sent because of an error.
 * - A stream ends quietly when the client cancels, and with UNAVAILABLE when
 *   the hub closes (server shutdown).
 * - Each stream has its own bounded queue; the view's listener only appends
 *   to it and never waits. A stream whose queue would exceed queueLimit is
 *   ended with RESOURCE_EXHAUSTED after the last complete revision it was
 *   already handed; the client resumes from its last revision. Replayed
 *   events of a resume do not count against the limit.
 */
export interface WatchHub {
  /** Runs one stream until signal aborts, the hub closes, or it overflows. */
  watch(options: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchResponse, void, undefined>;
  /** Streams currently attached. */
  readonly streamCount: number;
  /** Ends every stream (UNAVAILABLE: server shutting down) and detaches from the view. */
  close(): void;
}

interface Stream {
  readonly options: WatchOptions;
  readonly match: (instance: Instance, routable: boolean) => boolean;
  /** Queued revision groups, each delivered whole. */
  items: WatchResponse[][];
  head: number;
  /** Messages queued (not yet taken). */
  queued: number;
  /** Queued replay messages that do not count against the limit. */
  allowance: number;
  lastEnqueueAt: number;
  failed: Error | undefined;
  wake: (() => void) | undefined;
}

export function createWatchHub(options: WatchHubOptions): WatchHub {
  const { view } = options;
  const log = options.logger.child({ component: "watch-hub" });
  const queueLimit = options.queueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT;
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS;
  const catchUpTimeoutMs = options.catchUpTimeoutMs ?? 5_000;
  const now = options.now ?? Date.now;
  const metrics = options.metrics;
  // Attached streams: by namespace + service, and namespace-wide ones by namespace.
  const byService = new Map<string, Set<Stream>>();
  const byNamespace = new Map<string, Set<Stream>>();
  const all = new Set<Stream>();
  let closed = false;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const unsubscribe = view.subscribe((update) => {
    if (update.type === "changes") dispatch(update.changes);
    else if (update.type === "reset") resetAll();
  });

  function serviceKey(namespace: string, service: string): string {
    return `${namespace}/${service}`;
  }

  function attach(stream: Stream): void {
    const { namespace, service } = stream.options;
    const index = service === "" ? byNamespace : byService;
    const key = service === "" ? namespace : serviceKey(namespace, service);
    let set = index.get(key);
    if (set === undefined) index.set(key, (set = new Set()));
    set.add(stream);
    all.add(stream);
    if (ticker === undefined && bookmarkIntervalMs > 0) {
      ticker = setInterval(sendBookmarks, Math.max(5, Math.floor(bookmarkIntervalMs / 4)));
      ticker.unref();
    }
  }

  function detach(stream: Stream): void {
    if (!all.delete(stream)) return;
    const { namespace, service } = stream.options;
    const index = service === "" ? byNamespace : byService;
    const key = service === "" ? namespace : serviceKey(namespace, service);
    const set = index.get(key);
    set?.delete(stream);
    if (set?.size === 0) index.delete(key);
    if (all.size === 0 && ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
    }
  }

  function wake(stream: Stream): void {
    const resolve = stream.wake;
    stream.wake = undefined;
    resolve?.();
  }

  function enqueue(stream: Stream, messages: WatchResponse[], replay = false): void {
    if (stream.failed !== undefined || messages.length === 0) return;
    if (!replay && stream.queued - stream.allowance + messages.length > queueLimit) {
      overflow(stream);
      return;
    }
    stream.items.push(messages);
    stream.queued += messages.length;
    if (replay) stream.allowance += messages.length;
    stream.lastEnqueueAt = now();
    wake(stream);
  }

  function clearQueue(stream: Stream): void {
    stream.items = [];
    stream.head = 0;
    stream.queued = 0;
    stream.allowance = 0;
  }

  function overflow(stream: Stream): void {
    const { namespace, service } = stream.options;
    log.warn(
      { namespace, service, queued: stream.queued, queueLimit },
      "watch stream fell behind; ending it with RESOURCE_EXHAUSTED",
    );
    metrics?.queueOverflow();
    stream.failed = new ResourceExhaustedError(
      `watch stream fell more than ${queueLimit} messages behind; resume with since_revision set to the last revision received`,
    );
    clearQueue(stream);
    detach(stream);
    wake(stream);
  }

  function take(stream: Stream): WatchResponse[] | undefined {
    if (stream.head >= stream.items.length) return undefined;
    const item = stream.items[stream.head]!;
    stream.items[stream.head] = [];
    stream.head++;
    if (stream.head > 64 && stream.head * 2 > stream.items.length) {
      stream.items = stream.items.slice(stream.head);
      stream.head = 0;
    }
    stream.queued -= item.length;
    stream.allowance = Math.max(0, stream.allowance - item.length);
    return item;
  }

  /** The events one stream gets from one service's changes at one revision. */
  function eventsFor(
    stream: Stream,
    change: ServiceChange,
    memo: (WatchResponse | undefined)[] | undefined,
    out: WatchResponse[],
  ): void {
    const { match } = stream;
    const revision = String(change.revision);
    change.changes.forEach((c, i) => {
      const before = c.before !== undefined && match(c.before, c.beforeRoutable);
      const after = c.after !== undefined && match(c.after, c.afterRoutable);
      let type: EventType;
      let instance: Instance;
      if (after) {
        if (before && c.before === c.after) return;
        type = before ? EventType.EVENT_TYPE_UPDATED : EventType.EVENT_TYPE_ADDED;
        instance = c.after!;
      } else if (before) {
        type = EventType.EVENT_TYPE_REMOVED;
        instance = c.after ?? c.before!;
      } else {
        return;
      }
      // Streams of one service share the message objects of one change.
      const slot = i * 4 + type;
      let message = memo?.[slot];
      if (message === undefined) {
        message = { kind: { $case: "event", value: { type, instance, revision } } };
        if (memo !== undefined) memo[slot] = message;
      }
      out.push(message);
    });
  }

  function dispatch(changes: RevisionChanges): void {
    const pending = new Map<Stream, WatchResponse[]>();
    for (const change of changes.services) {
      const memo: (WatchResponse | undefined)[] = [];
      const exact = byService.get(serviceKey(change.namespace, change.service));
      const wide = byNamespace.get(change.namespace);
      for (const set of [exact, wide]) {
        if (set === undefined) continue;
        for (const stream of set) {
          let out = pending.get(stream);
          if (out === undefined) pending.set(stream, (out = []));
          eventsFor(stream, change, memo, out);
        }
      }
    }
    for (const [stream, messages] of pending) enqueue(stream, messages);
  }

  function servicesOf(options: WatchOptions): ServiceView[] {
    if (options.service === "") return view.services(options.namespace);
    const one = view.service(options.namespace, options.service);
    return one === undefined ? [] : [one];
  }

  function snapshot(stream: Stream, reset: boolean): WatchResponse {
    const instances: Instance[] = [];
    for (const service of servicesOf(stream.options)) {
      const ids = [...service.instances.keys()].sort();
      for (const id of ids) {
        const instance = service.instances.get(id)!;
        if (stream.match(instance, service.isRoutable(instance))) instances.push(instance);
      }
    }
    return { kind: { $case: "snapshot", value: { instances, revision: String(view.revision), reset } } };
  }

  function bookmark(): WatchResponse {
    return { kind: { $case: "bookmark", value: { revision: String(view.revision) } } };
  }

  function resetAll(): void {
    for (const stream of all) {
      clearQueue(stream);
      enqueue(stream, [snapshot(stream, true)]);
    }
  }

  function sendBookmarks(): void {
    const due = now() - bookmarkIntervalMs;
    let message: WatchResponse | undefined;
    for (const stream of all) {
      if (stream.queued === 0 && stream.lastEnqueueAt <= due) enqueue(stream, [(message ??= bookmark())]);
    }
  }

  /**
   * First messages and attachment, in one synchronous step (no revision can slip in between).
   * resumable false: the store is behind since_revision (see waitForResume), so reset.
   */
  function start(stream: Stream, resumable: boolean): void {
    const since = stream.options.sinceRevision;
    if (since === 0) {
      enqueue(stream, [snapshot(stream, false)], true);
    } else if (!resumable) {
      enqueue(stream, [snapshot(stream, true)], true);
    } else {
      const history = view.changesSince(since);
      if (history === undefined) {
        enqueue(stream, [snapshot(stream, true)], true);
      } else {
        for (const changes of history) {
          const out: WatchResponse[] = [];
          for (const change of changes.services) {
            if (change.namespace !== stream.options.namespace) continue;
            if (stream.options.service !== "" && change.service !== stream.options.service) continue;
            eventsFor(stream, change, undefined, out);
          }
          enqueue(stream, out, true);
        }
        enqueue(stream, [bookmark()], true);
      }
    }
    attach(stream);
  }

  async function* watch(watchOptions: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchResponse, void, undefined> {
    const stream: Stream = {
      options: watchOptions,
      match: compileFilter(watchOptions),
      items: [],
      head: 0,
      queued: 0,
      allowance: 0,
      lastEnqueueAt: now(),
      failed: undefined,
      wake: undefined,
    };
    metrics?.streamOpened();
    try {
      let resumable: boolean;
      try {
        resumable = await view.waitForResume(watchOptions.sinceRevision, { timeoutMs: catchUpTimeoutMs, signal });
      } catch (error) {
        if (closed) throw shuttingDown();
        if (signal.aborted) return;
        if (error instanceof StoreUnavailableError) throw new UnavailableError(error.message);
        throw error;
      }
      if (closed) throw shuttingDown();
      if (signal.aborted) return;
      start(stream, resumable);
      while (true) {
        // Closing is the server shutting down: UNAVAILABLE tells the client to resume elsewhere.
        if (closed) throw shuttingDown();
        if (signal.aborted) return;
        const item = take(stream);
        if (item === undefined) {
          if (stream.failed !== undefined) throw stream.failed;
          await waitForWork(stream, signal);
          continue;
        }
        for (const message of item) {
          metrics?.messageSent(message.kind!.$case);
          yield message;
        }
      }
    } finally {
      detach(stream);
      metrics?.streamClosed();
    }
  }

  function shuttingDown(): UnavailableError {
    return new UnavailableError("server is shutting down; resume with since_revision");
  }

  function waitForWork(stream: Stream, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        stream.wake = undefined;
        resolve();
      };
      stream.wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  return {
    watch,
    get streamCount() {
      return all.size;
    },
    close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const stream of [...all]) {
        detach(stream);
        wake(stream);
      }
    },
  };
}
