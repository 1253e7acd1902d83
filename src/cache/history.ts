import type { WatchBatch } from "../store/index.js";

/**
 * A bounded window of the most recent revisions' entries (the KeySpaceCache's
 * raw store batches, which every domain's watch resumes from), so that a
 * client resuming from a revision can be served without a store read. It
 * covers the revisions (floor, newest]; older requests must fall back to a
 * snapshot. Entries are pushed in increasing revision order.
 *
 * A fixed ring of `limit` slots: the entry that falls out is released at
 * once, so the window never holds more than `limit` entries (an array
 * compacted now and then held up to twice as many, and the heap sawed with it).
 */
export class HistoryWindow<Entry extends { readonly revision: number } = WatchBatch> {
  private ring: Entry[] = [];
  /** Slot of the oldest entry; moves only once the ring is full. */
  private head = 0;
  private floorRevision = 0;

  constructor(private readonly limit: number) {}

  /** The oldest revision a request may resume from. */
  get floor(): number {
    return this.floorRevision;
  }

  /** Entries held (at most limit). */
  get size(): number {
    return this.ring.length;
  }

  /** Forgets everything: history is known only after revision. */
  reset(revision: number): void {
    this.ring = [];
    this.head = 0;
    this.floorRevision = revision;
  }

  push(entry: Entry): void {
    if (this.limit <= 0) {
      this.floorRevision = entry.revision;
      return;
    }
    // Filling: head stays 0, so the next slot is the array's end.
    if (this.ring.length < this.limit) {
      this.ring.push(entry);
      return;
    }
    this.floorRevision = this.ring[this.head]!.revision;
    this.ring[this.head] = entry;
    this.head = (this.head + 1) % this.limit;
  }

  /** Entries with revision > sinceRevision, oldest first, or undefined when out of the window. */
  after(sinceRevision: number): Entry[] | undefined {
    if (sinceRevision < this.floorRevision) return undefined;
    const result: Entry[] = [];
    for (let i = this.firstAfter(sinceRevision); i < this.ring.length; i++) result.push(this.at(i));
    return result;
  }

  /** Batches after sinceRevision touching prefix (events filtered), or undefined when out of the window. */
  since(this: HistoryWindow<WatchBatch>, prefix: string, sinceRevision: number): WatchBatch[] | undefined {
    if (sinceRevision < this.floorRevision) return undefined;
    const result: WatchBatch[] = [];
    for (let i = this.firstAfter(sinceRevision); i < this.ring.length; i++) {
      const batch = this.at(i);
      const events = batch.events.filter((event) => keyOf(event).startsWith(prefix));
      if (events.length > 0) result.push({ revision: batch.revision, events });
    }
    return result;
  }

  /** The i-th oldest entry. */
  private at(i: number): Entry {
    return this.ring[(this.head + i) % this.ring.length]!;
  }

  /** Position (0 = oldest) of the first entry with a revision above revision. */
  private firstAfter(revision: number): number {
    let low = 0;
    let high = this.ring.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.at(mid).revision <= revision) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

function keyOf(event: WatchBatch["events"][number]): string {
  return event.type === "put" ? event.kv.key : event.key;
}
