import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox, parseSecretKeys, SecretKeyError } from "./secret-box.js";

const keyLine = (id: string) => `${id} ${randomBytes(32).toString("base64")}`;

describe("secret box", () => {
  it("seals with the newest key, opens with any, and never shows the plaintext", () => {
    const oldKeys = parseSecretKeys(keyLine("k1"));
    const rotated = parseSecretKeys(
      `# keys\n${keyLine("k0")}\n\n${oldKeys.map((k) => `${k.id} ${k.key.toString("base64")}`).join("")}\n${keyLine("k2")}\n`,
    );
    const before = createSecretBox(oldKeys);
    const after = createSecretBox(rotated);
    const sealed = before.seal("hunter2-password");
    expect(sealed).not.toContain("hunter2");
    expect(before.keyIdOf(sealed)).toBe("k1");
    expect(after.open(sealed)).toBe("hunter2-password");
    expect(after.keyIdOf(after.seal("x"))).toBe("k2");
    expect(before.seal("same")).not.toBe(before.seal("same"));
  });

  it("refuses unknown keys, tampering and relabelling, without the value in the message", () => {
    const box = createSecretBox(parseSecretKeys(`${keyLine("a")}\n${keyLine("b")}`));
    const sealed = box.seal("top-secret");
    const other = createSecretBox(parseSecretKeys(keyLine("c")));
    expect(() => other.open(sealed)).toThrow(
      new SecretKeyError('secret value sealed with key "b", which is not in the key file'),
    );
    const parts = sealed.split(":");
    const relabelled = [parts[0], "a", ...parts.slice(2)].join(":");
    expect(() => box.open(relabelled)).toThrow(SecretKeyError);
    const tampered = [...parts.slice(0, 4), Buffer.from("x").toString("base64url")].join(":");
    expect(() => box.open(tampered)).toThrow(SecretKeyError);
    expect(() => box.open("plain text")).toThrow("not a sealed secret value");
  });

  it("rejects malformed key files", () => {
    expect(() => parseSecretKeys("")).toThrow("secret key file: no keys");
    expect(() => parseSecretKeys("k1 c2hvcnQ=")).toThrow('secret key file line 1: expected "<id> <base64 of 32 bytes>"');
    expect(() => parseSecretKeys(`${keyLine("k1")}\n${keyLine("k1")}`)).toThrow('line 2: duplicate key id "k1"');
  });
});
