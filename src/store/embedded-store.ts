/**
 * The embedded store: etcd's data model in-process, for one Switchboard
 * process with no etcd to run (development, demos, SDK tests, the default of
 * `switchboard serve`). It passes the same contract suite as the etcd store.
 *
 * ```ts
 * const store = await createEmbeddedStore({ dataDir: "/var/lib/switchboard" });
 * const { revision } = await store.txn({ ops: [{ type: "put", key: "/a", value: bytes }] });
 * await store.close();
 * ```
 *
 * With dataDir, every write resolves only once it is in the write-ahead log
 * (group-committed fsync), and watchers see a revision only once it is
 * durable, so no watcher ever sees a change a crash could take back. Reads
 * see writes as soon as they are applied. Keys, revisions and leases survive
 * a restart; restored leases get their full TTL again (as etcd does), and
 * watch history does not survive: watching from before the restart revision
 * throws CompactedError, as after an etcd compaction.
 */
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import type { Logger } from "pino";
import { DurableLog } from "./embedded-log.js";
import { Keyspace } from "./embedded-keyspace.js";
import type { Change, LeaseEntry } from "./embedded-keyspace.js";
import { LeaseNotFoundError, StoreError, StoreUnavailableError } from "./errors.js";
import { LeaseExpiryQueue } from "./lease-expiry-queue.js";
import { grantedTtl } from "./lease-ttl.js";
import type { KeyValue, Lease, ListResult, Operation, Store, TxnRequest, TxnResult, WatchBatch } from "./types.js";
import type { LogRecord, SnapshotState } from "./wal-codec.js";
import { WatchHistory } from "./watch-history.js";

/** Time source; tests inject one to move lease expiry without waiting. */
export interface Clock {
  /** Milliseconds, as Date.now(). */
  now(): number;
}

export interface EmbeddedStoreOptions {
  /** Directory for the write-ahead log and snapshots. Default: none (memory only). */
  dataDir?: string;
  /** Default: a silent logger. */
  logger?: Logger;
  /** Default: the system clock (Date.now). */
  clock?: Clock;
  /**
   * Revisions of watch history kept; watching from older ones throws
   * CompactedError. Running watchers that lag hold up to 10 times more while
   * they catch up (a burst of writes in one tick outpaces any consumer).
   * Default 10,000.
   */
  historyLimit?: number;
  /** Period of the single lease-expiry sweep, in ms. Default 250 (expiry within TTL + 0.25 s). */
  leaseSweepIntervalMs?: number;
  /** Log size after which a snapshot replaces the older log segments. Default 64 MiB. */
  snapshotAfterBytes?: number;
}

export async function createEmbeddedStore(options: EmbeddedStoreOptions = {}): Promise<Store> {
  const store = new EmbeddedStore(options);
  await store.open();
  return store;
}

