import type { IKeyValue } from "etcd3";
import type { KeyValue } from "./types.js";

/** etcd3 decodes int64 fields as decimal strings (longs: String); revisions fit in a double. */
export function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    // A copy, not a view: etcd3 decodes bytes as a slice of the whole gRPC message (or HTTP/2 chunk),
    // and values live on in the cache and its history window, so a view would keep that whole buffer
    // alive per value (tens of MiB of array buffers in the soak). A plain Uint8Array, as the embedded store's.
    value: new Uint8Array(kv.value),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: kv.lease || "0",
  };
}

/**
 * Ends a stream we are done with. etcd3 counts a stream error on a still
 * writable stream as a failure of its host (circuit breaker, client reset);
 * half-closing first marks the cancel as ours. Cancel alone is kept for
 * streams we give up on because the host stopped answering.
 */
export function endStream(stream: { writable?: boolean; end(): void; cancel(): void }): void {
  if (stream.writable !== false) stream.end();
  stream.cancel();
}
