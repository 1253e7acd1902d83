import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { ReportHealthRequest } from "../../generated/switchboard/health/v1/health.js";
import type { KeySpaceCache } from "../cache/index.js";
import { LeaseExpiredError, NotFoundError } from "../errors.js";
import type { InstanceName } from "../registry/index.js";
import type { KeyValue, Store } from "../store/index.js";
import { fromStoreError } from "../store-errors.js";
import type { SelfReportInput } from "./health-input.js";
import type { SelfReport } from "./instance-monitor.js";
import { instancePath, reportKey, reportsPrefix } from "./keys.js";

/**
 * Self-reports received by a replica that does not run the instance's checks
 * travel to the owner through health-reports/{ns}/{svc}/{id} (one write, on
 * the instance's lease so it goes with the instance); the owner picks them up
 * from its cache (`relayed`) and, when it adopts an instance later, from the
 * last one stored (`stored`).
 */
export interface SelfReportRelay {
  /** Writes the report for the owner; NotFoundError when the instance's lease is gone. */
  relay(report: SelfReportInput, leaseId: string): Promise<void>;
  /** The last relayed report of an instance, if any. */
  stored(name: InstanceName): SelfReport | undefined;
  /** The instance and report of a relay key written in a cache batch, or undefined for any other key. */
  relayed(kv: KeyValue): { name: InstanceName; path: string; report: SelfReport } | undefined;
}

export function createSelfReportRelay(options: { store: Store; cache: KeySpaceCache; prefix: string }): SelfReportRelay {
  const { store, cache, prefix } = options;
  const root = reportsPrefix(prefix);
  return {
    async relay(report, leaseId) {
      const { namespace, service, instanceId } = report;
      const lease = leaseId && leaseId !== "0" ? leaseId : undefined;
      const value = ReportHealthRequest.encode({
        namespace,
        service,
        instanceId,
        status: report.status,
        output: report.output,
        ttlMs: report.ttlMs,
      }).finish();
      try {
        await store.txn({ ops: [{ type: "put", key: reportKey(prefix, namespace, service, instanceId), value, lease }] });
      } catch (caught) {
        const error = fromStoreError(caught);
        if (error instanceof LeaseExpiredError)
          throw new NotFoundError(`instance ${namespace}/${service}/${instanceId} not found`);
        throw error;
      }
    },
    stored(name) {
      const kv = cache.get(reportKey(prefix, name.namespace, name.service, name.instanceId));
      return kv === undefined ? undefined : decodeReport(kv);
    },
    relayed(kv) {
      const path = instancePath(root, kv.key);
      if (path === undefined) return undefined;
      const report = decodeReport(kv);
      if (report === undefined) return undefined;
      const [namespace, service, instanceId] = path.split("/") as [string, string, string];
      return { name: { namespace, service, instanceId }, path, report };
    },
  };
}

function decodeReport(kv: KeyValue): SelfReport | undefined {
  let request: ReportHealthRequest;
  try {
    request = ReportHealthRequest.decode(kv.value);
  } catch {
    return undefined;
  }
  return {
    status:
      request.status === HealthStatus.HEALTH_STATUS_HEALTHY
        ? HealthStatus.HEALTH_STATUS_HEALTHY
        : HealthStatus.HEALTH_STATUS_UNHEALTHY,
    output: request.output,
    ttlMs: request.ttlMs,
  };
}
