import { isMap, parseDocument, stringify } from "yaml";

/**
 * The file format of `switchboard config import` / `export`, YAML or JSON
 * (JSON is YAML, so one parser reads both):
 *
 *   namespace: shop          # the scope the values were exported from;
 *   service: orders          # import uses it unless flags name another
 *   profile: prod
 *   values:
 *     db.url: postgres://db:5432/orders      # a string: text/plain
 *     db.pool-size: 10                       # numbers and booleans: their text, text/plain
 *     features:                              # explicit content type
 *       contentType: application/json
 *       value: '{"beta": true}'
 *     limits: {rps: 100, burst: 20}          # any other mapping or list: stored as application/json
 *
 * Any other top-level field, and any field but value and contentType in a
 * mapping that has a value or contentType field, is an error naming it (a
 * misspelt "servce:" or "contentTyp:" must not import into the wrong scope or
 * store the spelling as data).
 *
 * Export always writes the explicit form for JSON and YAML values, and plain
 * strings for text/plain, so import(export(scope)) reproduces the scope exactly.
 */
export interface ScopeFile {
  namespace?: string;
  service?: string;
  profile?: string;
  entries: FileEntry[];
}

export interface FileEntry {
  key: string;
  value: string;
  contentType: string;
  /** Written as {value, secret: true}: stored encrypted. */
  secret?: boolean;
}

export type FileFormat = "yaml" | "json";

/** Thrown for a file that is not in the format above; the message names the place. */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
}

export function parseScopeFile(text: string, fileName = "file"): ScopeFile {
  const document = parseDocument(text, { prettyErrors: false });
  const firstError = document.errors[0];
  if (firstError) throw new ConfigFileError(`${fileName}: not valid YAML or JSON: ${firstError.message.split("\n")[0]}`);
  if (!isMap(document.contents)) throw new ConfigFileError(`${fileName}: expected a mapping with a "values" mapping`);
  const root = document.toJS() as Record<string, unknown>;
  const values = root.values;
  if (values === null || values === undefined) throw new ConfigFileError(`${fileName}: missing "values"`);
  if (typeof values !== "object" || Array.isArray(values))
    throw new ConfigFileError(`${fileName}: "values" must be a mapping of key to value`);
  for (const field of Object.keys(root)) {
    if (!TOP_LEVEL_FIELDS.includes(field)) {
      throw new ConfigFileError(`${fileName}: unknown field "${field}" (expected ${TOP_LEVEL_FIELDS.join(", ")})`);
    }
  }
  const file: ScopeFile = { entries: [] };
  for (const field of ["namespace", "service", "profile"] as const) {
    const value = root[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string") throw new ConfigFileError(`${fileName}: "${field}" must be a string`);
    file[field] = value;
  }
  for (const [key, raw] of Object.entries(values as Record<string, unknown>)) {
    file.entries.push({ key, ...toStored(raw, `${fileName}: values.${key}`) });
  }
  return file;
}

const TOP_LEVEL_FIELDS: readonly string[] = ["namespace", "service", "profile", "values"];
const EXPLICIT_FIELDS: readonly string[] = ["value", "contentType", "secret"];

function toStored(raw: unknown, where: string): { value: string; contentType: string; secret?: boolean } {
  if (typeof raw === "string") return { value: raw, contentType: "text/plain" };
  if (typeof raw === "number" || typeof raw === "boolean" || typeof raw === "bigint")
    return { value: String(raw), contentType: "text/plain" };
  if (raw === null || raw === undefined) throw new ConfigFileError(`${where}: empty; use "" for an empty string`);
  if (raw instanceof Date) return { value: raw.toISOString(), contentType: "text/plain" };
  if (isExplicit(raw)) return explicitEntry(raw, where);
  return { value: JSON.stringify(raw), contentType: "application/json" };
}

/** A mapping with a value or contentType field: the explicit form. */
function isExplicit(raw: unknown): raw is Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return false;
  return Object.keys(raw).some((key) => EXPLICIT_FIELDS.includes(key));
}

/** {value, contentType?, secret?} and nothing else; value a string (numbers and booleans: their text). */
function explicitEntry(record: Record<string, unknown>, where: string): { value: string; contentType: string; secret?: boolean } {
  for (const key of Object.keys(record)) {
    if (!EXPLICIT_FIELDS.includes(key))
      throw new ConfigFileError(`${where}: unknown field "${key}" (expected value, contentType and secret)`);
  }
  const { value, contentType, secret } = record;
  if (contentType !== undefined && typeof contentType !== "string")
    throw new ConfigFileError(`${where}.contentType: must be a string`);
  if (secret !== undefined && typeof secret !== "boolean") throw new ConfigFileError(`${where}.secret: must be true or false`);
  const marked = secret === true ? { secret: true } : {};
  if (typeof value === "string") return { value, contentType: contentType ?? "text/plain", ...marked };
  if (typeof value === "number" || typeof value === "boolean")
    return { value: String(value), contentType: contentType ?? "text/plain", ...marked };
  throw new ConfigFileError(`${where}.value: expected a string${value === undefined ? ", missing" : ""}`);
}

export function serializeScopeFile(file: ScopeFile, format: FileFormat): string {
  const values: Record<string, unknown> = {};
  for (const entry of [...file.entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    values[entry.key] = entry.secret
      ? { ...(entry.contentType !== "text/plain" && { contentType: entry.contentType }), secret: true, value: entry.value }
      : entry.contentType === "text/plain"
        ? entry.value
        : { contentType: entry.contentType, value: entry.value };
  }
  const content = { namespace: file.namespace ?? "default", service: file.service ?? "", profile: file.profile ?? "", values };
  if (format === "json") return `${JSON.stringify(content, null, 2)}\n`;
  return stringify(content, { lineWidth: 0 });
}

/** yaml for .yaml/.yml, json for .json, else undefined. */
export function formatOfFile(fileName: string): FileFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "yaml";
  return undefined;
}
