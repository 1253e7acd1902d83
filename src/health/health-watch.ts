import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import type { HealthTransition, InstanceHealth, WatchHealthResponse } from "../../generated/switchboard/health/v1/health.js";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import { ResourceExhaustedError } from "../errors.js";
import { DEFAULT_BOOKMARK_INTERVAL_MS, DEFAULT_WATCH_QUEUE_LIMIT } from "../registry/index.js";
import type { RegistryView, RevisionChanges, ViewUpdate } from "../registry/index.js";
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
 * when signal aborts.
 */
export function createHealthWatch(options: HealthWatchOptions): HealthWatch {
  const { view, clock } = options;
  const queueLimit = options.queueLimit ?? DEFAULT_WATCH_QUEUE_LIMIT;
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS;
  const catchUpTimeoutMs = options.catchUpTimeoutMs ?? 5_000;

  const matches = (req: HealthWatchRequest, namespace: string, service: string) =>
    namespace === req.namespace && (req.service === "" || req.service === service);

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

  const transitions = (req: HealthWatchRequest, changes: RevisionChanges): WatchHealthResponse[] => {
    const out: WatchHealthResponse[] = [];
    for (const svc of changes.services) {
      if (!matches(req, svc.namespace, svc.service)) continue;
      for (const change of svc.changes) {
        const previous = change.before?.healthStatus ?? HealthStatus.HEALTH_STATUS_UNSPECIFIED;
        const current = change.after?.healthStatus ?? HealthStatus.HEALTH_STATUS_UNSPECIFIED;
        if (previous === current) continue;
        const detail = change.after ? options.transitionDetail(change.after, changes.revision) : { output: REMOVED_OUTPUT };
        const transition: HealthTransition = {
          namespace: svc.namespace,
          service: svc.service,
          instanceId: change.instanceId,
          previous,
          current,
          output: detail.output,
          revision: String(changes.revision),
          at: detail.at ?? new Date(clock.now()),
        };
        out.push({ kind: { $case: "transition", value: transition } });
      }
    }
    return out;
  };

  return async function* watch(req, signal) {
    await view.waitForRevision(0, { signal });
    let since = req.sinceRevision;
    if (since > view.revision) {
      // A revision another replica has served: wait briefly for this one to catch up, else reset.
      // A revision the store itself has not reached (kept across a restore): reset at once.
      try {
        if (!(await view.waitForResume(since, { timeoutMs: catchUpTimeoutMs, signal }))) since = -1;
      } catch {
        if (signal.aborted) return;
        since = -1;
      }
    }
    if (signal.aborted) return;

    const queue: WatchHealthResponse[] = [];
    let overflow = false;
    let wake: (() => void) | undefined;
    const push = (messages: readonly WatchHealthResponse[]) => {
      if (messages.length === 0 || overflow) return;
      if (queue.length + messages.length > queueLimit) {
        overflow = true;
        queue.length = 0;
      } else {
        queue.push(...messages);
      }
      wake?.();
    };
    const onUpdate = (update: ViewUpdate) => {
      if (update.type === "changes") push(transitions(req, update.changes));
      else if (update.type === "reset") {
        queue.length = 0;
        push([snapshot(req, true)]);
      }
    };

    // Attach and take the first message in one synchronous step: nothing can fall in between.
    const unsubscribe = view.subscribe(onUpdate);
    options.onStream?.(1);
    const onAbort = () => wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      if (since > 0) {
        const history = view.changesSince(since);
        if (history === undefined) push([snapshot(req, true)]);
        else for (const changes of history) push(transitions(req, changes));
      } else {
        push([snapshot(req, since < 0)]);
      }
      let lastSentAt = clock.now();
      while (!signal.aborted) {
        if (overflow) {
          throw new ResourceExhaustedError(
            `health watch stream fell more than ${queueLimit} messages behind; resume with since_revision`,
          );
        }
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          lastSentAt = clock.now();
          continue;
        }
        const idleFor = clock.now() - lastSentAt;
        if (idleFor >= bookmarkIntervalMs) {
          yield { kind: { $case: "bookmarkRevision", value: String(view.revision) } };
          lastSentAt = clock.now();
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = clock.setTimeout(resolve, bookmarkIntervalMs - idleFor);
          wake = () => {
            clock.clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      wake = undefined;
      signal.removeEventListener("abort", onAbort);
      unsubscribe();
      options.onStream?.(-1);
    }
  };
}
