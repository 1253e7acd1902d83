import { ScalarType } from "@bufbuild/protobuf";
import type { DescMessage, JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { ServerResponse } from "node:http";

/**
 * Turns the query string of `GET /<Service>/<Watch>?service=orders&tags=a&tags=b`
 * into the JSON object of the request message: names as in proto or JSON,
 * repeated fields by repeating the parameter, booleans as true/false.
 * Values are left for the JSON parser to validate (it names the field at fault).
 */
export function queryToJson(input: DescMessage, query: URLSearchParams): JsonObject {
  const json: JsonObject = {};
  for (const [key, value] of query) {
    const field = input.fields.find((f) => f.name === key || f.jsonName === key);
    if (!field) {
      json[key] = value;
      continue;
    }
    const parsed = parseScalar(field.fieldKind === "scalar" || field.fieldKind === "list" ? field.scalar : undefined, value);
    if (field.fieldKind === "list") {
      const list = (json[field.jsonName] ??= []) as JsonValue[];
      list.push(parsed);
    } else {
      json[field.jsonName] = parsed;
    }
  }
  return json;
}

/** Scalars that proto3 JSON writes as numbers (64-bit integers are strings). */
const NUMBER_SCALARS = new Set<ScalarType>([
  ScalarType.DOUBLE,
  ScalarType.FLOAT,
  ScalarType.INT32,
  ScalarType.FIXED32,
  ScalarType.UINT32,
  ScalarType.SFIXED32,
  ScalarType.SINT32,
]);

function parseScalar(scalar: ScalarType | undefined, value: string): JsonValue {
  if (scalar === ScalarType.BOOL) return value === "" || value === "true" ? true : value === "false" ? false : value;
  if (scalar !== undefined && NUMBER_SCALARS.has(scalar) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

/** The revision a watch response brings the client to (the SSE `id:`), for all three watches. */
export function revisionOf(message: JsonValue): string | undefined {
  if (message === null || typeof message !== "object" || Array.isArray(message)) return undefined;
  if (typeof message.revision === "string") return message.revision;
  if (typeof message.bookmarkRevision === "string") return message.bookmarkRevision;
  for (const kind of ["snapshot", "event", "bookmark", "transition"]) {
    const inner = message[kind];
    if (inner && typeof inner === "object" && !Array.isArray(inner) && typeof inner.revision === "string") return inner.revision;
  }
  return undefined;
}

/**
 * The SSE event name of a watch response: the oneof case for Watch
 * (snapshot, event, bookmark) and WatchHealth (snapshot, transition,
 * bookmark); for WatchConfig "config", or "bookmark" for its bookmarks.
 */
export function eventNameOf(message: JsonValue): string {
  if (message === null || typeof message !== "object" || Array.isArray(message)) return "message";
  for (const kind of ["snapshot", "event", "transition"]) if (kind in message) return kind;
  if ("bookmark" in message || "bookmarkRevision" in message) return "bookmark";
  return "config";
}

// Frames by message: watch responses are immutable objects shared by every
// stream they concern (and their JSON too, see rpc-table.ts), so a message
// sent to N streams is serialized once, not N times; entries go with the objects.
const frames = new WeakMap<object, string>();

/** The SSE event of one watch response (`id:` its revision, `event:` its kind, `data:` its JSON), built once per message object. */
export function eventFrame(message: JsonValue): string {
  const shared = message !== null && typeof message === "object";
  let text = shared ? frames.get(message) : undefined;
  if (text === undefined) {
    const id = revisionOf(message);
    text = `${id === undefined ? "" : `id: ${id}\n`}event: ${eventNameOf(message)}\ndata: ${JSON.stringify(message)}\n\n`;
    if (shared) frames.set(message, text);
  }
  return text;
}

/** Writes one SSE frame; resolves when the socket takes more (backpressure reaches the watch queue). */
export async function writeEvent(res: ServerResponse, text: string, signal: AbortSignal) {
  if (res.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    res.on("drain", done);
    signal.addEventListener("abort", done);
  });
}
