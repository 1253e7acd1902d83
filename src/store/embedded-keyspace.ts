import { compareKeys } from "./key-range.js";
import type { KeyValue, StoreEvent } from "./types.js";

/** One change of a write, as applied and as logged. */
export type Change = { type: "put"; key: string; value: Uint8Array; lease: string } | { type: "delete"; key: string };

export interface LeaseEntry {
  readonly id: string;
  readonly ttlSeconds: number;
  /** Clock time (ms) after which the lease is dead; moved forward by keepalives. */
  expiresAt: number;
  /** Keys attached to the lease, deleted with it. */
  readonly keys: Set<string>;
}

/**
 * The current state of the embedded store: keys with their MVCC metadata,
 * leases and the revision counter. No I/O and no history; the store around
 * it logs changes and keeps the watch window.
 *
 * KeyValue objects are never mutated once stored, so readers, the watch
 * history and snapshots can share them without copying.
 */
export class Keyspace {
  /** etcd starts at revision 1 with an empty keyspace; so do we. */
  revision = 1;
  readonly kvs = new Map<string, KeyValue>();
  readonly leases = new Map<string, LeaseEntry>();
  /** Sorted keys for range reads; rebuilt lazily after the key set changes. */
  private sortedKeys: string[] | undefined;

  get(key: string): KeyValue | undefined {
    return this.kvs.get(key);
  }

  /** Keys starting with prefix, in etcd order. */
  keysWithPrefix(prefix: string): string[] {
    const keys = this.sorted();
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareKeys(keys[mid]!, prefix) < 0) low = mid + 1;
      else high = mid;
    }
    const result: string[] = [];
    for (let i = low; i < keys.length && keys[i]!.startsWith(prefix); i++) result.push(keys[i]!);
    return result;
  }

  /**
   * Applies changes as one write. Returns the events; when nothing changed
   * (e.g. deleting absent keys) the revision stays, as in etcd.
   */
  apply(changes: readonly Change[]): StoreEvent[] {
    const revision = this.revision + 1;
    const events: StoreEvent[] = [];
    for (const change of changes) {
      const previous = this.kvs.get(change.key);
      if (change.type === "put") {
        const kv: KeyValue = {
          key: change.key,
          value: change.value,
          createRevision: previous ? previous.createRevision : revision,
          modRevision: revision,
          version: previous ? previous.version + 1 : 1,
          lease: change.lease,
        };
        if (previous?.lease !== change.lease) {
          if (previous) this.detach(previous);
          if (change.lease !== "0") this.leases.get(change.lease)?.keys.add(change.key);
        }
        if (!previous) this.sortedKeys = undefined;
        this.kvs.set(change.key, kv);
        events.push({ type: "put", kv });
      } else if (previous) {
        this.detach(previous);
        this.kvs.delete(change.key);
        this.sortedKeys = undefined;
        events.push({ type: "delete", key: change.key, modRevision: revision });
      }
    }
    if (events.length > 0) this.revision = revision;
    return events;
  }

  /** Restores a key exactly as it was (snapshot load). */
  restore(kv: KeyValue): void {
    this.kvs.set(kv.key, kv);
    if (kv.lease !== "0") this.leases.get(kv.lease)?.keys.add(kv.key);
    this.sortedKeys = undefined;
  }

  private detach(kv: KeyValue): void {
    if (kv.lease !== "0") this.leases.get(kv.lease)?.keys.delete(kv.key);
  }

  private sorted(): string[] {
    this.sortedKeys ??= [...this.kvs.keys()].sort(compareKeys);
    return this.sortedKeys;
  }
}
