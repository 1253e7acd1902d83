import type { Logger } from "pino";
import { createEmbeddedStore } from "./embedded-store.js";
import type { EmbeddedStoreOptions } from "./embedded-store.js";
import { createEtcdStore } from "./etcd-store.js";
import type { EtcdStoreOptions } from "./etcd-store.js";
import type { Store } from "./types.js";

export interface StoreOptions {
  /** etcd client URLs; when given (non-empty) the etcd store is used. Default: none (embedded store). */
  endpoints?: string[];
  /** Embedded store data directory. Default: none (memory only). Ignored with endpoints. */
  dataDir?: string;
  /** Default: a silent logger. */
  logger?: Logger;
  /** Further options of the etcd backend. */
  etcd?: Omit<EtcdStoreOptions, "endpoints" | "logger">;
  /** Further options of the embedded backend. */
  embedded?: Omit<EmbeddedStoreOptions, "dataDir" | "logger">;
}

/** The etcd store when endpoints are given, else the embedded store. */
export async function createStore(options: StoreOptions = {}): Promise<Store> {
  const { endpoints, dataDir, logger } = options;
  if (endpoints && endpoints.length > 0) {
    return createEtcdStore({ ...options.etcd, endpoints, ...(logger && { logger }) });
  }
  return createEmbeddedStore({
    ...options.embedded,
    ...(dataDir !== undefined && { dataDir }),
    ...(logger && { logger }),
  });
}
