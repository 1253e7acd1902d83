/**
 * Store keys of the health subsystem, under the root prefix:
 *
 *   {prefix}health/{namespace}/{service}/{instance_id}          → InstanceHealth protobuf: the instance's status
 *                                                                and the check results at its last transition;
 *                                                                on the instance lease. The only per-instance
 *                                                                status key health writes (never instances/)
 *   {prefix}health-reports/{namespace}/{service}/{instance_id}  → ReportHealthRequest protobuf: a self-report
 *                                                                received by a replica that does not own the
 *                                                                instance, relayed to the owner; on the instance lease
 *   {prefix}replicas/{replica_id}                               → ReplicaRecord JSON, on the replica's own lease
 */

// The status record's layout is the registry's (registry/keys.ts): it joins the record into the instance.
export { healthStatusKey as healthKey } from "../registry/index.js";

export function reportKey(prefix: string, namespace: string, service: string, instanceId: string): string {
  return `${prefix}health-reports/${namespace}/${service}/${instanceId}`;
}

export function reportsPrefix(prefix: string): string {
  return `${prefix}health-reports/`;
}

export function replicasPrefix(prefix: string): string {
  return `${prefix}replicas/`;
}

export function replicaKey(prefix: string, replicaId: string): string {
  return `${prefix}replicas/${replicaId}`;
}

/** "{namespace}/{service}/{instance_id}" of a key under one of the per-instance prefixes, or undefined. */
export function instancePath(keyPrefix: string, key: string): string | undefined {
  if (!key.startsWith(keyPrefix)) return undefined;
  const rest = key.slice(keyPrefix.length);
  const parts = rest.split("/");
  return parts.length === 3 && parts.every((p) => p !== "") ? rest : undefined;
}
