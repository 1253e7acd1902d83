import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { KeySpaceCache } from "../cache/index.js";
import type { Store } from "../store/index.js";

/** What every service implementation gets from the composition root (src/server/server.ts). */
export interface ServiceDeps {
  store: Store;
  /** Mirror of everything under prefix; serve reads and watch streams from it. */
  cache: KeySpaceCache;
  /** Root key prefix, ending with "/" (default "/switchboard/"). */
  prefix: string;
  /** Unique id of this control-plane replica. */
  replicaId: string;
  logger: Logger;
  /** Register metrics here; served on GET /metrics. */
  metrics: Registry;
  /**
   * Aborted when the server shuts down. Handlers need not watch it for their
   * calls: the call middleware already aborts each call's context.signal then.
   */
  shutdownSignal: AbortSignal;
}
