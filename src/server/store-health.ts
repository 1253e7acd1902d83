import type { HealthState } from "nice-grpc-server-health";
import type { Logger } from "pino";
import type { Store } from "../store/index.js";

export type ServingStatus = "SERVING" | "NOT_SERVING";

/** What GET /healthz reports. */
export interface HealthReport {
  status: ServingStatus;
  store: {
    /** "etcd" or "embedded". */
    backend: string;
    reachable: boolean;
    /** ISO time of the last ping, undefined before the first one. */
    checkedAt?: string;
    /** Why the last ping failed. */
    error?: string;
  };
  /** The key-space cache has loaded its first snapshot. */
  cacheReady: boolean;
  shuttingDown: boolean;
  replicaId: string;
}

export interface StoreHealthMonitorOptions {
  store: Store;
  backend: string;
  replicaId: string;
  /** Flipped for "" (the whole server) and for each name in serviceNames. */
  healthState: HealthState;
  serviceNames: readonly string[];
  logger: Logger;
  /** Time between pings. Default 1,000 ms. */
  intervalMs?: number;
  /** A ping slower than this counts as a failure. Default 2,000 ms. */
  timeoutMs?: number;
  /** Called after every failed ping (e.g. to start the registry's expiry hold). */
  onUnreachable?: () => void;
}

export interface StoreHealthMonitor {
  readonly status: ServingStatus;
  report(): HealthReport;
  /** Pings once now and updates the status. */
  check(): Promise<void>;
  /** Counts towards SERVING from now on. */
  markCacheReady(): void;
  /** NOT_SERVING from now on, whatever the store says. */
  markShuttingDown(): void;
  close(): void;
}

/**
 * SERVING only while the store answers pings, the cache has loaded and the
 * server is not shutting down; grpc.health.v1 and /healthz both read it.
 */
export function createStoreHealthMonitor(options: StoreHealthMonitorOptions): StoreHealthMonitor {
  const { store, healthState, logger } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const lifetime = new AbortController();
  let reachable = false;
  let checkedAt: Date | undefined;
  let lastError: string | undefined;
  let cacheReady = false;
  let shuttingDown = false;
  let status: ServingStatus = "NOT_SERVING";
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  function update(): void {
    const next: ServingStatus = reachable && cacheReady && !shuttingDown ? "SERVING" : "NOT_SERVING";
    if (next === status) return;
    status = next;
    const value = next === "SERVING" ? "healthy" : "unhealthy";
    healthState.setStatus(value);
    for (const name of options.serviceNames) healthState.setStatus(value, name);
    const fields = { status: next, storeReachable: reachable, cacheReady, shuttingDown, error: lastError };
    if (next === "SERVING") logger.info(fields, "health: serving");
    else logger.warn(fields, "health: not serving");
  }

  async function ping(): Promise<void> {
    try {
      await store.ping(AbortSignal.any([lifetime.signal, AbortSignal.timeout(timeoutMs)]));
      reachable = true;
      lastError = undefined;
    } catch (error) {
      if (lifetime.signal.aborted) return;
      reachable = false;
      lastError = error instanceof Error ? error.message : String(error);
      options.onUnreachable?.();
    }
    checkedAt = new Date();
    update();
  }

  function check(): Promise<void> {
    inFlight ??= ping().finally(() => (inFlight = undefined));
    return inFlight;
  }

  function schedule(): void {
    if (lifetime.signal.aborted) return;
    timer = setTimeout(() => void check().then(schedule), intervalMs);
    timer.unref();
  }

  healthState.setStatus("unhealthy");
  for (const name of options.serviceNames) healthState.setStatus("unhealthy", name);
  schedule();

  return {
    get status() {
      return status;
    },
    report: () => ({
      status,
      store: {
        backend: options.backend,
        reachable,
        ...(checkedAt && { checkedAt: checkedAt.toISOString() }),
        ...(lastError !== undefined && { error: lastError }),
      },
      cacheReady,
      shuttingDown,
      replicaId: options.replicaId,
    }),
    check,
    markCacheReady() {
      cacheReady = true;
      update();
    },
    markShuttingDown() {
      shuttingDown = true;
      update();
    },
    close() {
      lifetime.abort();
      clearTimeout(timer);
    },
  };
}
