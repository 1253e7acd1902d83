import { crc32 } from "node:zlib";
import type { Change } from "./embedded-keyspace.js";
import type { KeyValue } from "./types.js";

/** What the embedded store writes to its log, one record per write. */
export type LogRecord =
  /** A write at revision r; a lease revocation or expiry logs its deletions this way first. */
  | { type: "txn"; revision: number; changes: Change[] }
  | { type: "grant"; id: string; ttlSeconds: number }
  | { type: "revoke"; id: string };

/** The whole state at one revision; history is not kept across restarts. */
export interface SnapshotState {
  revision: number;
  kvs: KeyValue[];
  leases: { id: string; ttlSeconds: number }[];
}

// Compact JSON shapes: field names are repeated in every record.
type PutJson = [key: string, value: string, lease: string];
type DeleteJson = [key: string];
type RecordJson =
  { t: "x"; r: number; c: (PutJson | DeleteJson)[] } | { t: "g"; id: string; ttl: number } | { t: "r"; id: string };

const HEADER_BYTES = 8;

/** Frames a record as [length u32][crc32 u32][JSON], so a torn tail is detected on load. */
export function encodeRecord(record: LogRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(toJson(record)));
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, HEADER_BYTES);
  return frame;
}

/**
 * Decodes the records of one log segment. Stops at the first incomplete or
 * corrupt frame (a write interrupted by a crash, never acknowledged) and
 * reports where the good part ends.
 */
export function decodeRecords(data: Buffer): { records: LogRecord[]; validBytes: number } {
  const records: LogRecord[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(offset);
    const end = offset + HEADER_BYTES + length;
    if (end > data.length) break;
    const payload = data.subarray(offset + HEADER_BYTES, end);
    if (crc32(payload) !== data.readUInt32LE(offset + 4)) break;
    records.push(fromJson(JSON.parse(payload.toString("utf8")) as RecordJson));
    offset = end;
  }
  return { records, validBytes: offset };
}

function toJson(record: LogRecord): RecordJson {
  switch (record.type) {
    case "txn":
      return {
        t: "x",
        r: record.revision,
        c: record.changes.map((change) =>
          change.type === "put" ? [change.key, encodeBytes(change.value), change.lease] : [change.key],
        ),
      };
    case "grant":
      return { t: "g", id: record.id, ttl: record.ttlSeconds };
    case "revoke":
      return { t: "r", id: record.id };
  }
}

function fromJson(json: RecordJson): LogRecord {
  switch (json.t) {
    case "x":
      return {
        type: "txn",
        revision: json.r,
        changes: json.c.map((change): Change =>
          change.length === 3
            ? { type: "put", key: change[0], value: decodeBytes(change[1]), lease: change[2] }
            : { type: "delete", key: change[0] },
        ),
      };
    case "g":
      return { type: "grant", id: json.id, ttlSeconds: json.ttl };
    case "r":
      return { type: "revoke", id: json.id };
  }
}

/** Snapshot lines: a header, then one line per lease and per key, then an end marker. */
export function* encodeSnapshot(state: SnapshotState, walSeq: number): Generator<string> {
  yield JSON.stringify({ format: 1, revision: state.revision, walSeq }) + "\n";
  for (const lease of state.leases) yield JSON.stringify(["L", lease.id, lease.ttlSeconds]) + "\n";
  for (const kv of state.kvs) {
    yield JSON.stringify(["K", kv.key, encodeBytes(kv.value), kv.createRevision, kv.modRevision, kv.version, kv.lease]) + "\n";
  }
  yield JSON.stringify(["E", state.leases.length + state.kvs.length]) + "\n";
}

/** Parses a snapshot written by encodeSnapshot; throws when it is incomplete. */
export function decodeSnapshot(text: string): { state: SnapshotState; walSeq: number } {
  const lines = text.split("\n");
  const header = JSON.parse(lines[0] ?? "") as { format: number; revision: number; walSeq: number };
  if (header.format !== 1) throw new Error(`unknown snapshot format ${header.format}`);
  const state: SnapshotState = { revision: header.revision, kvs: [], leases: [] };
  for (let i = 1; i < lines.length; i++) {
    const entry = JSON.parse(lines[i]!) as unknown[];
    if (entry[0] === "L") {
      state.leases.push({ id: entry[1] as string, ttlSeconds: entry[2] as number });
    } else if (entry[0] === "K") {
      state.kvs.push({
        key: entry[1] as string,
        value: decodeBytes(entry[2] as string),
        createRevision: entry[3] as number,
        modRevision: entry[4] as number,
        version: entry[5] as number,
        lease: entry[6] as string,
      });
    } else if (entry[0] === "E") {
      if (entry[1] !== state.leases.length + state.kvs.length) throw new Error("snapshot entry count mismatch");
      return { state, walSeq: header.walSeq };
    }
  }
  throw new Error("snapshot is truncated");
}

function encodeBytes(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
}

function decodeBytes(text: string): Uint8Array {
  const buffer = Buffer.from(text, "base64");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
