/**
 * A Watch that never gives up on transient errors and always hands out the
 * whole current list.
 *
 * ```ts
 * const ac = new AbortController();
 * for await (const update of watchService(client, { service: "orders" }, ac.signal)) {
 *   console.log(update.revision, update.instances.map((i) => `${i.address}:${i.port}`));
 * }
 * ```
 *
 * Guarantee: the `instances` of each update equal the server's matching state
 * at `revision`. After UNAVAILABLE, RESOURCE_EXHAUSTED, INTERNAL, a dropped
 * connection or a stream the server ended, the helper waits (exponential
 * backoff) and resumes with `since_revision` = the last revision it knows is
 * complete, so no change is lost and none is handed out twice; when the
 * server cannot serve that history it sends a reset snapshot, which replaces
 * the list. Invalid requests (INVALID_ARGUMENT, NOT_FOUND, UNIMPLEMENTED, ...)
 * end the iteration with the error. Aborting `signal` (or breaking out of the
 * loop) cancels the stream and ends the iteration without an error.
 */
import { EventType } from "../../../generated/switchboard/registry/v1/registry.js";
import type { Instance, WatchResponse } from "../../../generated/switchboard/registry/v1/registry.js";
import type { BackoffOptions } from "./backoff.js";
import type { RegistryClient, SwitchboardClient } from "./client.js";
import { instanceKey, sortInstances, toRevision } from "./instances.js";
import type { SdkLogger } from "./logger.js";
import { resumingStream } from "./resuming-stream.js";

/** Options of {@link watchService}: `service` is required. */
export interface WatchServiceOptions {
  /** Default "default". */
  namespace?: string;
  /** Service to watch; "" watches every service of the namespace. */
  service: string;
  /** Also stream draining, starting, out-of-service and unhealthy instances. Default false. */
  includeUnroutable?: boolean;
  /** Only instances carrying all these tags. Default none. */
  tags?: string[];
  /** Only instances in this zone. Default any. */
  zone?: string;
  /**
   * Start after this revision, as if a previous watch had seen everything up
   * to it (the first update is then an event, or a reset snapshot). Default 0:
   * start with a snapshot.
   */
  sinceRevision?: number;
  /** Also yield bookmark updates (idle progress; the list is unchanged). Default false. */
  bookmarks?: boolean;
  /** Delay between reconnects. Default 100 ms doubling to 5 s. */
  backoff?: BackoffOptions;
  /** Default: silent. */
  logger?: SdkLogger;
  /** Called before each reconnect after an error, e.g. to report the outage. */
  onRetry?: (error: unknown, delayMs: number) => void;
}

/** What happened to the instance of an "event" update. */
export type WatchEventKind = "added" | "updated" | "removed";

/** One update of {@link watchService}: always carries the whole current list. */
export interface WatchUpdate {
  /** "snapshot": the list was replaced; "event": one change; "bookmark": nothing changed. */
  type: "snapshot" | "event" | "bookmark";
  /** Revision this update brings the list to. */
  revision: number;
  /** Every matching instance at `revision`, ordered by namespace/service/instance id. */
  instances: Instance[];
  /** For snapshots: true when the server could not resume and replaced all earlier state. */
  reset: boolean;
  /** For events: what changed. REMOVED carries the last known state. */
  event?: { kind: WatchEventKind; instance: Instance };
}

const EVENT_KIND: ReadonlyMap<EventType, WatchEventKind> = new Map([
  [EventType.EVENT_TYPE_ADDED, "added"],
  [EventType.EVENT_TYPE_UPDATED, "updated"],
  [EventType.EVENT_TYPE_REMOVED, "removed"],
]);

/**
 * The instances of a service: a snapshot, then one update per change, resumed by revision after
 * failures (backoff 100 ms doubling to 5 s by default); ends when `signal` aborts, on `break`, or on
 * an error retrying cannot fix. Routable instances only unless `includeUnroutable`; no bookmarks
 * unless `bookmarks: true`.
 */
export async function* watchService(
  client: SwitchboardClient | RegistryClient,
  options: WatchServiceOptions,
  signal?: AbortSignal,
): AsyncGenerator<WatchUpdate, void, undefined> {
  const registry: RegistryClient = "registry" in client ? client.registry : client;
  const state = new Map<string, Instance>();
  // lastRevision: newest revision seen. completeRevision: newest revision known to
  // be fully delivered (events of one revision may come in several messages), the
  // resume point; events at lastRevision already applied are skipped on resume.
  let lastRevision = options.sinceRevision ?? 0;
  let completeRevision = lastRevision;
  let seenAtLast = new Set<string>();
  const target = `${options.namespace || "default"}/${options.service || "*"}`;

  const list = (): Instance[] => sortInstances(state.values());

  yield* resumingStream(
    {
      open: (attempt) =>
        registry.watch(
          {
            namespace: options.namespace ?? "",
            service: options.service,
            includeUnroutable: options.includeUnroutable ?? false,
            tags: options.tags ?? [],
            zone: options.zone ?? "",
            sinceRevision: String(completeRevision),
          },
          { signal: attempt },
        ),
      apply: (message) => {
        const update = apply(message);
        return update?.type === "bookmark" && options.bookmarks !== true ? undefined : update;
      },
      name: "watch",
      logFields: () => ({ target, revision: completeRevision }),
      backoff: options.backoff,
      logger: options.logger,
      onRetry: options.onRetry,
    },
    signal,
  );

  function apply(message: WatchResponse): WatchUpdate | undefined {
    const kind = message.kind;
    if (kind === undefined) return undefined;
    switch (kind.$case) {
      case "snapshot": {
        const revision = toRevision(kind.value.revision);
        state.clear();
        for (const instance of kind.value.instances) state.set(instanceKey(instance), instance);
        lastRevision = completeRevision = revision;
        seenAtLast = new Set();
        return { type: "snapshot", revision, instances: list(), reset: kind.value.reset };
      }
      case "event": {
        const revision = toRevision(kind.value.revision);
        const instance = kind.value.instance;
        const eventKind = EVENT_KIND.get(kind.value.type);
        if (instance === undefined || eventKind === undefined) return undefined;
        const key = instanceKey(instance);
        if (revision <= completeRevision || (revision === lastRevision && seenAtLast.has(key))) return undefined;
        if (revision > lastRevision) {
          completeRevision = lastRevision;
          lastRevision = revision;
          seenAtLast = new Set();
        }
        seenAtLast.add(key);
        if (eventKind === "removed") state.delete(key);
        else state.set(key, instance);
        return { type: "event", revision, instances: list(), reset: false, event: { kind: eventKind, instance } };
      }
      case "bookmark": {
        const revision = toRevision(kind.value.revision);
        if (revision < lastRevision) return undefined;
        lastRevision = completeRevision = revision;
        seenAtLast = new Set();
        return { type: "bookmark", revision, instances: list(), reset: false };
      }
    }
  }
}
