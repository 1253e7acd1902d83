import type { Logger } from "pino";
import type { KeySpaceCache } from "../cache/index.js";
import { ConflictError, InvalidArgumentError, NotFoundError, UnavailableError } from "../errors.js";
import type { KeyValue, Operation, Store } from "../store/index.js";
import { createConfigLayout, decodeRecord, encodeRecord, historyRevision, toConfigValue, toConfigVersion } from "./layout.js";
import type { HistoryRecord, ValueRecord } from "./layout.js";
import { compareKeys, layersFor, resolveLayers } from "./resolve.js";
import type { StoredEntry } from "./resolve.js";
import type {
  ConfigValue,
  ConfigVersion,
  ConfigViewUpdate,
  DeleteValueInput,
  ImportResult,
  ImportValuesInput,
  PutValueInput,
  ResolvedView,
  Scope,
  ViewSelector,
} from "./types.js";
import {
  MAX_VALUE_BYTES,
  normalizeContentType,
  normalizeScope,
  validateAuthor,
  validateExpectedRevision,
  validateKey,
  validateValue,
} from "./validation.js";
import { createConfigWatchHub } from "./watch.js";

export interface ConfigManagerOptions {
  store: Store;
  /** Mirror of the root prefix; every read and watch is served from it. */
  cache: KeySpaceCache;
  /** Root key prefix, ending with "/". */
  prefix: string;
  logger: Logger;
  /** Clock for updated_at. Default `() => new Date()`. */
  now?: () => Date;
  /** Versions kept per key in config-history (puts and deletes). Default 100. */
  historyLimit?: number;
  /**
   * Most operations (and comparisons) one store transaction may carry: etcd's
   * --max-txn-ops, default 128. Each changed key costs two (value + history),
   * so one import changes at most maxTxnOps / 2 keys. Default 128.
   */
  maxTxnOps?: number;
  /**
   * Most bytes of changed values one import may write. Each value is written
   * twice (value + history record) and etcd's default --max-request-bytes is
   * 1.5 MiB. Default 640 KiB.
   */
  maxImportBytes?: number;
  /** Bookmark on a watch stream idle this long. Default 10,000 ms. */
  bookmarkIntervalMs?: number;
  /** Views a watch stream may have queued before it is ended with RESOURCE_EXHAUSTED. Default 256. */
  watchQueueLimit?: number;
  /** How long a write waits for this replica's cache to show it (read-your-writes) before answering anyway. Default 5,000 ms. */
  settleTimeoutMs?: number;
  /** Attempts of a write whose cache-based preparation raced another writer. Default 10. */
  maxWriteAttempts?: number;
  /**
   * Seals (encrypts) a secret value before it reaches the store; values stay
   * sealed in every result (src/server opens them for allowed callers).
   * Default none: writes marked secret are rejected.
   */
  sealSecret?: (plaintext: string) => string;
}

/**
 * Layered, versioned configuration on the Store, read from the KeySpaceCache.
 *
 *   const config = createConfigManager({ store, cache, prefix: "/switchboard/", logger });
 *   await config.putValue({ scope: { namespace: "shop" }, key: "db.pool-size", value: "10" });
 *   const view = await config.getConfig({ namespace: "shop", service: "orders", profile: "prod" });
 *
 * Throws only the domain errors of src/errors.ts (and store errors, which the
 * server maps the same way): bad input → InvalidArgumentError naming the
 * request field, with nothing written; compare-and-set mismatch →
 * ConflictError with the current revision.
 */
