import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { type Instance, InstanceState } from "../../generated/switchboard/registry/v1/registry.js";

/** A complete Instance as the registry stores it: default/orders/a, UP, no health verdict, weight 100, TTL 10 s; override any field. */
export function testInstance(partial: Partial<Instance> = {}): Instance {
  return {
    namespace: "default",
    service: "orders",
    instanceId: "a",
    address: "127.0.0.1",
    port: 8000,
    metadata: {},
    tags: [],
    zone: "",
    weight: 100,
    state: InstanceState.INSTANCE_STATE_UP,
    healthStatus: HealthStatus.HEALTH_STATUS_UNSPECIFIED,
    healthChecks: [],
    registeredAt: undefined,
    revision: "0",
    leaseId: "0",
    ttlSeconds: 10,
    owner: "",
    heldUntil: undefined,
    ...partial,
  };
}
