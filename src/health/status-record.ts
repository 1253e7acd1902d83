import type { Logger } from "pino";
import { InstanceHealth } from "../../generated/switchboard/health/v1/health.js";
import type { KeySpaceCache } from "../cache/index.js";
import { healthStatusKey } from "../registry/index.js";
import type { InstanceName } from "../registry/index.js";
import type { KeyValue } from "../store/index.js";

/** Health's own record of an instance as the cache holds it. */
export interface StoredStatus {
  health: InstanceHealth;
  kv: KeyValue;
}

/**
 * Reads health/{ns}/{svc}/{id}, the status record only src/health writes
 * (transitions.ts) and the registry view joins into the instance
 * (registry/health-join.ts). Undecodable values are logged and ignored.
 */
export function createStatusReader(cache: KeySpaceCache, prefix: string, log: Logger) {
  return (name: InstanceName): StoredStatus | undefined => {
    const kv = cache.get(healthStatusKey(prefix, name.namespace, name.service, name.instanceId));
    if (!kv) return undefined;
    try {
      return { health: InstanceHealth.decode(kv.value), kv };
    } catch (error) {
      log.warn({ err: error, key: kv.key }, "undecodable health record ignored");
      return undefined;
    }
  };
}

export type StatusReader = ReturnType<typeof createStatusReader>;
