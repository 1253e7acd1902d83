import type { StoreEvent, WatchBatch } from "./types.js";

/**
 * The smallest key greater than every key starting with prefix, as etcd's
 * range_end for a prefix read ("\0" means "to the end of the keyspace").
 * Computed on UTF-8 bytes because etcd compares keys bytewise.
 */
export function prefixRangeEnd(prefix: string): Buffer {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    const byte = bytes[i]!;
    if (byte < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** Key of a store event, whichever its type. */
function eventKey(event: StoreEvent): string {
  return event.type === "put" ? event.kv.key : event.key;
}

/**
 * The part of batch under prefix, or undefined when nothing matches. Returns
 * batch itself when every event matches, so a root-prefix watcher (the usual
 * case) costs no copy.
 */
export function filterBatch(batch: WatchBatch, prefix: string): WatchBatch | undefined {
  if (prefix === "") return batch;
  let matched: StoreEvent[] | undefined;
  for (let i = 0; i < batch.events.length; i++) {
    const event = batch.events[i]!;
    const inside = eventKey(event).startsWith(prefix);
    if (inside && matched) matched.push(event);
    else if (!inside && !matched) matched = batch.events.slice(0, i);
  }
  if (!matched) return batch;
  return matched.length > 0 ? { revision: batch.revision, events: matched } : undefined;
}

/**
 * Compares keys as etcd does (bytewise UTF-8, i.e. code point order). JS
 * string order compares UTF-16 units, which differs only where a surrogate
 * meets a unit at or above U+E000; the first differing unit is remapped for
 * that case, so there is no allocation per comparison.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}
