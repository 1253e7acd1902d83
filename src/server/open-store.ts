import type { Logger } from "pino";
import { createEmbeddedStore } from "../store/index.js";
import type { Store } from "../store/index.js";

export interface OpenStoreOptions {
  /** Non-empty: etcd; undefined: the embedded store in dataDir. */
  etcdEndpoints: string[] | undefined;
  dataDir: string;
  logger: Logger;
}

/**
 * Builds the store backend the server runs on.
 * Interim wiring until src/store exports its createStore factory (etcd backend).
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  if (options.etcdEndpoints) {
    throw new Error("the etcd store backend is not available in this build yet; omit --etcd-endpoints to use the embedded store");
  }
  return createEmbeddedStore({ dataDir: options.dataDir, logger: options.logger });
}
