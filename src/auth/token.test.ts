import { describe, expect, it } from "vitest";
import { hashSecret, newToken, parseToken, verifySecret } from "./token.js";

describe("tokens", () => {
  it("are <id>.<secret> with a 256-bit secret, of which only the hash is kept", () => {
    const { token, id, secretHash } = newToken();
    const parsed = parseToken(token)!;
    expect(parsed.id).toBe(id);
    expect(Buffer.from(parsed.secret, "base64url")).toHaveLength(32);
    expect(secretHash).toBe(hashSecret(parsed.secret));
    expect(secretHash).not.toContain(parsed.secret);
    expect(verifySecret(parsed.secret, secretHash)).toBe(true);
    expect(verifySecret(`${parsed.secret.slice(0, -1)}A`, secretHash)).toBe(parsed.secret.endsWith("A"));
  });

  it("rejects malformed tokens", () => {
    for (const text of [
      "",
      "abc",
      "abcdefgh.",
      ".secretsecretsecretsecretsecretsecret",
      "ABCDEFGH.secretsecretsecretsecretsecretsecret",
      "abcdefgh.short",
    ]) {
      expect(parseToken(text), text).toBeUndefined();
    }
    expect(parseToken("abcdefgh.secretsecretsecretsecretsecretsecret")).toEqual({
      id: "abcdefgh",
      secret: "secretsecretsecretsecretsecretsecret",
    });
  });
});
