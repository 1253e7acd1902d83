import { describe, expect, it } from "vitest";
import { FakeCache } from "../../test/support/fake-cache.js";
import { UnauthenticatedError } from "../errors.js";
import type { Store } from "../store/index.js";
import { hashSecret } from "./token.js";
import { createTokenStore } from "./token-store.js";

const PREFIX = "/switchboard/";
const ID = "abcdef0123456789";
const SECRET = "s".repeat(43);
const BEARER = `${ID}.${SECRET}`;

function setup(expiresAt?: number) {
  let clock = 1_000;
  const cache = new FakeCache();
  const tokens = createTokenStore({ store: {} as Store, cache, prefix: PREFIX, now: () => clock });
  const key = `${PREFIX}auth/tokens/${ID}`;
  const put = (secret = SECRET) =>
    cache.put(
      key,
      Buffer.from(
        JSON.stringify({
          id: ID,
          secretHash: hashSecret(secret),
          description: "",
          grants: [{ namespace: "*", role: "read" }],
          createdAt: 0,
          expiresAt,
        }),
      ),
    );
  return { cache, tokens, key, put, advance: (ms: number) => (clock += ms) };
}

// The store remembers bearer strings that verified; these check that it never answers from memory what the store no longer says.
describe("token store: verified bearer tokens", () => {
  it("refuses a token revoked after it was verified", () => {
    const { cache, tokens, key, put } = setup();
    put();
    expect(tokens.authenticate(BEARER).id).toBe(ID);
    expect(tokens.authenticate(BEARER).id).toBe(ID);
    cache.delete(key);
    expect(() => tokens.authenticate(BEARER)).toThrow(new UnauthenticatedError("unknown or revoked token"));
  });

  it("refuses a token that expires after it was verified", () => {
    const { tokens, put, advance } = setup(5_000);
    put();
    expect(tokens.authenticate(BEARER).id).toBe(ID);
    advance(4_000);
    expect(() => tokens.authenticate(BEARER)).toThrow(new UnauthenticatedError(`token ${ID} has expired`));
  });

  it("re-checks a token whose record was rewritten (another secret under the same id)", () => {
    const { tokens, put } = setup();
    put();
    expect(tokens.authenticate(BEARER).id).toBe(ID);
    put("t".repeat(43));
    expect(() => tokens.authenticate(BEARER)).toThrow(new UnauthenticatedError("unknown or revoked token"));
    expect(tokens.authenticate(`${ID}.${"t".repeat(43)}`).id).toBe(ID);
  });

  it("forgets everything on a cache reset (a relist may have missed a revocation)", () => {
    const { cache, tokens, key, put } = setup();
    put();
    expect(tokens.authenticate(BEARER).id).toBe(ID);
    cache.reset((kvs) => kvs.delete(key));
    expect(() => tokens.authenticate(BEARER)).toThrow(new UnauthenticatedError("unknown or revoked token"));
  });

  it("never remembers a wrong secret", () => {
    const { tokens, put } = setup();
    put();
    const wrong = `${ID}.${"x".repeat(43)}`;
    expect(() => tokens.authenticate(wrong)).toThrow(UnauthenticatedError);
    expect(() => tokens.authenticate(wrong)).toThrow(UnauthenticatedError);
    expect(tokens.authenticate(BEARER).id).toBe(ID);
  });
});
