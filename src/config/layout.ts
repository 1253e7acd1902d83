import { randomBytes } from "node:crypto";
import type { KeyValue } from "../store/index.js";
import { CONTENT_TYPES } from "./types.js";
import type { ConfigValue, ConfigVersion, ContentType, Scope } from "./types.js";

/**
 * Store layout of configuration, under the root prefix:
 *
 *   config/{namespace}/{service|_}/{profile|_}/{key}
 *       → {"contentType","author","updatedAt"} + "\n" + raw value; the key's
 *         modRevision is the value's revision and its version the write count.
 *   config-history/{namespace}/{service|_}/{profile|_}/{key}/{id}
 *       → {"contentType","author","updatedAt","deleted"} + "\n" + raw value
 *         (empty for a delete): one record per write (put or delete), written in the SAME store
 *         transaction as the value, so the record's modRevision is the
 *         revision of that write. Unlike etcd's own MVCC history these keys
 *         survive compaction. id = 16-digit milliseconds + "-" + 8 random hex
 *         (readable and unique without a counter); order comes from the
 *         write's revision: the record's modRevision, or its "revision" field
 *         once the record was rewritten (re-sealed by a secret-key rotation).
 *
 * "_" is not a DNS-1123 label, so it cannot collide with a real service or
 * profile; keys never contain "/".
 */
const NONE = "_";

export interface ConfigLayout {
  /** "…/config/" */
  readonly valuesRoot: string;
  /** "…/config/{ns}/": every scope of a namespace. */
  namespacePrefix(namespace: string): string;
  /** "…/config/{ns}/{svc|_}/{profile|_}/" */
  scopePrefix(scope: Scope): string;
  valueKey(scope: Scope, key: string): string;
  /** The scope and key of a value key, or undefined for anything else. */
  parseValueKey(storeKey: string): { scope: Scope; key: string } | undefined;
  /** "…/config-history/{ns}/{svc|_}/{profile|_}/{key}/" */
  historyPrefix(scope: Scope, key: string): string;
  /** A fresh history key for one write of the key. */
  newHistoryKey(scope: Scope, key: string, now: Date): string;
  /** "…/config-history/": every history record. */
  readonly historyRoot: string;
}

export function createConfigLayout(rootPrefix: string): ConfigLayout {
  const valuesRoot = `${rootPrefix}config/`;
  const historyRoot = `${rootPrefix}config-history/`;
  const scopePath = (scope: Scope) => `${scope.namespace}/${scope.service || NONE}/${scope.profile || NONE}/`;
  return {
    valuesRoot,
    namespacePrefix: (namespace) => `${valuesRoot}${namespace}/`,
    scopePrefix: (scope) => valuesRoot + scopePath(scope),
    valueKey: (scope, key) => valuesRoot + scopePath(scope) + key,
    parseValueKey(storeKey) {
      if (!storeKey.startsWith(valuesRoot)) return undefined;
      const parts = storeKey.slice(valuesRoot.length).split("/");
      if (parts.length !== 4) return undefined;
      const [namespace, service, profile, key] = parts as [string, string, string, string];
      if (key === "") return undefined;
      return {
        scope: { namespace, service: service === NONE ? "" : service, profile: profile === NONE ? "" : profile },
        key,
      };
    },
    historyRoot,
    historyPrefix: (scope, key) => `${historyRoot}${scopePath(scope)}${key}/`,
    newHistoryKey: (scope, key, now) =>
      `${historyRoot}${scopePath(scope)}${key}/${String(now.getTime()).padStart(16, "0")}-${randomBytes(4).toString("hex")}`,
  };
}

/** The stored form of a value. */
export interface ValueRecord {
  value: string;
  contentType: ContentType;
  author: string;
  updatedAt: string;
  /** value is sealed ("sb1:<keyId>:…", see src/auth/secret-box.ts); absent for plain values. */
  secret?: boolean;
}

/** The stored form of one history entry. */
export interface HistoryRecord extends ValueRecord {
  deleted: boolean;
  /**
   * The revision of the write this records, set when the record is rewritten
   * (a re-sealed secret): the rewrite moves the key's modRevision, and a
   * version's revision is what clients roll back to. Absent: the modRevision.
   */
  revision?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A record is one line of JSON metadata, a newline, then the value's raw
 * UTF-8: no escaping, so a 512 KiB value stays 512 KiB in the store (JSON
 * could double it) and etcdctl shows it as written.
 */
export function encodeRecord(record: ValueRecord | HistoryRecord): Uint8Array {
  const { value, secret, ...rest } = record;
  const meta = secret ? { ...rest, secret: true } : rest;
  return encoder.encode(`${JSON.stringify(meta)}\n${value}`);
}

/** Decodes a value or history record; undefined when it is not one (written by hand, say). */
export function decodeRecord(bytes: Uint8Array): HistoryRecord | undefined {
  const text = decoder.decode(bytes);
  const newline = text.indexOf("\n");
  if (newline < 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(0, newline));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const meta = parsed as Record<string, unknown>;
  if (typeof meta.contentType !== "string") return undefined;
  const contentType = CONTENT_TYPES.find((type) => type === meta.contentType) ?? "text/plain";
  return {
    value: text.slice(newline + 1),
    contentType,
    author: typeof meta.author === "string" ? meta.author : "",
    updatedAt: typeof meta.updatedAt === "string" ? meta.updatedAt : new Date(0).toISOString(),
    deleted: meta.deleted === true,
    ...(meta.secret === true && { secret: true }),
    ...(Number.isSafeInteger(meta.revision) && { revision: meta.revision as number }),
  };
}

/**
 * The revision of the write a history record records (see HistoryRecord.revision),
 * reading only the metadata line: history is ordered by it without decoding values.
 */
export function historyRevision(kv: KeyValue): number {
  const newline = kv.value.indexOf(10);
  if (newline < 0) return kv.modRevision;
  try {
    const meta: unknown = JSON.parse(decoder.decode(kv.value.subarray(0, newline)));
    const revision = (meta as { revision?: unknown } | null)?.revision;
    return typeof revision === "number" && Number.isSafeInteger(revision) ? revision : kv.modRevision;
  } catch {
    return kv.modRevision;
  }
}

export function toConfigValue(scope: Scope, key: string, kv: KeyValue, record: ValueRecord): ConfigValue {
  return {
    scope,
    key,
    value: record.value,
    contentType: record.contentType,
    revision: kv.modRevision,
    version: kv.version,
    author: record.author,
    updatedAt: new Date(record.updatedAt),
    secret: record.secret === true,
  };
}

export function toConfigVersion(kv: KeyValue, record: HistoryRecord): ConfigVersion {
  return {
    value: record.deleted ? "" : record.value,
    contentType: record.contentType,
    revision: record.revision ?? kv.modRevision,
    author: record.author,
    updatedAt: new Date(record.updatedAt),
    deleted: record.deleted,
    secret: record.secret === true && !record.deleted,
  };
}
