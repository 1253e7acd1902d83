import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/**
 * One google.protobuf.FileDescriptorSet holding every file of the given sets
 * once (the first copy of a file name wins). The switchboard and xDS sets are
 * built separately and share imports such as google/protobuf/any.proto;
 * reflection wants each file once.
 */
export function mergeDescriptorSets(...sets: Uint8Array[]): Uint8Array {
  const seen = new Set<string>();
  const writer = new BinaryWriter();
  for (const set of sets) {
    const reader = new BinaryReader(set);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field !== 1 || wireType !== WireType.LengthDelimited) {
        reader.skip(wireType);
        continue;
      }
      const file = reader.bytes();
      const name = fileName(file);
      if (seen.has(name)) continue;
      seen.add(name);
      writer.tag(1, WireType.LengthDelimited).bytes(file);
    }
  }
  return writer.finish();
}

/** FileDescriptorProto.name (field 1). */
function fileName(file: Uint8Array): string {
  const reader = new BinaryReader(file);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1 && wireType === WireType.LengthDelimited) return reader.string();
    reader.skip(wireType);
  }
  return "";
}
