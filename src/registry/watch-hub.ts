import type { Logger } from "pino";
import { EventType, type Instance, type WatchResponse } from "../../generated/switchboard/registry/v1/registry.js";
import { ResourceExhaustedError, UnavailableError } from "../errors.js";
import { StoreUnavailableError } from "../store/index.js";
import { type Clock, createFanOut, type Subscriber, systemClock } from "../watch/index.js";
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
  /** Clock of bookmarks. Default systemClock. */
  clock?: Clock;
  /** "now" of the clock alone (the registry's clock); ignored when clock is given. */
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
 *
 * Queues, overflow, bookmarks, resume or reset and cancellation are the
 * fan-out engine's (src/watch); this module supplies the registry's view:
 * snapshots, and the events of each revision for each stream's filter.
 */
export interface WatchHub {
  /** Runs one stream until signal aborts, the hub closes, or it overflows. */
  watch(options: WatchOptions, signal: AbortSignal): AsyncGenerator<WatchResponse, void, undefined>;
  /** Streams currently attached. */
  readonly streamCount: number;
  /** Ends every stream (UNAVAILABLE: server shutting down) and detaches from the view. */
  close(): void;
}

/** What a stream selects, with its compiled filter. */
interface Selector {
  readonly options: WatchOptions;
  readonly match: (instance: Instance, routable: boolean) => boolean;
}

export function createWatchHub(options: WatchHubOptions): WatchHub {
  const { view } = options;
  const log = options.logger.child({ component: "watch-hub" });
  const queueLimit = options.queueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT;
  const catchUpTimeoutMs = options.catchUpTimeoutMs ?? 5_000;
  const clock = options.clock ?? (options.now === undefined ? systemClock : { ...systemClock, now: options.now });
  const metrics = options.metrics;

  // A stream is attached under its service, or its namespace when it watches all of them.
  const serviceKey = (namespace: string, service: string) => `s:${namespace}/${service}`;
  const namespaceKey = (namespace: string) => `n:${namespace}`;

  const fanOut = createFanOut<Selector, WatchResponse>({
    queueLimit,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS,
    clock,
    bookmark,
    bookmarkAfterReplay: true,
    overflowError: () =>
      new ResourceExhaustedError(
        `watch stream fell more than ${queueLimit} messages behind; resume with since_revision set to the last revision received`,
      ),
    onOverflow({ options: { namespace, service } }, queued) {
      log.warn({ namespace, service, queued, queueLimit }, "watch stream fell behind; ending it with RESOURCE_EXHAUSTED");
      metrics?.queueOverflow();
    },
    ...(metrics !== undefined && {
      onStreamStart: () => metrics.streamOpened(),
      onStreamEnd: () => metrics.streamClosed(),
      onSent: (message: WatchResponse) => metrics.messageSent(message.kind!.$case),
    }),
    source: {
      keys: ({ options: { namespace, service } }) => [service === "" ? namespaceKey(namespace) : serviceKey(namespace, service)],
      async ready(_selector, sinceRevision, signal) {
        try {
          return await view.waitForResume(sinceRevision, { timeoutMs: catchUpTimeoutMs, signal });
        } catch (error) {
          if (error instanceof StoreUnavailableError) throw new UnavailableError(error.message);
          throw error;
        }
      },
      snapshot,
      changesSince(selector, sinceRevision) {
        const history = view.changesSince(sinceRevision);
        if (history === undefined) return undefined;
        const { namespace, service } = selector.options;
        return history.map((changes) => {
          const out: WatchResponse[] = [];
          for (const change of changes.services) {
            if (change.namespace !== namespace) continue;
            if (service !== "" && change.service !== service) continue;
            eventsFor(selector, change, undefined, out);
          }
          return out;
        });
      },
    },
  });

  const unsubscribe = view.subscribe((update) => {
    if (update.type === "changes") dispatch(update.changes);
    else if (update.type === "reset") for (const stream of fanOut.all()) fanOut.reset(stream, [snapshot(stream.selector, true)]);
  });

  /** The events one stream gets from one service's changes at one revision. */
  function eventsFor(
    selector: Selector,
    change: ServiceChange,
    memo: (WatchResponse | undefined)[] | undefined,
    out: WatchResponse[],
  ): void {
    const { match } = selector;
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
    const pending = new Map<Subscriber<Selector>, WatchResponse[]>();
    for (const change of changes.services) {
      const memo: (WatchResponse | undefined)[] = [];
      const exact = fanOut.subscribers(serviceKey(change.namespace, change.service));
      const wide = fanOut.subscribers(namespaceKey(change.namespace));
      for (const set of [exact, wide]) {
        if (set === undefined) continue;
        for (const stream of set) {
          let out = pending.get(stream);
          if (out === undefined) pending.set(stream, (out = []));
          eventsFor(stream.selector, change, memo, out);
        }
      }
    }
    for (const [stream, messages] of pending) fanOut.enqueue(stream, messages);
  }

  function servicesOf(options: WatchOptions): ServiceView[] {
    if (options.service === "") return view.services(options.namespace);
    const one = view.service(options.namespace, options.service);
    return one === undefined ? [] : [one];
  }

  function snapshot(selector: Selector, reset: boolean): WatchResponse {
    const instances: Instance[] = [];
    for (const service of servicesOf(selector.options)) {
      const ids = [...service.instances.keys()].sort();
      for (const id of ids) {
        const instance = service.instances.get(id)!;
        if (selector.match(instance, service.isRoutable(instance))) instances.push(instance);
      }
    }
    return { kind: { $case: "snapshot", value: { instances, revision: String(view.revision), reset } } };
  }

  function bookmark(): WatchResponse {
    return { kind: { $case: "bookmark", value: { revision: String(view.revision) } } };
  }

  let closed = false;
  return {
    watch: (watchOptions, signal) =>
      fanOut.watch({ options: watchOptions, match: compileFilter(watchOptions) }, watchOptions.sinceRevision, signal),
    get streamCount() {
      return fanOut.size;
    },
    close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      // Closing is the server shutting down: UNAVAILABLE tells the client to resume elsewhere.
      fanOut.close(new UnavailableError("server is shutting down; resume with since_revision"));
    },
  };
}
