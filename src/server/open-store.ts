import type { Logger } from "pino";
import { createStore } from "../store/index.js";
import type { Store } from "../store/index.js";
import { etcdStoreSecurity } from "./etcd-security.js";
import type { EtcdSecurityOptions } from "./etcd-security.js";

export interface OpenStoreOptions {
  /** Non-empty: etcd; undefined: the embedded store in dataDir. */
  etcdEndpoints: string[] | undefined;
  dataDir: string;
  logger: Logger;
  /** The root key prefix: the store's health ping reads it, so an etcd user limited to the prefix may ping. */
  prefix: string;
  /** TLS and user/password for etcd. Default none. */
  etcdSecurity?: EtcdSecurityOptions;
}

/** Builds the store backend the server runs on: etcd when endpoints are given, else the embedded store. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  return options.etcdEndpoints
    ? createStore({
        endpoints: options.etcdEndpoints,
        logger: options.logger,
        etcd: { ...(await etcdStoreSecurity(options.etcdSecurity ?? {})), pingKey: options.prefix },
      })
    : createStore({ dataDir: options.dataDir, logger: options.logger });
}