export interface ConfigManager {
  getConfig(selector: Partial<ViewSelector>, read?: ReadOptions): Promise<ResolvedView>;
  getValue(scope: Partial<Scope> | undefined, key: string, read?: ReadOptions): Promise<ConfigValue>;
  listValues(scope: Partial<Scope> | undefined, read?: ReadOptions): Promise<{ values: ConfigValue[]; revision: number }>;
  putValue(input: PutValueInput): Promise<{ value: ConfigValue; revision: number }>;
  deleteValue(input: DeleteValueInput): Promise<{ revision: number }>;
  importValues(input: ImportValuesInput): Promise<ImportResult>;
  /** Newest first; limit 0 means 50, at most 1000. */
  getHistory(scope: Partial<Scope> | undefined, key: string, limit?: number, read?: ReadOptions): Promise<ConfigVersion[]>;
  /** See ConfigService.WatchConfig in the proto; throws an AbortError when signal aborts. */
  watchConfig(selector: Partial<ViewSelector>, sinceRevision: number, signal: AbortSignal): AsyncGenerator<ConfigViewUpdate>;
  /**
   * Re-seals current secret values: reseal answers the new sealed form,
   * undefined when a value is already sealed with the current key, or null
   * when it cannot be opened (counted as skipped). Each
   * chunk is compared on the keys' revisions; values that changed meanwhile
   * are skipped (counted), never overwritten. History records are re-sealed
   * too, each keeping the revision of the write it records.
   */
  resealSecrets(
    reseal: (sealed: string) => string | undefined | null,
  ): Promise<{ resealed: number; skipped: number; revision: number }>;
}

/** Options of every read. */
export interface ReadOptions {
  /**
   * Read-your-writes across replicas: answer only once this replica's cache
   * has reached this revision (e.g. one a write answered on another replica).
   * Default 0: whatever the cache holds once loaded.
   */
  minRevision?: number;
}

export const DEFAULT_HISTORY_LIMIT = 100;
/** Default of ConfigManagerOptions.maxTxnOps (etcd's default --max-txn-ops). */
export const DEFAULT_MAX_TXN_OPS = 128;
/** Default of ConfigManagerOptions.maxImportBytes: 640 KiB. */
export const DEFAULT_MAX_IMPORT_BYTES = 640 * 1024;
/** Default of ConfigManagerOptions.watchQueueLimit, in views. */
export const DEFAULT_CONFIG_WATCH_QUEUE_LIMIT = 256;
const DEFAULT_HISTORY_PAGE = 50;
const MAX_HISTORY_PAGE = 1000;

