/**
 * Store key layout of the registry, under the root prefix:
 *
 *   {prefix}instances/{namespace}/{service}/{instance_id}  → Instance protobuf bytes, on the instance lease
 *   {prefix}deregistered                                   → the instance key a Deregister deleted, written in
 *                                                            the same transaction (one key, overwritten each time)
 *
 * Names are DNS-1123 labels, so they never contain "/" and a key splits back
 * into exactly three parts.
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
  const root = instancesPrefix(prefix);
  if (!key.startsWith(root)) return undefined;
  const parts = key.slice(root.length).split("/");
  if (parts.length !== 3) return undefined;
  const [namespace, service, instanceId] = parts as [string, string, string];
  if (namespace === "" || service === "" || instanceId === "") return undefined;
  return { namespace, service, instanceId };
}
