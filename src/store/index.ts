export { createEmbeddedStore, MIN_LEASE_TTL_SECONDS } from "./embedded-store.js";
export type { Clock, EmbeddedStoreOptions } from "./embedded-store.js";
export { CompactedError, LeaseNotFoundError, StoreError, StoreUnavailableError } from "./errors.js";
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