class EmbeddedStore implements Store {
  private readonly keyspace = new Keyspace();
  private readonly expiry = new LeaseExpiryQueue();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly history: WatchHistory;
  private log: DurableLog | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: EmbeddedStoreOptions) {
    this.clock = options.clock ?? Date;
    this.logger = options.logger ?? pino({ level: "silent" });
    this.history = new WatchHistory(options.historyLimit ?? 10_000);
  }

  async open(): Promise<void> {
    if (this.options.dataDir !== undefined) {
      const { log, recovered } = await DurableLog.open({
        dir: this.options.dataDir,
        logger: this.logger,
        snapshotAfterBytes: this.options.snapshotAfterBytes ?? 64 * 1024 * 1024,
      });
      try {
        if (recovered.snapshot) this.restoreSnapshot(recovered.snapshot);
        for (const record of recovered.records) this.replay(record);
        await log.start(() => this.captureState());
      } catch (error) {
        await log.close();
        throw error;
      }
      this.log = log;
      // Restored leases get their full TTL from now, as etcd does after a restart.
      const now = this.clock.now();
      for (const lease of this.keyspace.leases.values()) {
        lease.expiresAt = now + lease.ttlSeconds * 1000;
        this.expiry.add(lease);
      }
      this.history.resetTo(this.keyspace.revision);
      this.logger.info(
        { dataDir: this.options.dataDir, revision: this.keyspace.revision, keys: this.keyspace.kvs.size },
        "embedded store loaded",
      );
    }
    // One sweep for every lease; unref'd so an idle store never keeps a process alive.
    this.sweepTimer = setInterval(() => this.expireLeases(), this.options.leaseSweepIntervalMs ?? 250);
    this.sweepTimer.unref();
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.assertOpen();
    return this.keyspace.get(key);
  }

  async list(prefix: string): Promise<ListResult> {
    this.assertOpen();
    const kvs = this.keyspace.keysWithPrefix(prefix).map((key) => this.keyspace.get(key)!);
    return { kvs, revision: this.keyspace.revision };
  }

  async txn(request: TxnRequest): Promise<TxnResult> {
    this.assertOpen();
    checkDistinctKeys(request.ops);
    const compare = request.compare ?? [];
    // An absent key has modRevision 0, which is how "must not exist" is spelled.
    if (!compare.every((c) => (this.keyspace.get(c.key)?.modRevision ?? 0) === c.modRevision)) {
      const current = compare.map((c) => this.keyspace.get(c.key));
      return { succeeded: false, revision: this.keyspace.revision, current };
    }
    // Leases are checked only for the branch that runs, as etcd does.
    const now = this.clock.now();
    for (const op of request.ops) {
      if (op.type === "put" && op.lease !== undefined && op.lease !== "0" && !this.liveLease(op.lease, now)) {
        throw new LeaseNotFoundError(op.lease);
      }
    }
    const changes = this.expand(request.ops);
    const events = this.keyspace.apply(changes);
    if (events.length === 0) return { succeeded: true, revision: this.keyspace.revision };
    const revision = this.keyspace.revision;
    await this.commit({ revision, events }, [{ type: "txn", revision, changes }]);
    return { succeeded: true, revision };
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    this.assertOpen();
    const ttl = grantedTtl(ttlSeconds);
    const lease: LeaseEntry = {
      id: this.newLeaseId(),
      ttlSeconds: ttl,
      expiresAt: this.clock.now() + ttl * 1000,
      keys: new Set(),
    };
    this.keyspace.leases.set(lease.id, lease);
    this.expiry.add(lease);
    await this.log?.append({ type: "grant", id: lease.id, ttlSeconds: ttl });
    return { id: lease.id, ttlSeconds: ttl };
  }

  async keepAlive(leaseId: string): Promise<number> {
    this.assertOpen();
    const now = this.clock.now();
    const lease = this.liveLease(leaseId, now);
    if (!lease) return 0;
    // Only the deadline moves; the expiry queue catches up when the old one comes due.
    lease.expiresAt = now + lease.ttlSeconds * 1000;
    return lease.ttlSeconds;
  }

  async revokeLease(leaseId: string): Promise<void> {
    this.assertOpen();
    const lease = this.keyspace.leases.get(leaseId);
    if (lease) await this.removeLease(lease);
  }

  watch(prefix: string, fromRevision: number, signal: AbortSignal): AsyncIterable<WatchBatch> {
    this.assertOpen();
    return this.history.watch(prefix, fromRevision > 0 ? fromRevision : this.keyspace.revision + 1, signal);
  }

  async compact(revision: number): Promise<void> {
    this.assertOpen();
    if (revision > this.keyspace.revision) {
      throw new StoreError(`cannot compact at future revision ${revision} (current ${this.keyspace.revision})`);
    }
    this.history.compact(revision);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    this.expiry.clear();
    this.history.close();
    await this.log?.close();
  }

  /** Records a write in the history and the log; watchers see it once durable. */
  private async commit(batch: WatchBatch, records: LogRecord[]): Promise<void> {
    this.history.append(batch);
    if (this.log) await Promise.all(records.map((record) => this.log!.append(record)));
    this.history.publish(batch.revision);
  }

  private expand(ops: readonly Operation[]): Change[] {
    const changes: Change[] = [];
    for (const op of ops) {
      if (op.type === "put") {
        // Copied: the caller may reuse its buffer, and stored values are shared with readers.
        changes.push({ type: "put", key: op.key, value: op.value.slice(), lease: op.lease ?? "0" });
      } else if (op.type === "delete") {
        changes.push({ type: "delete", key: op.key });
      } else {
        for (const key of this.keyspace.keysWithPrefix(op.prefix)) changes.push({ type: "delete", key });
      }
    }
    return changes;
  }

  /** Deletes a lease and, in one revision, its keys (revocation and expiry). */
  private async removeLease(lease: LeaseEntry): Promise<void> {
    this.keyspace.leases.delete(lease.id);
    const changes: Change[] = [...lease.keys].map((key) => ({ type: "delete", key }));
    const events = this.keyspace.apply(changes);
    const revoke: LogRecord = { type: "revoke", id: lease.id };
    if (events.length === 0) {
      await this.log?.append(revoke);
      return;
    }
    const revision = this.keyspace.revision;
    await this.commit({ revision, events }, [{ type: "txn", revision, changes }, revoke]);
  }

  private expireLeases(): void {
    const now = this.clock.now();
    const expired = this.expiry.takeExpired(now, (lease) => this.keyspace.leases.get(lease.id) === lease);
    for (const lease of expired) {
      this.removeLease(lease).catch((error: unknown) => {
        this.logger.error({ err: error, lease: lease.id }, "lease expiry failed");
      });
    }
  }

  /** A lease past its deadline is dead even before the sweep removes it. */
  private liveLease(id: string, now: number): LeaseEntry | undefined {
    const lease = this.keyspace.leases.get(id);
    return lease && lease.expiresAt > now ? lease : undefined;
  }

  /** Random 63-bit ids like etcd's, so ids are not reused across restarts. */
  private newLeaseId(): string {
    for (;;) {
      const id = (randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn).toString();
      if (id !== "0" && !this.keyspace.leases.has(id)) return id;
    }
  }

  private restoreSnapshot(snapshot: SnapshotState): void {
    this.keyspace.revision = snapshot.revision;
    for (const { id, ttlSeconds } of snapshot.leases) this.restoreLease(id, ttlSeconds);
    for (const kv of snapshot.kvs) this.keyspace.restore(kv);
  }

  private replay(record: LogRecord): void {
    if (record.type === "txn") {
      this.keyspace.revision = record.revision - 1;
      this.keyspace.apply(record.changes);
      this.keyspace.revision = record.revision;
    } else if (record.type === "grant") {
      this.restoreLease(record.id, record.ttlSeconds);
    } else {
      this.keyspace.leases.delete(record.id);
    }
  }

  /** Its deadline is set once loading is done: restored leases get their full TTL from then. */
  private restoreLease(id: string, ttlSeconds: number): void {
    this.keyspace.leases.set(id, { id, ttlSeconds, expiresAt: 0, keys: new Set() });
  }

  private captureState(): SnapshotState {
    return {
      revision: this.keyspace.revision,
      kvs: [...this.keyspace.kvs.values()],
      leases: [...this.keyspace.leases.values()].map(({ id, ttlSeconds }) => ({ id, ttlSeconds })),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreUnavailableError("store is closed");
  }
}

/**
 * etcd rejects a transaction that writes one key twice or puts a key inside a
 * range it deletes ("duplicate key given in txn request"); so does this one.
 */
function checkDistinctKeys(ops: readonly Operation[]): void {
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.type !== "put") continue;
    if (puts.has(op.key)) throw new StoreError(`duplicate key given in txn request: ${op.key}`);
    puts.add(op.key);
  }
  for (const op of ops) {
    const overlaps =
      op.type === "delete" ? puts.has(op.key) : op.type === "delete-prefix" && [...puts].some((key) => key.startsWith(op.prefix));
    if (overlaps) throw new StoreError("duplicate key given in txn request: a put overlaps a delete");
  }
}
