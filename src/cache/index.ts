export { createKeySpaceCache } from "./key-space-cache.js";
export type { KeySpaceCacheOptions } from "./key-space-cache.js";
export type { CacheUpdate, KeySpaceCache } from "./types.js";
export { HistoryWindow } from "./history.js";
