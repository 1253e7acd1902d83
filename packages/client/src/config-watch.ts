/**
 * A WatchConfig that never gives up on transient errors and always hands out
 * the whole resolved view.
 *
 * ```ts
 * const ac = new AbortController();
 * for await (const update of watchConfig(client, { service: "orders", profile: "prod" }, ac.signal)) {
 *   console.log(update.revision, update.changedKeys, update.entries.length);
 * }
 * ```
 *
 * Each "view" update carries the complete resolved view at `revision` and the
 * keys that changed since the previous update (on the first one: every key;
 * on a reset: the difference from the previous update). After UNAVAILABLE, RESOURCE_EXHAUSTED, a dropped connection or a
 * stream the server ended, it waits (exponential backoff) and resumes with
 * `since_revision` = the last revision seen, so no view is missed or repeated;
 * when the server cannot serve that history it sends the whole view again
 * (reset = true). Invalid requests end the iteration with the error. Aborting
 * `signal` (or breaking out of the loop) ends it without an error.
 */
import type { ResolvedEntry, WatchConfigResponse } from "../../../generated/switchboard/config/v1/config.js";
import type { BackoffOptions } from "./backoff.js";
import type { ConfigClient, SwitchboardClient } from "./client.js";
import { toRevision } from "./instances.js";
import type { SdkLogger } from "./logger.js";
import { resumingStream } from "./resuming-stream.js";

/** Options of {@link watchConfig}; every one is optional (namespace "default", no service, no profile). */
export interface ConfigWatchOptions {
  /** Default "default". */
  namespace?: string;
  /** Default "": namespace-wide layers only. */
  service?: string;
  /** Default "": default-profile layers only. */
  profile?: string;
  /**
   * Resume after this revision (the first update is then the next change, or
   * a reset). Default 0: start with the current view.
   */
  sinceRevision?: number;
  /** Also yield bookmark updates (idle progress; the view is unchanged). Default false. */
  bookmarks?: boolean;
  /** Delay between reconnects. Default 100 ms doubling to 5 s. */
  backoff?: BackoffOptions;
  /** Default: silent. */
  logger?: SdkLogger;
  /** Called before each reconnect after an error, e.g. to report the outage. */
  onRetry?: (error: unknown, delayMs: number) => void;
}

/** One update of {@link watchConfig}: the whole resolved view at `revision`. */
export interface ConfigWatchUpdate {
  type: "view" | "bookmark";
  revision: number;
  /** The whole resolved view at revision, sorted by key. */
  entries: ResolvedEntry[];
  /** Keys added, removed or changed since the previous update (every key on the first one). */
  changedKeys: string[];
  /** The server could not resume and sent the whole view again. */
  reset: boolean;
}

/**
 * The resolved configuration view of a namespace/service/profile, pushed whenever it changes,
 * resumed by revision after failures (backoff 100 ms doubling to 5 s by default). Ends when `signal`
 * aborts or on `break`. Bookmarks only with `bookmarks: true`.
 */
export async function* watchConfig(
  client: SwitchboardClient | ConfigClient,
  options: ConfigWatchOptions = {},
  signal?: AbortSignal,
): AsyncGenerator<ConfigWatchUpdate, void, undefined> {
  const config: ConfigClient = "config" in client ? client.config : client;
  let revision = options.sinceRevision ?? 0;
  let entries: ResolvedEntry[] = [];
  const target = `${options.namespace || "default"}/${options.service || "_"}/${options.profile || "_"}`;

  yield* resumingStream(
    {
      open: (attempt) =>
        config.watchConfig(
          {
            namespace: options.namespace ?? "",
            service: options.service ?? "",
            profile: options.profile ?? "",
            sinceRevision: String(revision),
          },
          { signal: attempt },
        ),
      apply: (message) => {
        const update = apply(message);
        return update?.type === "bookmark" && options.bookmarks !== true ? undefined : update;
      },
      name: "config watch",
      logFields: () => ({ target, revision }),
      backoff: options.backoff,
      logger: options.logger,
      onRetry: options.onRetry,
    },
    signal,
  );

  function apply(message: WatchConfigResponse): ConfigWatchUpdate | undefined {
    const messageRevision = toRevision(message.revision);
    if (message.bookmark) {
      if (messageRevision < revision) return undefined;
      revision = messageRevision;
      return { type: "bookmark", revision, entries, changedKeys: [], reset: false };
    }
    // The first view and a reset carry no changed keys: diff against what this helper last handed out.
    const whole = message.reset || message.changedKeys.length === 0;
    const changedKeys = whole ? diffKeys(entries, message.entries) : message.changedKeys;
    entries = message.entries;
    revision = messageRevision;
    return { type: "view", revision, entries, changedKeys, reset: message.reset };
  }
}

/** Keys added, removed, or with another value, content type or layer. */
function diffKeys(before: readonly ResolvedEntry[], after: readonly ResolvedEntry[]): string[] {
  const previous = new Map(before.map((entry) => [entry.key, entry]));
  const changed: string[] = [];
  for (const entry of after) {
    const old = previous.get(entry.key);
    previous.delete(entry.key);
    if (old === undefined || old.value !== entry.value || old.contentType !== entry.contentType || old.layer !== entry.layer) {
      changed.push(entry.key);
    }
  }
  return [...changed, ...previous.keys()].sort();
}
