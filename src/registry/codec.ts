import { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import type { KeyValue } from "../store/index.js";
import type { InstanceName } from "./keys.js";

/**
 * Instances are stored as Instance protobuf bytes. The stored copy leaves
 * revision empty (it is only known after the write); decoding fills revision
 * and lease_id from the key's store metadata, and the names from the key,
 * which are authoritative.
 */
export function encodeInstance(instance: Instance): Uint8Array {
  return Instance.encode({ ...instance, revision: "0" }).finish();
}

/** Throws when the bytes are not an Instance. */
export function decodeInstance(kv: KeyValue, name: InstanceName): Instance {
  const instance = Instance.decode(kv.value);
  instance.namespace = name.namespace;
  instance.service = name.service;
  instance.instanceId = name.instanceId;
  instance.revision = String(kv.modRevision);
  instance.leaseId = kv.lease;
  return instance;
}