export function createConfigManager(options: ConfigManagerOptions): ConfigManager {
  const { store, cache } = options;
  const log = options.logger.child({ component: "config" });
  const now = options.now ?? (() => new Date());
  const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const maxTxnOps = options.maxTxnOps ?? DEFAULT_MAX_TXN_OPS;
  const maxImportBytes = options.maxImportBytes ?? DEFAULT_MAX_IMPORT_BYTES;
  const settleTimeoutMs = options.settleTimeoutMs ?? 5_000;
  const maxWriteAttempts = options.maxWriteAttempts ?? 10;
  const layout = createConfigLayout(options.prefix);
  // One cache subscription (while streams are open) and one resolve per selector for all watch streams.
  const watchHub = createConfigWatchHub({
    cache,
    layout,
    historyLimit,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 10_000,
    queueLimit: options.watchQueueLimit ?? DEFAULT_CONFIG_WATCH_QUEUE_LIMIT,
  });

  /** The cache has loaded and reached minRevision (or UNAVAILABLE after its wait timeout). */
  const ready = (read: ReadOptions = {}) => cache.waitForRevision(read.minRevision ?? 0);

  /** Read-your-writes on this replica: answer once the cache shows the write. */
  async function settle(revision: number): Promise<void> {
    try {
      await cache.waitForRevision(revision, { timeoutMs: settleTimeoutMs });
    } catch (error) {
      log.warn({ err: error, revision }, "write committed but this replica's cache has not caught up yet");
    }
  }

  /** Waits (briefly) for the cache to reach a revision a failed transaction reported, before retrying. */
  async function catchUp(revision: number): Promise<void> {
    await cache.waitForRevision(revision, { timeoutMs: settleTimeoutMs }).catch(() => undefined);
  }

  /** History entries of a key in the cache, oldest first. */
  function historyOf(scope: Scope, key: string): KeyValue[] {
    return cache
      .list(layout.historyPrefix(scope, key))
      .map((kv) => ({ kv, revision: historyRevision(kv) }))
      .sort((a, b) => a.revision - b.revision)
      .map(({ kv }) => kv);
  }

  /** Deletes of the oldest history entries so that, after `adding` more, at most historyLimit remain. */
  function pruneOps(scope: Scope, key: string, adding: number): Operation[] {
    const history = historyOf(scope, key);
    const excess = history.length + adding - historyLimit;
    return excess > 0 ? history.slice(0, excess).map((kv) => ({ type: "delete", key: kv.key })) : [];
  }

  function historyPut(scope: Scope, key: string, record: HistoryRecord): Operation {
    return { type: "put", key: layout.newHistoryKey(scope, key, new Date(record.updatedAt)), value: encodeRecord(record) };
  }

  function conflict(scope: Scope, key: string, expected: number, current: number): ConflictError {
    return new ConflictError(
      `key "${key}" in ${describeScope(scope)}: expected revision ${expected}, current revision ${current}`,
      current,
    );
  }

  /**
   * One put or delete of one key with its history record, in one transaction
   * compared on the key's revision: the caller's expected revision (CAS), or
   * the cache's view of it (retried when the cache was behind).
   */
  async function writeOne(
    scope: Scope,
    key: string,
    expected: number | undefined,
    record: HistoryRecord,
  ): Promise<{ revision: number; previous: KeyValue | undefined }> {
    const valueKey = layout.valueKey(scope, key);
    for (let attempt = 1; ; attempt++) {
      const current = cache.get(valueKey);
      if (record.deleted && current === undefined && (expected === undefined || expected === 0)) {
        throw new NotFoundError(`key "${key}" not found in ${describeScope(scope)}`);
      }
      const compareRevision = expected ?? current?.modRevision ?? 0;
      const main: Operation = record.deleted
        ? { type: "delete", key: valueKey }
        : { type: "put", key: valueKey, value: encodeRecord(valueRecordOf(record)) };
      const result = await store.txn({
        compare: [{ key: valueKey, modRevision: compareRevision }],
        ops: [main, historyPut(scope, key, record), ...pruneOps(scope, key, 1)],
      });
      if (result.succeeded) {
        await settle(result.revision);
        return { revision: result.revision, previous: current };
      }
      const actual = result.current[0]?.modRevision ?? 0;
      if (expected !== undefined) throw conflict(scope, key, expected, actual);
      if (record.deleted && actual === 0) throw new NotFoundError(`key "${key}" not found in ${describeScope(scope)}`);
      if (attempt >= maxWriteAttempts) {
        throw new UnavailableError(`key "${key}" in ${describeScope(scope)} kept changing; gave up after ${attempt} attempts`);
      }
      await catchUp(result.revision);
    }
  }

  async function importValues(input: ImportValuesInput): Promise<ImportResult> {
    const scope = normalizeScope(input.scope, "scope.");
    const author = input.author ?? "";
    validateAuthor("author", author);
    const wanted = new Map<string, { value: string; contentType: ValueRecord["contentType"]; secret?: boolean }>();
    input.entries.forEach((entry, index) => {
      const field = `entries[${index}]`;
      validateKey(`${field}.key`, entry.key);
      if (wanted.has(entry.key)) throw new InvalidArgumentError(`${field}.key`, `duplicate key "${entry.key}"`);
      const contentType = normalizeContentType(`${field}.content_type`, entry.contentType);
      validateMaybeSecret(`${field}.value`, entry.value, contentType, entry.secret === true);
      wanted.set(
        entry.key,
        entry.secret
          ? { value: seal(`${field}.secret`, entry.value), contentType, secret: true }
          : { value: entry.value, contentType },
      );
    });
    await ready();

    for (let attempt = 1; ; attempt++) {
      const updatedAt = now().toISOString();
      const existing = new Map<string, { kv: KeyValue; record: HistoryRecord | undefined }>();
      for (const kv of cache.list(layout.scopePrefix(scope))) {
        const parsed = layout.parseValueKey(kv.key);
        if (parsed) existing.set(parsed.key, { kv, record: decodeRecord(kv.value) });
      }
      const changes: { key: string; record: HistoryRecord; current: KeyValue | undefined }[] = [];
      for (const [key, entry] of wanted) {
        const old = existing.get(key);
        // Sealed values differ on every seal: a secret is always rewritten.
        if (
          !entry.secret &&
          !old?.record?.secret &&
          old?.record?.value === entry.value &&
          old.record.contentType === entry.contentType
        )
          continue;
        changes.push({ key, record: { ...entry, author, updatedAt, deleted: false }, current: old?.kv });
      }
      if (input.replace) {
        for (const [key, old] of existing) {
          if (!wanted.has(key))
            changes.push({
              key,
              record: { value: "", contentType: "text/plain", author, updatedAt, deleted: true },
              current: old.kv,
            });
        }
      }
      const written = changes.filter((change) => !change.record.deleted).length;
      const deleted = changes.length - written;
      if (changes.length === 0) return { revision: cache.revision, written: 0, deleted: 0 };

      if (changes.length * 2 > maxTxnOps) {
        throw new InvalidArgumentError(
          "entries",
          `the import changes ${changes.length} keys; at most ${Math.floor(maxTxnOps / 2)} per import (each change writes the value and a history record in one store transaction of at most ${maxTxnOps} operations)`,
        );
      }
      const bytes = changes.reduce((sum, change) => sum + Buffer.byteLength(change.record.value, "utf8"), 0);
      if (bytes > maxImportBytes) {
        throw new InvalidArgumentError(
          "entries",
          `the import writes ${bytes} bytes of values; at most ${maxImportBytes} per import`,
        );
      }

      const ops: Operation[] = [];
      for (const change of changes) {
        const valueKey = layout.valueKey(scope, change.key);
        ops.push(
          change.record.deleted
            ? { type: "delete", key: valueKey }
            : { type: "put", key: valueKey, value: encodeRecord(valueRecordOf(change.record)) },
          historyPut(scope, change.key, change.record),
        );
      }
      const prunes = changes.flatMap((change) => pruneOps(scope, change.key, 1));
      const inline = ops.length + prunes.length <= maxTxnOps;
      const result = await store.txn({
        compare: changes.map((change) => ({
          key: layout.valueKey(scope, change.key),
          modRevision: change.current?.modRevision ?? 0,
        })),
        ops: inline ? [...ops, ...prunes] : ops,
      });
      if (result.succeeded) {
        const pruned = inline ? result.revision : await pruneLater(prunes);
        await settle(Math.max(result.revision, pruned));
        return { revision: result.revision, written, deleted };
      }
      if (attempt >= maxWriteAttempts) {
        throw new UnavailableError(`the keys of ${describeScope(scope)} kept changing; gave up after ${attempt} attempts`);
      }
      await catchUp(result.revision);
    }
  }

  /** History pruning that did not fit the import's transaction: best effort, bounded chunks. Returns the last revision written. */
  async function pruneLater(prunes: Operation[]): Promise<number> {
    let revision = 0;
    for (let start = 0; start < prunes.length; start += maxTxnOps) {
      try {
        revision = (await store.txn({ ops: prunes.slice(start, start + maxTxnOps) })).revision;
      } catch (error) {
        log.warn({ err: error }, "could not prune config history; it will be pruned on the next write of those keys");
        break;
      }
    }
    return revision;
  }

  function storedEntry(kv: KeyValue): StoredEntry | undefined {
    const record = decodeRecord(kv.value);
    return (
      record && { value: record.value, contentType: record.contentType, revision: kv.modRevision, secret: record.secret === true }
    );
  }

  function seal(field: string, plaintext: string): string {
    if (!options.sealSecret)
      throw new InvalidArgumentError(field, "this server has no --secret-key-file: secret values cannot be stored");
    return options.sealSecret(plaintext);
  }

  return {
    async getConfig(selector, read) {
      const normalized = normalizeScope(selector, "");
      await ready(read);
      const layers = layersFor(normalized).map((source) => {
        const values = new Map<string, StoredEntry>();
        for (const kv of cache.list(layout.scopePrefix(source.scope))) {
          const parsed = layout.parseValueKey(kv.key);
          const entry = storedEntry(kv);
          if (parsed && entry) values.set(parsed.key, entry);
        }
        return { source, values };
      });
      return { entries: resolveLayers(layers), revision: cache.revision };
    },

    async getValue(scopeInput, key, read) {
      const scope = normalizeScope(scopeInput, "scope.");
      validateKey("key", key);
      await ready(read);
      const kv = cache.get(layout.valueKey(scope, key));
      const record = kv && decodeRecord(kv.value);
      if (!kv || !record) throw new NotFoundError(`key "${key}" not found in ${describeScope(scope)}`);
      return toConfigValue(scope, key, kv, record);
    },

    async listValues(scopeInput, read) {
      const scope = normalizeScope(scopeInput, "scope.");
      await ready(read);
      const revision = cache.revision;
      const values: ConfigValue[] = [];
      for (const kv of cache.list(layout.scopePrefix(scope))) {
        const parsed = layout.parseValueKey(kv.key);
        const record = decodeRecord(kv.value);
        if (parsed && record) values.push(toConfigValue(scope, parsed.key, kv, record));
      }
      values.sort((a, b) => compareKeys(a.key, b.key));
      return { values, revision };
    },

    async putValue(input) {
      const scope = normalizeScope(input.scope, "scope.");
      validateKey("key", input.key);
      const contentType = normalizeContentType("content_type", input.contentType);
      validateMaybeSecret("value", input.value, contentType, input.secret === true);
      const author = input.author ?? "";
      validateAuthor("author", author);
      validateExpectedRevision("expected_revision", input.expectedRevision);
      await ready();
      const stored = input.secret ? seal("secret", input.value) : input.value;
      const record: HistoryRecord = {
        value: stored,
        contentType,
        author,
        updatedAt: now().toISOString(),
        deleted: false,
        ...(input.secret && { secret: true }),
      };
      const { revision, previous } = await writeOne(scope, input.key, input.expectedRevision, record);
      const kv = cache.get(layout.valueKey(scope, input.key));
      const version = kv?.modRevision === revision ? kv.version : (previous?.version ?? 0) + 1;
      return {
        revision,
        value: {
          scope,
          key: input.key,
          value: stored,
          contentType,
          revision,
          version,
          author,
          updatedAt: new Date(record.updatedAt),
          secret: input.secret === true,
        },
      };
    },

    async deleteValue(input) {
      const scope = normalizeScope(input.scope, "scope.");
      validateKey("key", input.key);
      const author = input.author ?? "";
      validateAuthor("author", author);
      validateExpectedRevision("expected_revision", input.expectedRevision);
      await ready();
      const record: HistoryRecord = {
        value: "",
        contentType: "text/plain",
        author,
        updatedAt: now().toISOString(),
        deleted: true,
      };
      const { revision } = await writeOne(scope, input.key, input.expectedRevision, record);
      return { revision };
    },

    importValues,

    async getHistory(scopeInput, key, limit = 0, read) {
      const scope = normalizeScope(scopeInput, "scope.");
      validateKey("key", key);
      if (!Number.isInteger(limit) || limit < 0) throw new InvalidArgumentError("limit", "must be >= 0");
      const page = limit === 0 ? DEFAULT_HISTORY_PAGE : Math.min(limit, MAX_HISTORY_PAGE);
      await ready(read);
      const versions: ConfigVersion[] = [];
      for (const kv of historyOf(scope, key).reverse()) {
        const record = decodeRecord(kv.value);
        if (record) versions.push(toConfigVersion(kv, record));
        if (versions.length >= page) break;
      }
      if (versions.length === 0) throw new NotFoundError(`key "${key}" has no history in ${describeScope(scope)}`);
      return versions;
    },

    async resealSecrets(reseal) {
      await ready();
      const pending: { kv: KeyValue; value: Uint8Array }[] = [];
      let skipped = 0;
      for (const kv of cache.list(layout.valuesRoot)) {
        const record = decodeRecord(kv.value);
        if (!record?.secret) continue;
        const resealed = reseal(record.value);
        if (resealed === null) skipped++;
        else if (resealed !== undefined) pending.push({ kv, value: encodeRecord(valueRecordOf({ ...record, value: resealed })) });
      }
      // History too, so an old key can leave the key file: each rewritten record keeps the
      // revision of the write it records (versions keep their revisions, order and rollback targets).
      for (const kv of cache.list(layout.historyRoot)) {
        const record = decodeRecord(kv.value);
        if (!record?.secret || record.deleted) continue;
        const resealed = reseal(record.value);
        if (resealed === null) skipped++;
        else if (resealed !== undefined)
          pending.push({ kv, value: encodeRecord({ ...record, value: resealed, revision: record.revision ?? kv.modRevision }) });
      }
      let resealed = 0;
      let revision = cache.revision;
      const chunk = Math.max(1, Math.floor(maxTxnOps / 2));
      for (let start = 0; start < pending.length; start += chunk) {
        const part = pending.slice(start, start + chunk);
        const result = await store.txn({
          compare: part.map(({ kv }) => ({ key: kv.key, modRevision: kv.modRevision })),
          ops: part.map(({ kv, value }) => ({ type: "put" as const, key: kv.key, value })),
        });
        revision = result.revision;
        if (result.succeeded) resealed += part.length;
        else skipped += part.length;
      }
      await settle(revision);
      log.info({ resealed, skipped, revision }, "secret values re-sealed");
      return { resealed, skipped, revision };
    },

    watchConfig(selector, sinceRevision, signal) {
      const normalized = normalizeScope(selector, "");
      if (!Number.isSafeInteger(sinceRevision) || sinceRevision < 0) {
        throw new InvalidArgumentError("since_revision", "must be a revision >= 0");
      }
      return watchHub.watch(normalized, sinceRevision, signal);
    },
  };
}

/** validateValue, but a secret's error never quotes it (JSON.parse messages include the input). */
function validateMaybeSecret(field: string, value: string, contentType: ValueRecord["contentType"], secret: boolean): void {
  try {
    validateValue(field, value, contentType);
  } catch (error) {
    if (!secret || !(error instanceof InvalidArgumentError)) throw error;
    const reason =
      contentType === "text/plain"
        ? "is too large"
        : `is not valid ${contentType === "application/json" ? "JSON" : "YAML"} (details withheld: the value is secret)`;
    throw new InvalidArgumentError(
      field,
      Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES ? `is larger than ${MAX_VALUE_BYTES} bytes` : reason,
    );
  }
}

function valueRecordOf(record: HistoryRecord): ValueRecord {
  return {
    value: record.value,
    contentType: record.contentType,
    author: record.author,
    updatedAt: record.updatedAt,
    ...(record.secret && { secret: true }),
  };
}

/** "scope shop/orders/prod", with "_" for an empty service or profile. */
export function describeScope(scope: Scope): string {
  return `scope ${scope.namespace}/${scope.service || "_"}/${scope.profile || "_"}`;
}
