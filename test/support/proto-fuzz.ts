/**
 * Deterministic generator of decodable but hostile protobuf requests, driven
 * by the descriptor set the server itself serves (generated/switchboard.binpb),
 * so every field of every request message is covered without a hand-written
 * list that drifts from the proto.
 *
 *   const fuzz = createProtoFuzzer(seed);
 *   const bytes = fuzz.request("switchboard.registry.v1.RegisterRequest");
 *   const request = RegisterRequest.decode(bytes); // always decodes
 *
 * Each field is left unset, set to a plausible value chosen by its name (so
 * requests get past the first check and reach deeper code) or to a hostile
 * one for its type (the share of hostile values is drawn per request): odd unicode, empty and oversized strings, int64 and
 * uint32 extremes, negative numbers, unknown enum values, nested messages,
 * maps and lists up to the server's limits and beyond.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createFileRegistry, fromBinary, ScalarType } from "@bufbuild/protobuf";
import type { DescField, DescMessage, DescService, FileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "\u0000",
  "\t\n",
  "\ufffd27.0.0.1",
  "a%zz",
  "xn--",
  "xn--a",
  "ex@mple",
  "ex ample",
  "bücher.example",
  "🙂",
  "\u202eevil",
  "\u200b",
  "\ud800", // a lone surrogate: encoded as U+FFFD
  "Orders",
  "-orders",
  "orders-",
  "a..b",
  ".",
  "..",
  "../../etc/passwd",
  "default/orders",
  "a/b/c",
  "/",
  "*",
  "%",
  "null",
  "NaN",
  "-1",
  "0",
  "9".repeat(40),
  "1.2.3",
  "256.1.1.1",
  "01.2.3.4",
  "[::1]",
  "fe80::1%eth0",
  "::1:80",
  "10.0.0.1:80",
  "foo.0x7f",
  "123",
  "http://",
  "http://[::1",
  "ftp://x/",
  "javascript:alert(1)",
  "a".repeat(63),
  "a".repeat(64),
  "b".repeat(254),
  "c".repeat(513),
  "d".repeat(4_096),
  "k=v",
  '{"status":"UP"}',
  "\r\nX-Injected: 1",
];

/** Plausible values by proto field name: enough valid input to reach past validation. */
const PLAUSIBLE: Readonly<Record<string, readonly string[]>> = {
  namespace: ["", "default", "shop"],
  service: ["orders", "payments", "fuzz"],
  instance_id: ["a", "b", "i-1"],
  profile: ["", "dev", "prod"],
  address: ["127.0.0.1", "localhost", "::1", "orders-1.shop.svc", "xn--bcher-kva.example", "10.0.0.1"],
  zone: ["", "eu-1"],
  key: ["db.url", "k", "feature/x"],
  value: ["v", "postgres://db/orders", '{"a":1}'],
  content_type: ["", "text/plain", "application/json"],
  owner: ["", "owner-1"],
  url: ["", "http://127.0.0.1:1/health", "https://localhost:1/"],
  path: ["", "/health", "health"],
  name: ["", "http", "self"],
  author: ["", "fuzz"],
  output: ["", "ok"],
  tags: ["grpc", "canary"],
  // Map fields: the same pool serves keys and values.
  metadata: ["env", "team"],
  metadata_selector: ["env"],
  headers: ["x-probe"],
};

/** Fields whose values other systems read (probes, URLs, store keys): fuzzed more. */
const FLOWING_FIELDS = new Set([
  "address",
  "url",
  "path",
  "headers",
  "key",
  "value",
  "metadata",
  "service",
  "namespace",
  "instance_id",
  "profile",
]);

/** Plausible numbers by proto field name; other numeric fields are plausibly 0 (the default). */
const PLAUSIBLE_NUMBERS: Readonly<Record<string, readonly number[]>> = {
  port: [8080, 80],
  ttl_seconds: [0, 10, 30],
  weight: [0, 100, 1],
  interval_ms: [0, 1000, 5000],
  timeout_ms: [0, 500],
  unhealthy_threshold: [0, 1, 3],
  healthy_threshold: [0, 1, 2],
  limit: [0, 10],
  ttl_ms: [0, 3000],
};

const HOSTILE_INT64: readonly string[] = [
  "0",
  "1",
  "2",
  "-1",
  "-2",
  "9223372036854775807",
  "-9223372036854775808",
  "9007199254740991",
  "9007199254740993",
  "4294967296",
  "1000000000000",
];
const HOSTILE_UINT64: readonly string[] = ["0", "1", "18446744073709551615", "9223372036854775808", "9007199254740993"];
const HOSTILE_UINT32: readonly number[] = [
  0, 1, 2, 3, 10, 80, 100, 999, 1000, 10_000, 10_001, 65_535, 65_536, 2_147_483_648, 4_294_967_295,
];
const HOSTILE_INT32: readonly number[] = [0, 1, -1, 2, 3, 4, 5, 99, 2_147_483_647, -2_147_483_648];
const HOSTILE_DOUBLE: readonly number[] = [
  0,
  -1,
  0.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -Number.POSITIVE_INFINITY,
  1e308,
  -0,
];

