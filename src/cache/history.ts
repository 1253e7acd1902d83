import type { WatchBatch } from "../store/index.js";

/**
 * A bounded window of the most recent batches, so that a client resuming from
 * a revision can be served without a store read. It covers the revisions
 * (floor, newest]; older requests must fall back to a snapshot.
 */
export class HistoryWindow {
  private batches: WatchBatch[] = [];
  private start = 0;
  private floor = 0;

  constructor(private readonly limit: number) {}

  /** Forgets everything: history is known only after revision. */
  reset(revision: number): void {
    this.batches = [];
    this.start = 0;
    this.floor = revision;
  }

  push(batch: WatchBatch): void {
    this.batches.push(batch);
    if (this.batches.length - this.start > this.limit) {
      this.floor = this.batches[this.start]!.revision;
      this.start++;
      // Compact the array now and then instead of shifting on every push.
      if (this.start > this.limit) {
        this.batches = this.batches.slice(this.start);
        this.start = 0;
      }
    }
  }

  /** Batches after sinceRevision touching prefix (events filtered), or undefined when out of the window. */
  since(prefix: string, sinceRevision: number): WatchBatch[] | undefined {
    if (sinceRevision < this.floor) return undefined;
    const first = this.firstAfter(sinceRevision);
    const result: WatchBatch[] = [];
    for (let i = first; i < this.batches.length; i++) {
      const batch = this.batches[i]!;
      const events = batch.events.filter((event) => keyOf(event).startsWith(prefix));
      if (events.length > 0) result.push({ revision: batch.revision, events });
    }
    return result;
  }

  private firstAfter(revision: number): number {
    let low = this.start;
    let high = this.batches.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.batches[mid]!.revision <= revision) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

function keyOf(event: WatchBatch["events"][number]): string {
  return event.type === "put" ? event.kv.key : event.key;
}
