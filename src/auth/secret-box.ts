/**
 * AES-256-GCM for secret config values. Each sealed value names the key that
 * sealed it, so keys can rotate: the newest key seals, every key opens.
 *
 *   const box = createSecretBox(parseSecretKeys(await readFile(file, "utf8")));
 *   const sealed = box.seal("postgres://user:pw@db");   // "sb1:<keyId>:<iv>:<tag>:<ciphertext>" (base64url)
 *   box.open(sealed);                                     // the plaintext
 *
 * Key file: one key per line, `<id> <base64 of 32 bytes>` (oldest first, the
 * last line seals); blank lines and lines starting with # are ignored. Make a
 * key with `echo "k2 $(openssl rand -base64 32)" >> secret.keys`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

export interface SecretKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

export interface SecretBox {
  /** Id of the key that seals. */
  readonly currentKeyId: string;
  seal(plaintext: string): string;
  /** Throws SecretKeyError when the key is unknown or the value was tampered with. */
  open(sealed: string): string;
  /** The key id a sealed value names, or undefined when it is not a sealed value. */
  keyIdOf(sealed: string): string | undefined;
}

/** A sealed value cannot be opened (unknown key, damaged value). The message never holds the value. */
export class SecretKeyError extends Error {
  override name = "SecretKeyError";
}

const VERSION = "sb1";
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export function parseSecretKeys(text: string, source = "secret key file"): SecretKey[] {
  const keys: SecretKey[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [id, encoded, extra] = line.split(/\s+/);
    const key = encoded === undefined ? Buffer.alloc(0) : Buffer.from(encoded, "base64");
    if (!id || !KEY_ID.test(id) || key.length !== 32 || extra !== undefined) {
      throw new Error(`${source} line ${index + 1}: expected "<id> <base64 of 32 bytes>" (id of [A-Za-z0-9_-], at most 32)`);
    }
    if (keys.some((k) => k.id === id)) throw new Error(`${source} line ${index + 1}: duplicate key id "${id}"`);
    keys.push({ id, key });
  });
  if (keys.length === 0) throw new Error(`${source}: no keys`);
  return keys;
}

export function createSecretBox(keys: readonly SecretKey[]): SecretBox {
  const current = keys[keys.length - 1];
  if (!current) throw new Error("createSecretBox: no keys");
  const byId = new Map(keys.map((k) => [k.id, k.key]));

  return {
    currentKeyId: current.id,
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current.key, iv);
      // The key id is authenticated too: a value cannot be relabelled to another key.
      cipher.setAAD(Buffer.from(current.id));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return [
        VERSION,
        current.id,
        iv.toString("base64url"),
        cipher.getAuthTag().toString("base64url"),
        ciphertext.toString("base64url"),
      ].join(":");
    },
    open(sealed) {
      const parts = sealed.split(":");
      if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretKeyError("not a sealed secret value");
      const [, id, iv, tag, ciphertext] = parts as [string, string, string, string, string];
      const key = byId.get(id);
      if (!key) throw new SecretKeyError(`secret value sealed with key "${id}", which is not in the key file`);
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
        decipher.setAAD(Buffer.from(id));
        decipher.setAuthTag(Buffer.from(tag, "base64url"));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
      } catch {
        throw new SecretKeyError(
          `secret value sealed with key "${id}" does not authenticate (damaged, or a different key with that id)`,
        );
      }
    },
    keyIdOf(sealed) {
      const parts = sealed.split(":");
      return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
    },
  };
}
