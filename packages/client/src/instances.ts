import type { Instance } from "../../../generated/switchboard/registry/v1/registry.js";
import { DEFAULT_NAMESPACE } from "../../../src/contract.js";

/** Namespace used when none is given, as on the server. */
export { DEFAULT_NAMESPACE };

/** Identity of an instance across messages: namespace/service/instance_id. */
export function instanceKey(instance: Pick<Instance, "namespace" | "service" | "instanceId">): string {
  return `${instance.namespace || DEFAULT_NAMESPACE}/${instance.service}/${instance.instanceId}`;
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
