export {
  createConfigManager,
  describeScope,
  DEFAULT_CONFIG_WATCH_QUEUE_LIMIT,
  DEFAULT_HISTORY_LIMIT,
  DEFAULT_MAX_IMPORT_BYTES,
  DEFAULT_MAX_TXN_OPS,
} from "./config-manager.js";
export type { ConfigManager, ConfigManagerOptions, ReadOptions } from "./config-manager.js";
export { CONTENT_TYPES, LAYERS } from "./types.js";
export type {
  ConfigValue,
  ConfigVersion,
  ConfigViewUpdate,
  ContentType,
  DeleteValueInput,
  ImportEntryInput,
  ImportResult,
  ImportValuesInput,
  Layer,
  PutValueInput,
  ResolvedEntry,
  ResolvedView,
  Scope,
  ViewSelector,
} from "./types.js";
export { changedKeys, layersFor, resolveLayers } from "./resolve.js";
export type { LayerSource, StoredEntry } from "./resolve.js";
export {
  MAX_KEY_LENGTH,
  MAX_VALUE_BYTES,
  normalizeContentType,
  normalizeScope,
  validateKey,
  validateValue,
} from "./validation.js";
