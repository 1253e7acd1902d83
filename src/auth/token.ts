/**
 * Bearer tokens: `<id>.<secret>`. The id finds the record; only a SHA-256
 * hash of the secret is stored, compared in constant time.
 *
 *   const { token, id, secretHash } = newToken();   // token is shown once
 *   const parsed = parseToken(header);              // undefined when malformed
 *   verifySecret(parsed.secret, record.secretHash);
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Grant } from "./grants.js";

const ID = /^[a-z0-9]{8,64}$/;
const SECRET = /^[A-Za-z0-9_-]{32,256}$/;

/** What the store keeps of a token (never its secret). */
export interface TokenRecord {
  id: string;
  /** Hex SHA-256 of the secret. */
  secretHash: string;
  description: string;
  grants: Grant[];
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch; undefined: never expires. */
  expiresAt?: number;
  /** Made from --auth-bootstrap-token-file. */
  bootstrap?: boolean;
}

export interface ParsedToken {
  id: string;
  secret: string;
}

/** A fresh token: 64-bit id, 256-bit secret. */
export function newToken(): { token: string; id: string; secretHash: string } {
  const id = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { token: `${id}.${secret}`, id, secretHash: hashSecret(secret) };
}

/** Splits `<id>.<secret>`; undefined when the text is not a well-formed token. */
export function parseToken(text: string): ParsedToken | undefined {
  const dot = text.indexOf(".");
  if (dot < 0) return undefined;
  const id = text.slice(0, dot);
  const secret = text.slice(dot + 1);
  return ID.test(id) && SECRET.test(secret) ? { id, secret } : undefined;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

export function verifySecret(secret: string, secretHash: string): boolean {
  const actual = createHash("sha256").update(secret).digest();
  const expected = Buffer.from(secretHash, "hex");
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

/** The format rule, for error messages and docs. */
export const TOKEN_FORMAT =
  '<id>.<secret>: id 8..64 of [a-z0-9], secret 32..256 of [A-Za-z0-9_-] (e.g. `echo "$(openssl rand -hex 8).$(openssl rand -hex 32)"`)';
