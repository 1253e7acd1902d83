import type { IKeyValue } from "etcd3";
import type { KeyValue } from "./types.js";

/** etcd3 decodes int64 fields as decimal strings (longs: String); revisions fit in a double. */
export function toKeyValue(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    // A plain view, so both backends hand out the same type.
    value: new Uint8Array(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: kv.lease || "0",
  };
}