export interface ProtoFuzzer {
  readonly registry: FileRegistry;
  /** A fresh request of the given message type, as protobuf bytes. */
  request(typeName: string): Uint8Array;
  /** The services of the descriptor set with the given full names. */
  service(typeName: string): DescService;
  /** Extra values plausible for int64 fields (lease ids and revisions seen so far). */
  remember(int64: string): void;
  /** A random integer in [0, n). */
  int(n: number): number;
}

export interface ProtoFuzzerOptions {
  /** Descriptor set. Default generated/switchboard.binpb. */
  descriptorSet?: Uint8Array;
  /** Nesting depth of message fields. Default 3. */
  maxDepth?: number;
}

export function createProtoFuzzer(seed: number, options: ProtoFuzzerOptions = {}): ProtoFuzzer {
  const random = seededRandom(seed);
  const bytes =
    options.descriptorSet ?? readFileSync(fileURLToPath(new URL("../../generated/switchboard.binpb", import.meta.url)));
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
  const maxDepth = options.maxDepth ?? 3;
  const seenInt64: string[] = [];

  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(values: readonly T[]): T => values[int(values.length)] as T;
  const chance = (p: number) => random() < p;

  // Share of values that are hostile, chosen per request: mostly-valid requests reach deep
  // code (a registration that is stored, a check that runs), hostile ones probe validation.
  let hostility = 0.5;
  // One field name per request that is always hostile while the rest may be valid: a valid
  // request with one bad field is what gets past the other checks to the one under test.
  let focus: string | undefined;
  const hostile = (field?: DescField) => (field !== undefined && field.name === focus) || chance(hostility);

  function string(field: DescField): string {
    if (!hostile(field)) return pick(PLAUSIBLE[field.name] ?? ["", "x"]);
    if (chance(0.15)) return randomUnicode();
    if (chance(0.01)) return "e".repeat(600_000); // past the message size limit with a few of them
    return pick(HOSTILE_STRINGS);
  }

  function randomUnicode(): string {
    const length = int(20);
    let out = "";
    for (let i = 0; i < length; i++) {
      const range = int(4);
      const code =
        range === 0 ? 0x20 + int(0x5f) : range === 1 ? int(0x20) : range === 2 ? 0x80 + int(0x800) : 0x1f300 + int(0x300);
      out += String.fromCodePoint(code);
    }
    return out;
  }

  function int64(field: DescField): string {
    if (!hostile(field)) return seenInt64.length > 0 && chance(0.7) ? pick(seenInt64) : "0";
    return pick(HOSTILE_INT64);
  }

  function number(field: DescField, values: readonly number[]): number {
    if (!hostile(field)) return pick(PLAUSIBLE_NUMBERS[field.name] ?? [0]);
    return pick(values);
  }

  function writeScalar(writer: BinaryWriter, field: DescField, type: ScalarType, no: number): void {
    switch (type) {
      case ScalarType.STRING:
        writer.tag(no, WireType.LengthDelimited).string(string(field));
        return;
      case ScalarType.BYTES: {
        const data = new Uint8Array(int(64));
        for (let i = 0; i < data.length; i++) data[i] = int(256);
        writer.tag(no, WireType.LengthDelimited).bytes(data);
        return;
      }
      case ScalarType.BOOL:
        writer.tag(no, WireType.Varint).bool(chance(0.5));
        return;
      case ScalarType.INT64:
      case ScalarType.SINT64:
        writer.tag(no, WireType.Varint)[type === ScalarType.INT64 ? "int64" : "sint64"](int64(field));
        return;
      case ScalarType.UINT64:
        writer.tag(no, WireType.Varint).uint64(pick(HOSTILE_UINT64));
        return;
      case ScalarType.FIXED64:
      case ScalarType.SFIXED64:
        if (type === ScalarType.FIXED64) writer.tag(no, WireType.Bit64).fixed64(pick(HOSTILE_UINT64));
        else writer.tag(no, WireType.Bit64).sfixed64(int64(field));
        return;
      case ScalarType.UINT32:
        writer.tag(no, WireType.Varint).uint32(number(field, HOSTILE_UINT32));
        return;
      case ScalarType.INT32:
      case ScalarType.SINT32:
        writer.tag(no, WireType.Varint)[type === ScalarType.INT32 ? "int32" : "sint32"](number(field, HOSTILE_INT32));
        return;
      case ScalarType.FIXED32:
        writer.tag(no, WireType.Bit32).fixed32(pick(HOSTILE_UINT32));
        return;
      case ScalarType.SFIXED32:
        writer.tag(no, WireType.Bit32).sfixed32(pick(HOSTILE_INT32));
        return;
      case ScalarType.DOUBLE:
        writer.tag(no, WireType.Bit64).double(pick(HOSTILE_DOUBLE));
        return;
      case ScalarType.FLOAT:
        writer.tag(no, WireType.Bit32).float(pick(HOSTILE_DOUBLE));
        return;
    }
  }

  function writeEnum(writer: BinaryWriter, field: DescField, no: number, values: readonly number[]): void {
    // Known values most of the time; unknown ones (open enums decode them as numbers) otherwise.
    writer.tag(no, WireType.Varint).int32(!hostile(field) || chance(0.5) ? pick(values) : pick([-1, 99, 2_147_483_647]));
  }

  function writeNested(writer: BinaryWriter, no: number, message: DescMessage, depth: number): void {
    writer.tag(no, WireType.LengthDelimited).fork();
    writeMessage(writer, message, depth + 1);
    writer.join();
  }

  /** How many elements a list or map gets: usually few, sometimes more than any limit. */
  function count(): number {
    return hostile() && chance(0.1) ? 65 + int(40) : int(4);
  }

  function writeField(writer: BinaryWriter, field: DescField, depth: number): void {
    switch (field.fieldKind) {
      case "scalar":
        writeScalar(writer, field, field.scalar, field.number);
        return;
      case "enum":
        writeEnum(
          writer,
          field,
          field.number,
          field.enum.values.map((v) => v.number),
        );
        return;
      case "message":
        if (depth < maxDepth) writeNested(writer, field.number, field.message, depth);
        return;
      case "list":
        for (let i = count(); i > 0; i--) {
          if (field.listKind === "scalar") writeScalar(writer, field, field.scalar, field.number);
          else if (field.listKind === "enum")
            writeEnum(
              writer,
              field,
              field.number,
              field.enum.values.map((v) => v.number),
            );
          else if (depth < maxDepth) writeNested(writer, field.number, field.message, depth);
        }
        return;
      case "map":
        for (let i = count(); i > 0; i--) {
          writer.tag(field.number, WireType.LengthDelimited).fork();
          writeScalar(writer, field, field.mapKey, 1);
          if (field.mapKind === "scalar") writeScalar(writer, field, field.scalar, 2);
          else if (field.mapKind === "enum")
            writeEnum(
              writer,
              field,
              2,
              field.enum.values.map((v) => v.number),
            );
          else if (depth < maxDepth) writeNested(writer, 2, field.message, depth);
          writer.join();
        }
        return;
    }
  }

  function writeMessage(writer: BinaryWriter, message: DescMessage, depth: number): void {
    for (const member of message.members) {
      if (member.kind === "oneof") {
        // At most one of a oneof (the last one written would win anyway).
        if (chance(0.8)) writeField(writer, pick(member.fields), depth);
      } else if (chance(1 - Math.max(0.05, hostility / 2))) {
        writeField(writer, member, depth);
      }
    }
  }

  /** Names of the fields a request of this type can carry, nested ones included. */
  function fieldNames(message: DescMessage, depth: number, into = new Set<string>()): string[] {
    for (const field of message.fields) {
      into.add(field.name);
      const nested =
        field.fieldKind === "message"
          ? field.message
          : field.fieldKind === "list" && field.listKind === "message"
            ? field.message
            : field.fieldKind === "map" && field.mapKind === "message"
              ? field.message
              : undefined;
      if (nested && depth < maxDepth) fieldNames(nested, depth + 1, into);
    }
    return [...into].sort();
  }

  return {
    registry,
    request(typeName) {
      const message = registry.getMessage(typeName);
      if (!message) throw new Error(`no message ${typeName} in the descriptor set`);
      hostility = pick([0, 0.02, 0.1, 0.3, 0.7]);
      // Fields whose values flow into other systems (sockets, URLs, headers, keys) are focused more often.
      const names = fieldNames(message, 0).flatMap((name) => (FLOWING_FIELDS.has(name) ? [name, name, name, name] : [name]));
      focus = chance(0.6) ? pick(names) : undefined;
      const writer = new BinaryWriter();
      writeMessage(writer, message, 0);
      return writer.finish();
    },
    service(typeName) {
      const service = registry.getService(typeName);
      if (!service) throw new Error(`no service ${typeName} in the descriptor set`);
      return service;
    },
    remember(value) {
      if (value !== "0" && value !== "" && !seenInt64.includes(value)) seenInt64.push(value);
      if (seenInt64.length > 64) seenInt64.shift();
    },
    int,
  };
}
