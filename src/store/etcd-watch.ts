import type { IDuplexStream, IEvent, IWatchRequest, IWatchResponse, WatchClient } from "etcd3";
import type { Logger } from "pino";
import { CompactedError, StoreUnavailableError } from "./errors.js";
import { translateEtcdError } from "./etcd-errors.js";
import { endStream, toKeyValue } from "./etcd-values.js";
import { prefixRangeEnd } from "./key-range.js";
import type { StoreEvent, WatchBatch } from "./types.js";

type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse> & AsyncIterable<IWatchResponse> & { readonly writable: boolean };

export interface EtcdWatchOptions {
  watchClient: WatchClient;
  logger: Logger;
  /** First delay before re-opening a broken watch, doubled up to maxBackoffMs. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /**
   * A progress request goes out this often; a stream that answers nothing
   * (events or progress) for a whole period is taken as stuck and re-opened.
   * Catches a frozen or partitioned member long before TCP or HTTP/2 would.
   */
  livenessProbeMs: number;
}

/**
 * One etcd watch on prefix, as Store.watch promises: batches grouped by
 * revision, no gap, no duplicate, across reconnects.
 *
 * The etcd watch starts one revision early (fromRevision - 1) and that
 * revision is dropped: etcd reports compaction only for a start strictly
 * below its compact revision, and a start AT it can silently miss deletions
 * compaction removed. Starting one early makes "fromRevision <= compact
 * revision" the CompactedError condition on both backends.
 *
 * When the stream breaks or stops answering, it is re-opened from the last
 * delivered revision + 1, with backoff, until the signal aborts: while etcd
 * is unreachable the iterator simply waits.
 */
export async function* watchEtcd(
  options: EtcdWatchOptions,
  prefix: string,
  fromRevision: number,
  signal: AbortSignal,
): AsyncGenerator<WatchBatch> {
  /** Next revision to deliver; undefined until etcd tells us "now" (fromRevision <= 0). */
  let next: number | undefined = fromRevision > 0 ? fromRevision : undefined;
  let backoff = options.minBackoffMs;
  while (!signal.aborted) {
    let stream: WatchStream | undefined;
    let liveness: NodeJS.Timeout | undefined;
    let stalled = false;
    const cancel = (): void => {
      if (stream) endStream(stream);
    };
    signal.addEventListener("abort", cancel, { once: true });
    try {
      stream = (await options.watchClient.watch()) as WatchStream;
      if (signal.aborted) return;
      // Probed only while we wait on etcd: a consumer that holds a batch for
      // long leaves responses buffered, which is not a stall.
      let waiting = false;
      let heard = true;
      const probed = stream;
      liveness = setInterval(() => {
        if (!waiting) return;
        if (!heard) {
          stalled = true;
          probed.cancel();
          return;
        }
        heard = false;
        probed.write({ progress_request: {} });
      }, options.livenessProbeMs);
      liveness.unref();
      stream.write({
        create_request: {
          key: Buffer.from(prefix),
          range_end: prefixRangeEnd(prefix),
          // 0 is etcd's "now"; revision 1 holds no events, so 1 never needs an earlier start.
          start_revision: next === undefined ? 0 : Math.max(next - 1, 1),
        },
      });
      const responses = stream[Symbol.asyncIterator]();
      for (;;) {
        waiting = true;
        const { value: response, done } = await responses.next();
        waiting = false;
        heard = true;
        if (done) break;
        if (response.compact_revision !== "0" && response.compact_revision !== "") {
          throw new CompactedError(Number(response.compact_revision));
        }
        if (response.canceled) {
          throw new StoreUnavailableError(`etcd canceled the watch: ${response.cancel_reason || "no reason given"}`);
        }
        if (response.created) {
          backoff = options.minBackoffMs;
          next ??= Number(response.header.revision) + 1;
        }
        for (const batch of groupByRevision(response.events)) {
          if (next !== undefined && batch.revision < next) continue; // already delivered, or the early start
          next = batch.revision + 1;
          yield batch;
          if (signal.aborted) return;
        }
      }
      throw new StoreUnavailableError("etcd closed the watch stream");
    } catch (error) {
      if (signal.aborted) return;
      const translated = stalled
        ? new StoreUnavailableError(`etcd watch answered nothing for ${options.livenessProbeMs} ms`)
        : translateEtcdError(error);
      if (!translated.retryable) throw translated;
      options.logger.warn({ err: translated, prefix, next, retryInMs: backoff }, "etcd watch broke; resuming");
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, options.maxBackoffMs);
    } finally {
      clearInterval(liveness);
      signal.removeEventListener("abort", cancel);
      cancel();
    }
  }
}

/** Splits a response's events into one batch per revision, keeping their order. */
function groupByRevision(events: IEvent[]): WatchBatch[] {
  const batches: WatchBatch[] = [];
  let current: WatchBatch | undefined;
  for (const event of events) {
    const revision = Number(event.kv.mod_revision);
    if (current?.revision !== revision) {
      current = { revision, events: [] };
      batches.push(current);
    }
    current.events.push(toStoreEvent(event, revision));
  }
  return batches;
}

function toStoreEvent(event: IEvent, revision: number): StoreEvent {
  return event.type === "Delete"
    ? { type: "delete", key: event.kv.key.toString(), modRevision: revision }
    : { type: "put", kv: toKeyValue(event.kv) };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
