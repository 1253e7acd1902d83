import { InstanceHealth } from "../../generated/switchboard/health/v1/health.js";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import type { KeyValue } from "../store/index.js";

/**
 * The join of an instance with its health status record.
 *
 * src/health owns health/{ns}/{svc}/{id} (keys.ts) and never writes the
 * instance record; the registry never writes health's record. What readers
 * see (ListInstances, Watch, routability, protection) is the instance with
 * the status joined in:
 *
 * - A status record on the instance's own lease decides health_status, and
 *   the instance's revision is the later of the two records' revisions (a
 *   health transition is a change of the instance, as before the split).
 * - A status record on another lease belongs to an earlier registration of
 *   the same name (it goes when that lease is revoked): ignored, so
 *   re-registering starts from UNSPECIFIED as it always did.
 * - Without a status record, the health_status inside the instance record
 *   stands: UNSPECIFIED for records this version writes, the last status for
 *   records written by versions that kept health inside the instance record.
 *
 * Mutates and returns `instance` (a freshly decoded copy owned by the caller).
 */
export function joinHealthStatus(instance: Instance, status: KeyValue | undefined): Instance {
  if (status === undefined || status.lease !== instance.leaseId) return instance;
  let health: InstanceHealth;
  try {
    health = InstanceHealth.decode(status.value);
  } catch {
    // Garbage in health's key must not hide the instance; the record's own status stands.
    return instance;
  }
  instance.healthStatus = health.status;
  if (status.modRevision > Number(instance.revision)) instance.revision = String(status.modRevision);
  return instance;
}
