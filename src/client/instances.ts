import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { InstanceState } from "../../generated/switchboard/registry/v1/registry.js";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";

/** Namespace used when none is given, as on the server. */
export const DEFAULT_NAMESPACE = "default";

/** Identity of an instance across messages: namespace/service/instance_id. */
export function instanceKey(instance: Pick<Instance, "namespace" | "service" | "instanceId">): string {
  return `${instance.namespace || DEFAULT_NAMESPACE}/${instance.service}/${instance.instanceId}`;
}

/**
 * Whether the instance should get new calls: state UP (or unspecified) and
 * not UNHEALTHY — the same rule the server applies to default lists and watches.
 */
export function isRoutable(instance: Pick<Instance, "state" | "healthStatus">): boolean {
  const up = instance.state === InstanceState.INSTANCE_STATE_UP || instance.state === InstanceState.INSTANCE_STATE_UNSPECIFIED;
  return up && instance.healthStatus !== HealthStatus.HEALTH_STATUS_UNHEALTHY;
}

/** Revisions are int64 strings on the wire and numbers in TypeScript. */
export function toRevision(value: string | number | undefined): number {
  const revision = Number(value ?? 0);
  return Number.isFinite(revision) ? revision : 0;
}

/** Orders instances by id so lists compare and print stably. */
export function sortInstances(instances: Iterable<Instance>): Instance[] {
  return [...instances].sort((a, b) => (instanceKey(a) < instanceKey(b) ? -1 : instanceKey(a) > instanceKey(b) ? 1 : 0));
}
