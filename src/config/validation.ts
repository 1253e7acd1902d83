import { parseDocument } from "yaml";
import { DEFAULT_NAMESPACE } from "../contract.js";
import { InvalidArgumentError } from "../errors.js";
import { CONTENT_TYPES } from "./types.js";
import type { ContentType, Scope } from "./types.js";

/** DNS-1123 label: namespaces, services and profiles. */
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Config keys: 1..256 of [A-Za-z0-9._-], not starting with "." or "-" (see config.proto). */
const KEY = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,255}$/;

export const MAX_KEY_LENGTH = 256;
/** Largest value, in UTF-8 bytes. */
export const MAX_VALUE_BYTES = 512 * 1024;
export const MAX_AUTHOR_LENGTH = 256;
export { DEFAULT_NAMESPACE };

/** Checks a DNS-1123 label; empty is allowed only when optional. */
export function validateName(field: string, name: string, optional: boolean): void {
  if (name === "") {
    if (optional) return;
    throw new InvalidArgumentError(field, "must not be empty");
  }
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(
      field,
      `"${truncate(name)}" is not a DNS-1123 label (lower-case letters, digits and "-", 1..63 characters, starting and ending with a letter or digit)`,
    );
  }
}

/**
 * Validates and normalizes a scope or view selector: empty namespace becomes
 * "default"; service and profile may be empty. `prefix` is the request field
 * holding it ("scope." or "" for top-level fields).
 */
export function normalizeScope(scope: Partial<Scope> | undefined, prefix: string): Scope {
  const namespace = scope?.namespace || DEFAULT_NAMESPACE;
  const service = scope?.service ?? "";
  const profile = scope?.profile ?? "";
  validateName(`${prefix}namespace`, namespace, false);
  validateName(`${prefix}service`, service, true);
  validateName(`${prefix}profile`, profile, true);
  return { namespace, service, profile };
}

export function validateKey(field: string, key: string): void {
  if (key === "") throw new InvalidArgumentError(field, "must not be empty");
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidArgumentError(field, `is ${key.length} characters; at most ${MAX_KEY_LENGTH}`);
  }
  if (!KEY.test(key)) {
    throw new InvalidArgumentError(
      field,
      `"${truncate(key)}" may contain only A-Z a-z 0-9 "." "_" "-" and must not start with "." or "-"`,
    );
  }
}

/** Normalizes a declared content type ("" → text/plain); unknown types are rejected. */
export function normalizeContentType(field: string, contentType: string | undefined): ContentType {
  const normalized = (contentType ?? "").trim().toLowerCase();
  if (normalized === "") return "text/plain";
  const known = CONTENT_TYPES.find((type) => type === normalized);
  if (known === undefined) {
    throw new InvalidArgumentError(field, `"${truncate(normalized)}" is not one of ${CONTENT_TYPES.join(", ")}`);
  }
  return known;
}

/** Checks the size of a value and that it parses as its declared content type. */
export function validateValue(field: string, value: string, contentType: ContentType): void {
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > MAX_VALUE_BYTES) {
    throw new InvalidArgumentError(field, `is ${bytes} bytes; at most ${MAX_VALUE_BYTES} (512 KiB)`);
  }
  if (contentType === "application/json") {
    try {
      JSON.parse(value);
    } catch (error) {
      throw new InvalidArgumentError(field, `is not valid JSON: ${(error as Error).message}`);
    }
  } else if (contentType === "application/yaml") {
    const document = parseDocument(value, { prettyErrors: false });
    const first = document.errors[0];
    if (first !== undefined) {
      throw new InvalidArgumentError(field, `is not valid YAML: ${first.message.split("\n")[0]}`);
    }
  }
}

export function validateAuthor(field: string, author: string): void {
  if (author.length > MAX_AUTHOR_LENGTH) {
    throw new InvalidArgumentError(field, `is ${author.length} characters; at most ${MAX_AUTHOR_LENGTH}`);
  }
}

export function validateExpectedRevision(field: string, revision: number | undefined): void {
  if (revision === undefined) return;
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new InvalidArgumentError(field, "must be a revision >= 0");
  }
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
