import type { ListReplicasResponse } from "../../generated/switchboard/health/v1/health.js";
import type { KeySpaceCache } from "../cache/index.js";
import { listReplicaRecords } from "../health/index.js";
import type { HealthReport } from "./store-health.js";

export interface ListReplicasOptions {
  cache: KeySpaceCache;
  /** Root key prefix, ending with "/". */
  prefix: string;
  replicaId: string;
  /** This replica's store health (the monitor behind /healthz). */
  report: () => HealthReport;
}

/**
 * HealthService.ListReplicas: the replicas the cache shows under replicas/
 * (the same set check ownership is shared among) and this replica's view of
 * the store, the one /healthz gives, so the dashboard needs no second source.
 */
export function createListReplicas(options: ListReplicasOptions): () => Promise<ListReplicasResponse> {
  return async () => {
    const report = options.report();
    const parsed = (iso: string | undefined) => {
      const date = iso ? new Date(iso) : undefined;
      return date && !Number.isNaN(date.getTime()) ? date : undefined;
    };
    return {
      replicas: listReplicaRecords(options.cache, options.prefix).map((r) => ({
        replicaId: r.replicaId,
        startedAt: parsed(r.startedAt),
      })),
      answeredBy: options.replicaId,
      store: {
        backend: report.store.backend,
        reachable: report.store.reachable,
        checkedAt: parsed(report.store.checkedAt),
        error: report.store.error ?? "",
        cacheReady: report.cacheReady,
        serving: report.status === "SERVING",
      },
      revision: String(options.cache.revision),
    };
  };
}
