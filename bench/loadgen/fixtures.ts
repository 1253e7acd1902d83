import { Instance, InstanceState } from "../../generated/switchboard/registry/v1/registry.js";

export const NAMESPACE = "bench";

/** A realistic instance: what a service built with the SDK would register. */
export function sampleInstance(service: string, instanceId: string, i = 0): Instance {
  return Instance.fromPartial({
    namespace: NAMESPACE,
    service,
    instanceId,
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 8080,
    metadata: { version: "1.4.2", team: "payments" },
    tags: ["grpc", "http"],
    zone: "zone-a",
    weight: 100,
    state: InstanceState.INSTANCE_STATE_UP,
    owner: "bench-owner-0000000000000000",
  });
}

/** Bytes the raw-etcd baseline stores per instance: the same protobuf Switchboard stores. */
export function sampleInstanceBytes(service: string, instanceId: string, i = 0): Uint8Array {
  const instance = sampleInstance(service, instanceId, i);
  // Output-only fields Switchboard fills in, so the stored size matches.
  instance.registeredAt = new Date();
  instance.leaseId = "7587862173453210000";
  instance.ttlSeconds = 10;
  instance.revision = "123456";
  return Instance.encode(instance).finish();
}

/** The key layout of the store (DESIGN.md): instances/{namespace}/{service}/{instance_id}. */
export function instanceKey(service: string, instanceId: string): string {
  return `/switchboard/instances/${NAMESPACE}/${service}/${instanceId}`;
}
