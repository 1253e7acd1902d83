import type { WatchBatch } from "../store/index.js";

/**
 * A bounded window of the most recent revisions' entries (raw store batches
 * in the KeySpaceCache, decoded instance changes in the RegistryView), so that
 * a client resuming from a revision can be served without a store read. It
 * covers the revisions (floor, newest]; older requests must fall back to a
 * snapshot. Entries are pushed in increasing revision order.
 */
export class HistoryWindow<Entry extends { readonly revision: number } = WatchBatch> {
  private entries: Entry[] = [];
  private start = 0;
  private floorRevision = 0;

  constructor(private readonly limit: number) {}

  /** The oldest revision a request may resume from. */
  get floor(): number {
    return this.floorRevision;
  }

  /** Forgets everything: history is known only after revision. */
  reset(revision: number): void {
    this.entries = [];
    this.start = 0;
    this.floorRevision = revision;
  }

  push(entry: Entry): void {
    this.entries.push(entry);
    if (this.entries.length - this.start > this.limit) {
      this.floorRevision = this.entries[this.start]!.revision;
      this.start++;
      // Compact the array now and then instead of shifting on every push.
      if (this.start > this.limit) {
        this.entries = this.entries.slice(this.start);
        this.start = 0;
      }
    }
  }

  /** Entries with revision > sinceRevision, oldest first, or undefined when out of the window. */
  after(sinceRevision: number): Entry[] | undefined {
    if (sinceRevision < this.floorRevision) return undefined;
    return this.entries.slice(this.firstAfter(sinceRevision));
  }

  /** Batches after sinceRevision touching prefix (events filtered), or undefined when out of the window. */
  since(this: HistoryWindow<WatchBatch>, prefix: string, sinceRevision: number): WatchBatch[] | undefined {
    if (sinceRevision < this.floorRevision) return undefined;
    const first = this.firstAfter(sinceRevision);
    const result: WatchBatch[] = [];
    for (let i = first; i < this.entries.length; i++) {
      const batch = this.entries[i]!;
      const events = batch.events.filter((event) => keyOf(event).startsWith(prefix));
      if (events.length > 0) result.push({ revision: batch.revision, events });
    }
    return result;
  }

  private firstAfter(revision: number): number {
    let low = this.start;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid]!.revision <= revision) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

function keyOf(event: WatchBatch["events"][number]): string {
  return event.type === "put" ? event.kv.key : event.key;
}
