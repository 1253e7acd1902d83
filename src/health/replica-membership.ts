import type { Logger } from "pino";
import type { KeySpaceCache } from "../cache/index.js";
import { LeaseExpiredError } from "../errors.js";
import type { Store } from "../store/index.js";
import { fromStoreError } from "../store-errors.js";
import type { Clock } from "./clock.js";
import { replicaKey, replicasPrefix } from "./keys.js";
import { rendezvousOwner } from "./rendezvous.js";

/** Default TTL of a replica's membership lease, in seconds. */
export const DEFAULT_REPLICA_TTL_SECONDS = 5;

export interface ReplicaMembershipOptions {
  store: Store;
  cache: KeySpaceCache;
  prefix: string;
  replicaId: string;
  logger: Logger;
  clock: Clock;
  /** TTL of this replica's lease on replicas/{replica_id}: a dead replica's checks move within it. Default 5 s (etcd's floor is 2). */
  ttlSeconds?: number;
}

/** Value of replicas/{replica_id}. */
export interface ReplicaRecord {
  replicaId: string;
  startedAt: string;
}

/**
 * This replica's membership in replicas/ (a key on its own lease, renewed
 * every TTL/3, re-created when the lease is lost) and the ownership rule:
 * an instance belongs to the live replica that rendezvous hashing picks
 * among the replica keys the cache shows. A replica whose own key is gone
 * (lease lost) owns nothing until it is back, so at most one replica owns an
 * instance for longer than the cache lag.
 */
export interface ReplicaMembership {
  /** Starts registering and renewing; resolves after the first attempt (failures are retried in the background). */
  start(): Promise<void>;
  /** Live replica ids as this replica's cache sees them, sorted. */
  liveReplicas(): string[];
  /** The live replica that owns key, if any. */
  ownerOf(key: string): string | undefined;
  /** Stops renewing and revokes the lease so the others take over at once. */
  close(): Promise<void>;
}

/**
 * The live replicas in the cache (each holds replicas/{id} on its own lease),
 * sorted by id, with the record each wrote. A record that cannot be parsed
 * (written by another version) still lists the replica, without a start time.
 */
export function listReplicaRecords(cache: KeySpaceCache, prefix: string): ReplicaRecord[] {
  const root = replicasPrefix(prefix);
  const records: ReplicaRecord[] = [];
  for (const kv of cache.list(root)) {
    const replicaId = kv.key.slice(root.length);
    if (replicaId === "" || replicaId.includes("/")) continue;
    let startedAt = "";
    try {
      const parsed = JSON.parse(new TextDecoder().decode(kv.value)) as Partial<ReplicaRecord>;
      if (typeof parsed.startedAt === "string") startedAt = parsed.startedAt;
    } catch {
      // Listed anyway: the key's presence is what makes a replica live.
    }
    records.push({ replicaId, startedAt });
  }
  return records.sort((a, b) => (a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0));
}

export function createReplicaMembership(options: ReplicaMembershipOptions): ReplicaMembership {
  const { store, cache, prefix, replicaId, clock } = options;
  const log = options.logger.child({ component: "replicas" });
  const ttlSeconds = Math.max(2, options.ttlSeconds ?? DEFAULT_REPLICA_TTL_SECONDS);
  const key = replicaKey(prefix, replicaId);
  const record: ReplicaRecord = { replicaId, startedAt: new Date(clock.now()).toISOString() };
  const value = new TextEncoder().encode(JSON.stringify(record));
  let leaseId: string | undefined;
  let timer: unknown;
  let closed = false;
  let failing = false;
  let cached: { revision: number; ids: string[] } | undefined;

  const register = async () => {
    const lease = await store.grantLease(ttlSeconds);
    leaseId = lease.id;
    await store.txn({ ops: [{ type: "put", key, value, lease: lease.id }] });
    log.info({ leaseId: lease.id, ttlSeconds }, "replica registered for health-check sharing");
  };

  const tick = async () => {
    try {
      if (leaseId === undefined) await register();
      else {
        const ttl = await store.keepAlive(leaseId);
        if (ttl <= 0) {
          log.warn({ leaseId }, "replica lease lost; registering again");
          leaseId = undefined;
          await register();
        }
      }
      if (failing) log.info("replica lease renewed again");
      failing = false;
    } catch (error) {
      if (fromStoreError(error) instanceof LeaseExpiredError) leaseId = undefined;
      if (!failing) log.warn({ err: error }, "cannot renew replica lease; retrying");
      failing = true;
    }
  };

  const loop = async () => {
    if (closed) return;
    await tick();
    if (!closed) timer = clock.setTimeout(() => void loop(), failing ? 500 : (ttlSeconds * 1000) / 3);
  };

  const liveReplicas = (): string[] => {
    // Recomputed only when the cache moved; ownerOf runs once per instance on every reconcile.
    if (cached && cached.revision === cache.revision) return cached.ids;
    const root = replicasPrefix(prefix);
    const ids = cache
      .list(root)
      .map((kv) => kv.key.slice(root.length))
      .filter((id) => id !== "" && !id.includes("/"))
      .sort();
    cached = { revision: cache.revision, ids };
    return ids;
  };

  return {
    start: async () => {
      await tick();
      if (!closed) timer = clock.setTimeout(() => void loop(), failing ? 500 : (ttlSeconds * 1000) / 3);
    },
    liveReplicas,
    ownerOf: (instanceKey) => rendezvousOwner(instanceKey, liveReplicas()),
    close: async () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      if (leaseId !== undefined) {
        try {
          await store.revokeLease(leaseId);
        } catch (error) {
          log.warn({ err: error }, "could not revoke replica lease; it expires by itself");
        }
      }
    },
  };
}
