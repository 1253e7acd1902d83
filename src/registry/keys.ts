/**
 * Store key layout of an instance, under the root prefix:
 *
 *   {prefix}instances/{namespace}/{service}/{instance_id}  → Instance protobuf bytes, on the instance lease.
 *                                                            Written only by src/registry (Register, Update,
 *                                                            Deregister).
 *   {prefix}health/{namespace}/{service}/{instance_id}     → InstanceHealth protobuf: the instance's health
 *                                                            status (and the check results at its last
 *                                                            transition), on the instance lease. Written only
 *                                                            by src/health; the status subresource the
 *                                                            registry view joins (health-join.ts).
 *   {prefix}deregistered                                   → the instance key a Deregister deleted, written in
 *                                                            the same transaction (one key, overwritten each time)
 *
 * One writer per key: the registry never compares-and-sets health's key and
 * health never writes under instances/. Names are DNS-1123 labels, so they
 * never contain "/" and a key splits back into exactly three parts.
 */

/** Prefix of every instance key. */
export function instancesPrefix(prefix: string): string {
  return `${prefix}instances/`;
}

export function instanceKey(prefix: string, namespace: string, service: string, instanceId: string): string {
  return `${prefix}instances/${namespace}/${service}/${instanceId}`;
}

/**
 * Written in the same transaction as every Deregister's delete, naming the
 * deleted key: in the watch, deletions at a revision that also carries this
 * key are explicit, not lease expiries, so the expiry hold neither holds nor
 * counts them. One key for all replicas: a revision carries one transaction.
 */
export function deregisteredMarkerKey(prefix: string): string {
  return `${prefix}deregistered`;
}

export interface InstanceName {
  namespace: string;
  service: string;
  instanceId: string;
}

/** The names in an instance key, or undefined when key is not an instance key under prefix. */
export function parseInstanceKey(prefix: string, key: string): InstanceName | undefined {
  return parseNames(instancesPrefix(prefix), key);
}

function parseNames(root: string, key: string): InstanceName | undefined {
  if (!key.startsWith(root)) return undefined;
  const parts = key.slice(root.length).split("/");
  if (parts.length !== 3) return undefined;
  const [namespace, service, instanceId] = parts as [string, string, string];
  if (namespace === "" || service === "" || instanceId === "") return undefined;
  return { namespace, service, instanceId };
}

/** Prefix of every health status key. */
export function healthStatusPrefix(prefix: string): string {
  return `${prefix}health/`;
}

/** The key of an instance's health status (written by src/health, joined by the registry view). */
export function healthStatusKey(prefix: string, namespace: string, service: string, instanceId: string): string {
  return `${prefix}health/${namespace}/${service}/${instanceId}`;
}

/** The names in a health status key, or undefined when key is not one under prefix. */
export function parseHealthStatusKey(prefix: string, key: string): InstanceName | undefined {
  return parseNames(healthStatusPrefix(prefix), key);
}
