export { createStore } from "./create-store.js";
export type { StoreOptions } from "./create-store.js";
export { createEtcdStore } from "./etcd-store.js";
export type { EtcdStoreOptions, EtcdTlsMaterial } from "./etcd-store.js";
export { createEmbeddedStore } from "./embedded-store.js";
export type { Clock, EmbeddedStoreOptions } from "./embedded-store.js";
export { MIN_LEASE_TTL_SECONDS } from "./lease-ttl.js";
export { CompactedError, DataDirLockedError, LeaseNotFoundError, StoreError, StoreUnavailableError } from "./errors.js";
export type {
  Compare,
  KeyValue,
  Lease,
  ListResult,
  Operation,
  Store,
  StoreEvent,
  TxnRequest,
  TxnResult,
  WatchBatch,
} from "./types.js";
