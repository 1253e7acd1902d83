import type { LeaseEntry } from "./embedded-keyspace.js";

interface Slot {
  at: number;
  lease: LeaseEntry;
}

/**
 * Finds expired leases for one periodic sweep, whatever the number of leases.
 *
 * A min-heap holds one slot per lease, keyed by the expiry time the lease had
 * when the slot was pushed. Keepalives only move `lease.expiresAt` (O(1), no
 * heap work); when a slot comes due and its lease was renewed meanwhile, the
 * slot is pushed again at the new time. So each lease costs at most one heap
 * operation per TTL, and a sweep touches only leases that are due.
 */
export class LeaseExpiryQueue {
  private readonly heap: Slot[] = [];

  add(lease: LeaseEntry): void {
    this.push({ at: lease.expiresAt, lease });
  }

  /**
   * Removes and returns leases whose expiry is at or before now. isCurrent
   * tells whether a lease is still registered (revoked ones are dropped).
   */
  takeExpired(now: number, isCurrent: (lease: LeaseEntry) => boolean): LeaseEntry[] {
    const expired: LeaseEntry[] = [];
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const slot = this.pop();
      if (!isCurrent(slot.lease)) continue;
      if (slot.lease.expiresAt <= now) expired.push(slot.lease);
      else this.push({ at: slot.lease.expiresAt, lease: slot.lease });
    }
    return expired;
  }

  clear(): void {
    this.heap.length = 0;
  }

  private push(slot: Slot): void {
    const heap = this.heap;
    heap.push(slot);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= slot.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = slot;
  }

  private pop(): Slot {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
        if (heap[child]!.at >= last.at) break;
        heap[i] = heap[child]!;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
