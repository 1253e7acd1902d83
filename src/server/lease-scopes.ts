/**
 * lease id → the namespace/service of the instances on it, kept from the
 * cache, so the auth guard can scope Heartbeat and KeepAlive (which name only
 * a lease) to the service that registered it. Built only with --auth.
 */
import type { KeySpaceCache } from "../cache/index.js";
import type { AccessScope } from "../auth/index.js";
import { instancesPrefix, parseInstanceKey } from "../registry/index.js";

export interface LeaseScopes {
  /** Scopes of the instances on the lease; empty when this replica knows none. */
  get(leaseId: string): AccessScope[];
  close(): void;
}

export function createLeaseScopes(cache: KeySpaceCache, prefix: string): LeaseScopes {
  const root = instancesPrefix(prefix);
  const leaseOfKey = new Map<string, string>();
  const keysOfLease = new Map<string, Map<string, AccessScope>>();

  const remove = (key: string) => {
    const lease = leaseOfKey.get(key);
    if (lease === undefined) return;
    leaseOfKey.delete(key);
    const keys = keysOfLease.get(lease);
    keys?.delete(key);
    if (keys?.size === 0) keysOfLease.delete(lease);
  };
  const add = (key: string, lease: string) => {
    remove(key);
    const name = parseInstanceKey(prefix, key);
    if (!name || lease === "0") return;
    leaseOfKey.set(key, lease);
    let keys = keysOfLease.get(lease);
    if (!keys) keysOfLease.set(lease, (keys = new Map()));
    keys.set(key, { namespace: name.namespace, service: name.service });
  };
  const reload = () => {
    leaseOfKey.clear();
    keysOfLease.clear();
    for (const kv of cache.list(root)) add(kv.key, kv.lease);
  };

  const unsubscribe = cache.subscribe((update) => {
    if (update.type === "reset") return reload();
    if (update.type !== "batch") return;
    for (const event of update.batch.events) {
      if (event.type === "put") {
        if (event.kv.key.startsWith(root)) add(event.kv.key, event.kv.lease);
      } else if (event.key.startsWith(root)) remove(event.key);
    }
  });
  reload();

  return {
    get: (leaseId) => [...(keysOfLease.get(leaseId)?.values() ?? [])],
    close: unsubscribe,
  };
}
