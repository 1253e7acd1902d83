import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import type { HealthTransition, InstanceHealth, WatchHealthResponse } from "../../generated/switchboard/health/v1/health.js";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import { ResourceExhaustedError } from "../errors.js";
import { DEFAULT_BOOKMARK_INTERVAL_MS, DEFAULT_WATCH_QUEUE_LIMIT } from "../registry/index.js";
import type { RegistryView, ServiceChange } from "../registry/index.js";
import { createFanOut, type Subscriber } from "../watch/index.js";
import type { Clock } from "./clock.js";

/** What one WatchHealth stream selects; names already validated and normalised. */
export interface HealthWatchRequest {
  namespace: string;
  /** One service, or every service of the namespace when "". */
  service: string;
  /** Resume after this revision; 0 starts with a snapshot. */
  sinceRevision: number;
}

export interface HealthWatchOptions {
  view: RegistryView;
  clock: Clock;
  /** Health of one instance for snapshots (check results from the owner's memory or the health key). */
  describe(instance: Instance): InstanceHealth;
  /** Output and time of the transition written at revision, when still known. */
  transitionDetail(instance: Instance, revision: number): { output: string; at?: Date };
  /** Most messages a stream may have queued; more ends it with RESOURCE_EXHAUSTED. Default 1,000. */
  queueLimit?: number;
  /** A stream with nothing sent for this long gets a bookmark. Default 10,000 ms. */
  bookmarkIntervalMs?: number;
  /** How long a stream resuming from a revision this replica has not seen yet waits for it. Default 5,000 ms. */
  catchUpTimeoutMs?: number;
  onStream?(delta: 1 | -1): void;
}

export type HealthWatch = (request: HealthWatchRequest, signal: AbortSignal) => AsyncGenerator<WatchHealthResponse, void>;

/** Output of the transition an instance removal causes. */
export const REMOVED_OUTPUT = "instance removed (deregistered or lease expired)";

/**
 * Serves WatchHealth streams from the registry view (no store access).
 *
 * Contract, as RegistryService.Watch: a snapshot at revision R taken in the
 * same synchronous step that attaches the stream, then every health
 * transition after R in revision order, each once. A transition is a change
 * of an instance's health_status; an instance whose status was decided
 * (HEALTHY or UNHEALTHY) and that disappears arrives as a transition to
 * UNSPECIFIED with output REMOVED_OUTPUT. since_revision resumes from the
 * view's history; when that is gone, or the store itself is behind it, the
 * stream starts with a snapshot marked reset. Idle streams get bookmarks; a consumer more than queueLimit
 * messages behind is ended with ResourceExhaustedError; streams end quietly
 * when signal aborts. Queues, bookmarks, resume and cancellation are the
 * fan-out engine's (src/watch), as for Watch; this module turns the view's
 * changes into transitions.
 */
export function createHealthWatch(options: HealthWatchOptions): HealthWatch {
  const { view, clock } = options;
  const queueLimit = options.queueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT;
  const catchUpTimeoutMs = options.catchUpTimeoutMs ?? 5_000;
  const serviceKey = (namespace: string, service: string) => `s:${namespace}/${service}`;
  const namespaceKey = (namespace: string) => `n:${namespace}`;

  const snapshot = (req: HealthWatchRequest, reset: boolean): WatchHealthResponse => {
    const instances: InstanceHealth[] = [];
    const services = req.service === "" ? view.services(req.namespace) : [view.service(req.namespace, req.service)];
    for (const svc of services) {
      if (!svc) continue;
      const sorted = [...svc.instances.values()].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
      for (const instance of sorted) instances.push(options.describe(instance));
    }
    return { kind: { $case: "snapshot", value: { instances, revision: String(view.revision), reset } } };
  };

  /** The transitions of one service at one revision: the same message objects for every stream. */
  const transitions = (svc: ServiceChange): WatchHealthResponse[] => {
    const out: WatchHealthResponse[] = [];
    for (const change of svc.changes) {
      const previous = change.before?.healthStatus ?? HealthStatus.HEALTH_STATUS_UNSPECIFIED;
      const current = change.after?.healthStatus ?? HealthStatus.HEALTH_STATUS_UNSPECIFIED;
      if (previous === current) continue;
      const detail = change.after ? options.transitionDetail(change.after, svc.revision) : { output: REMOVED_OUTPUT };
      const transition: HealthTransition = {
        namespace: svc.namespace,
        service: svc.service,
        instanceId: change.instanceId,
        previous,
        current,
        output: detail.output,
        revision: String(svc.revision),
        at: detail.at ?? new Date(clock.now()),
      };
      out.push({ kind: { $case: "transition", value: transition } });
    }
    return out;
  };

  const fanOut = createFanOut<HealthWatchRequest, WatchHealthResponse>({
    queueLimit,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS,
    clock,
    bookmark: () => ({ kind: { $case: "bookmarkRevision", value: String(view.revision) } }),
    overflowError: () =>
      new ResourceExhaustedError(`health watch stream fell more than ${queueLimit} messages behind; resume with since_revision`),
    // The view is followed only while some stream is open; subscribing before a stream starts means it misses nothing.
    onStreamStart() {
      if (streams++ === 0) unsubscribe = view.subscribe(onUpdate);
      options.onStream?.(1);
    },
    onStreamEnd() {
      if (--streams === 0) {
        unsubscribe?.();
        unsubscribe = undefined;
      }
      options.onStream?.(-1);
    },
    source: {
      keys: (req) => [req.service === "" ? namespaceKey(req.namespace) : serviceKey(req.namespace, req.service)],
      async ready(_req, since, signal) {
        await view.waitForRevision(0, { signal });
        if (since <= view.revision) return true;
        // A revision another replica has served: wait briefly for this one to catch up, else reset.
        // A revision the store itself has not reached (kept across a restore): reset at once.
        try {
          return await view.waitForResume(since, { timeoutMs: catchUpTimeoutMs, signal });
        } catch (error) {
          if (signal.aborted) throw error;
          return false;
        }
      },
      snapshot,
      changesSince(req, since) {
        const history = view.changesSince(since);
        if (history === undefined) return undefined;
        return history.map((changes) =>
          changes.services.flatMap((svc) =>
            svc.namespace === req.namespace && (req.service === "" || req.service === svc.service) ? transitions(svc) : [],
          ),
        );
      },
    },
  });
  let streams = 0;
  let unsubscribe: (() => void) | undefined;

  function onUpdate(update: Parameters<Parameters<RegistryView["subscribe"]>[0]>[0]): void {
    if (update.type === "reset") {
      for (const stream of fanOut.all()) fanOut.reset(stream, [snapshot(stream.selector, true)]);
      return;
    }
    if (update.type !== "changes") return;
    // One revision is one group per stream, even when it touches several services of a namespace-wide stream.
    const pending = new Map<Subscriber<HealthWatchRequest>, WatchHealthResponse[]>();
    for (const svc of update.changes.services) {
      const exact = fanOut.subscribers(serviceKey(svc.namespace, svc.service));
      const wide = fanOut.subscribers(namespaceKey(svc.namespace));
      if (exact === undefined && wide === undefined) continue;
      const messages = transitions(svc);
      if (messages.length === 0) continue;
      for (const set of [exact, wide]) {
        for (const stream of set ?? []) {
          const queued = pending.get(stream);
          pending.set(stream, queued === undefined ? messages : [...queued, ...messages]);
        }
      }
    }
    for (const [stream, messages] of pending) fanOut.enqueue(stream, messages);
  }

  return (req, signal) => fanOut.watch(req, req.sinceRevision, signal);
}
