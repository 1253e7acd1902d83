import { CompactedError } from "./errors.js";
import { filterBatch } from "./key-range.js";
import type { WatchBatch } from "./types.js";

/**
 * The embedded store's watch history: one batch per revision in a bounded
 * window, read by every watcher through its own cursor. Watchers hold no
 * queues; a slow one simply reads older batches, and one that falls out of
 * the window gets CompactedError (its consumer relists).
 *
 * Revisions are appended when applied and published when durable; watchers
 * see only published ones, so nothing they saw can be lost by a crash.
 */
export class WatchHistory {
  /** Batches for revisions compactRevision + 1 ... last appended, in order. */
  private batches: WatchBatch[] = [];
  /** Revisions up to here are gone. Revision 1 is etcd's empty initial state, never a batch. */
  private compactRevision = 1;
  private publishedRevision = 1;
  /** Next revision of each running watcher: trimming spares what they have yet to read. */
  private readonly cursors = new Set<{ next: number }>();
  private changed = deferred();
  private closed = false;

  /**
   * @param limit revisions kept for watchers that start or resume later;
   *   running watchers that lag hold up to 10 times more while they catch up.
   */
  constructor(private readonly limit: number) {}

  /** Starts empty after revision (a restart: nothing before it can be replayed). */
  resetTo(revision: number): void {
    this.batches = [];
    this.compactRevision = revision;
    this.publishedRevision = revision;
  }

  /** Adds the batch of the next revision, not yet visible to watchers. */
  append(batch: WatchBatch): void {
    this.batches.push(batch);
    if (this.batches.length > this.limit * 1.25) this.trim(batch.revision - this.limit);
  }

  /** Makes every revision up to revision visible and wakes the watchers. */
  publish(revision: number): void {
    if (revision <= this.publishedRevision) return;
    this.publishedRevision = revision;
    const woken = this.changed;
    this.changed = deferred();
    woken.resolve();
  }

  /** Drops every batch up to and including revision. */
  compact(revision: number): void {
    if (revision <= this.compactRevision) return;
    this.batches = this.batches.slice(revision - this.compactRevision);
    this.compactRevision = revision;
  }

  /** Ends every watcher quietly. */
  close(): void {
    this.closed = true;
    this.changed.resolve();
  }

  /** Batches from revision `from` (>= 1) on, filtered to prefix, until signal aborts or close. */
  async *watch(prefix: string, from: number, signal: AbortSignal): AsyncGenerator<WatchBatch> {
    const cursor = { next: Math.max(from, 2) };
    this.cursors.add(cursor);
    try {
      while (!signal.aborted && !this.closed) {
        if (cursor.next <= this.compactRevision) throw new CompactedError(this.compactRevision);
        if (cursor.next > this.publishedRevision) {
          await this.nextChange(signal);
          continue;
        }
        const batch = filterBatch(this.batches[cursor.next - this.compactRevision - 1]!, prefix);
        cursor.next++;
        if (batch) yield batch;
      }
    } finally {
      this.cursors.delete(cursor);
    }
  }

  private trim(revision: number): void {
    let target = revision;
    if (this.batches.length < this.limit * 10) {
      for (const cursor of this.cursors) target = Math.min(target, cursor.next - 1);
    }
    // Dropping in chunks keeps copying the window amortised O(1) per write.
    if (target - this.compactRevision >= this.limit / 4) this.compact(target);
  }

  /** Resolves on the next publish, close or abort; one shared promise for all watchers. */
  private nextChange(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const onAbort = (): void => resolve();
      signal.addEventListener("abort", onAbort, { once: true });
      void this.changed.promise.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
