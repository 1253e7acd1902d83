/**
 * The Store is the only place that knows how state is persisted. Two backends
 * implement it with the same semantics: etcd (production) and an embedded,
 * durable in-process store (zero-setup default, tests).
 *
 * Semantics (both backends, checked by test/store-contract.test.ts):
 * - One global revision counter; every successful write transaction advances
 *   it and all its changes carry the same revision. Concurrent transactions
 *   may share one revision (the etcd store commits them as one group), never
 *   touching the same key; sequential ones each advance it by exactly one.
 * - Keys attached to a lease are deleted, in one revision, when the lease
 *   expires or is revoked. Expiry lands between TTL and TTL + ~1 s after the
 *   last keepalive. TTLs below 2 s are raised to 2 s.
 * - watch(prefix, fromRevision) yields every change with revision >=
 *   fromRevision, in order, grouped by revision, with no gap and no duplicate.
 *   When fromRevision is older than the retained history it throws
 *   CompactedError; when the store is unreachable the iterator waits and
 *   resumes (it never invents events), or throws StoreUnavailableError if it
 *   cannot resume without a gap. fromRevision <= 0 means "from the next
 *   write". Revision 1 is the empty initial state (no events).
 * - compact(R) drops history up to and including R: watching from a revision
 *   <= R throws CompactedError(R). Compacting at or below an earlier
 *   compaction is a no-op. The embedded store also drops history beyond its
 *   window and at restart, with the same error.
 * - A transaction that writes one key twice (or puts inside a range it
 *   deletes) is rejected with StoreError, as etcd does. A write that changes
 *   nothing (deleting absent keys) does not advance the revision.
 * - Calls on a closed store throw StoreUnavailableError; running watches end.
 *
 * Keys and values are strings / bytes; keys are full paths including the
 * configured prefix (the caller builds them).
 */

export interface KeyValue {
  key: string;
  value: Uint8Array;
  /** Revision of the write that created the key (since its last deletion). */
  createRevision: number;
  /** Revision of the last write to the key. */
  modRevision: number;
  /** Writes since creation, starting at 1. */
  version: number;
  /** Lease the key is attached to; "0" for none. */
  lease: string;
}

export type StoreEvent = { type: "put"; kv: KeyValue } | { type: "delete"; key: string; modRevision: number };

/** All changes of one revision, in the order they were applied. */
export interface WatchBatch {
  revision: number;
  events: StoreEvent[];
}

/** A comparison a transaction checks before it applies its operations. */
export interface Compare {
  key: string;
  /** Expected modRevision of the key; 0 means the key must not exist. */
  modRevision: number;
}

export type Operation =
  | { type: "put"; key: string; value: Uint8Array; lease?: string }
  | { type: "delete"; key: string }
  | { type: "delete-prefix"; prefix: string };

export interface TxnRequest {
  compare?: Compare[];
  ops: Operation[];
}

export type TxnResult =
  /** revision is the revision of the write (or the current one when ops was empty). */
  | { succeeded: true; revision: number }
  /** current holds the compared keys as they are now (undefined: absent), in compare order. */
  | { succeeded: false; revision: number; current: (KeyValue | undefined)[] };

export interface ListResult {
  kvs: KeyValue[];
  /** The store revision the list reflects. */
  revision: number;
}

export interface Lease {
  id: string;
  ttlSeconds: number;
}

export interface Store {
  /** Reads one key at the current revision. */
  get(key: string): Promise<KeyValue | undefined>;
  /** Lists every key under prefix, sorted by key, at the current revision. */
  list(prefix: string): Promise<ListResult>;
  /**
   * Applies ops atomically when every comparison holds. A put with a lease
   * that does not exist throws LeaseNotFoundError and writes nothing.
   */
  txn(request: TxnRequest): Promise<TxnResult>;
  /** Grants a lease; ttlSeconds below 2 is raised to 2. */
  grantLease(ttlSeconds: number): Promise<Lease>;
  /**
   * Renews a lease and answers its TTL, or 0 when the lease is gone.
   * Backends multiplex all renewals over shared resources (one etcd
   * keepalive stream), never one stream or timer per lease.
   */
  keepAlive(leaseId: string): Promise<number>;
  /** Revokes a lease, deleting its keys. Unknown leases are ignored. */
  revokeLease(leaseId: string): Promise<void>;
  /** See the semantics above. Ends quietly when signal aborts. */
  watch(prefix: string, fromRevision: number, signal: AbortSignal): AsyncIterable<WatchBatch>;
  /** Drops history before revision. */
  compact(revision: number): Promise<void>;
  /** Resolves when the store answers; throws StoreUnavailableError otherwise. */
  ping(signal?: AbortSignal): Promise<void>;
  /** Releases connections, timers and files. */
  close(): Promise<void>;
}
