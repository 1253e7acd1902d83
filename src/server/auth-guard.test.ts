import { Metadata } from "nice-grpc";
import type { CallContext } from "nice-grpc-common";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeCache } from "../../test/support/fake-cache.js";
import { createQuotas, createTokenStore } from "../auth/index.js";
import type { Grant } from "../auth/index.js";
import { hashSecret } from "../auth/token.js";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.js";
import type { Store } from "../store/index.js";
import { createAuthGuard } from "./auth-guard.js";
import type { CertificateIdentity } from "./auth-guard.js";
import { createLeaseScopes } from "./lease-scopes.js";

const PREFIX = "/switchboard/";
const SECRET = "s".repeat(43);
const REGISTER = "/switchboard.registry.v1.RegistryService/Register";
const WATCH = "/switchboard.registry.v1.RegistryService/Watch";

function setup(
  options: { certificateIdentity?: CertificateIdentity; certificateGrants?: Map<string, Grant[]>; now?: () => number } = {},
) {
  const cache = new FakeCache();
  // The guard only reads tokens (through the cache); writes go through AuthService, not tested here.
  const tokens = createTokenStore({ store: {} as Store, cache, prefix: PREFIX, now: options.now });
  const guard = createAuthGuard({
    tokens,
    leaseScopes: createLeaseScopes(cache, PREFIX),
    quotas: createQuotas(),
    ...options,
  });
  const addToken = (id: string, grants: Grant[], expiresAt?: number) =>
    cache.put(
      `${PREFIX}auth/tokens/${id}`,
      Buffer.from(JSON.stringify({ id, secretHash: hashSecret(SECRET), description: "", grants, createdAt: 0, expiresAt })),
    );
  return { cache, guard, addToken };
}

function context(metadata: Record<string, string> = {}, peer = "ipv4:127.0.0.1:5000"): CallContext {
  return {
    metadata: Metadata(metadata),
    peer,
    header: Metadata(),
    trailer: Metadata(),
    signal: new AbortController().signal,
    sendHeader() {},
  } as unknown as CallContext;
}

const register = (service: string) => ({ instance: { namespace: "shop", service, address: "10.0.0.1", port: 80 } });

describe("auth guard", () => {
  it("binds a client certificate identity to its grants when the call carries no token", () => {
    const identity: CertificateIdentity = (ctx) => (ctx.peer === "cert-peer" ? "spiffe://example.org/orders" : undefined);
    const { guard, addToken } = setup({
      certificateIdentity: identity,
      certificateGrants: new Map([["spiffe://example.org/orders", [{ namespace: "shop", service: "orders", role: "register" }]]]),
    });

    const allowed = guard.begin(REGISTER, context({}, "cert-peer"), false, false);
    allowed.check(register("orders"));
    expect(allowed.caller?.identity).toBe("cert:spiffe://example.org/orders");

    expect(() => guard.begin(REGISTER, context({}, "cert-peer"), false, false).check(register("payments"))).toThrow(
      new PermissionDeniedError('permission "register" on shop/payments required'),
    );
    // No certificate, no token.
    expect(() => guard.begin(REGISTER, context({}, "plain-peer"), false, false).check(register("orders"))).toThrow(
      UnauthenticatedError,
    );

    // A token, when sent, wins over the certificate.
    addToken("abcdefgh", [{ namespace: "*", role: "read" }]);
    const withToken = guard.begin(REGISTER, context({ authorization: `Bearer abcdefgh.${SECRET}` }, "cert-peer"), false, false);
    expect(() => withToken.check(register("orders"))).toThrow(PermissionDeniedError);
    expect(withToken.caller?.identity).toBe("token:abcdefgh");
  });

  it("refuses a certificate identity that has no grants", () => {
    const { guard } = setup({ certificateIdentity: () => "CN=stranger", certificateGrants: new Map() });
    expect(() => guard.begin(REGISTER, context(), false, false).check(register("orders"))).toThrow(
      new UnauthenticatedError("client certificate identity has no grants"),
    );
  });

  it("aborts a stream's signal when its token is deleted, and says why", async () => {
    const { guard, addToken, cache } = setup();
    addToken("abcdefgh", [{ namespace: "shop", role: "read" }]);
    const call = guard.begin(WATCH, context({ authorization: `Bearer abcdefgh.${SECRET}` }), false, true);
    call.check({ namespace: "shop", service: "orders" });
    expect(call.signal?.aborted).toBe(false);
    cache.delete(`${PREFIX}auth/tokens/abcdefgh`);
    expect(call.signal?.aborted).toBe(true);
    expect(call.revoked()).toEqual(new UnauthenticatedError("token abcdefgh was revoked"));
    call.end("UNAUTHENTICATED");
  });

  it("aborts a stream when its token expires, and refuses the token afterwards", async () => {
    let now = Date.now();
    const { guard, addToken } = setup({ now: () => now });
    addToken("abcdefgh", [{ namespace: "shop", role: "read" }], now + 30);
    const call = guard.begin(WATCH, context({ authorization: `Bearer abcdefgh.${SECRET}` }), false, true);
    call.check({ namespace: "shop" });
    await new Promise<void>((resolve) => call.signal!.addEventListener("abort", () => resolve(), { once: true }));
    expect(call.revoked()).toEqual(new UnauthenticatedError("token abcdefgh has expired"));
    call.end("UNAUTHENTICATED");
    now += 60;
    expect(() =>
      guard.begin(WATCH, context({ authorization: `Bearer abcdefgh.${SECRET}` }), false, true).check({ namespace: "shop" }),
    ).toThrow(new UnauthenticatedError("token abcdefgh has expired"));
  });

  it("audits failures with the claimed token id, never the secret", () => {
    const lines: string[] = [];
    const auditLog = pino({ base: undefined }, { write: (line: string) => lines.push(line) });
    const cache = new FakeCache();
    const guard = createAuthGuard({
      tokens: createTokenStore({ store: {} as Store, cache, prefix: PREFIX }),
      leaseScopes: createLeaseScopes(cache, PREFIX),
      quotas: createQuotas(),
      auditLog,
    });
    const call = guard.begin(REGISTER, context({ authorization: `Bearer abcdefgh.${SECRET}` }), false, false);
    expect(() => call.check(register("orders"))).toThrow(UnauthenticatedError);
    call.end("UNAUTHENTICATED");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      who: "claimed-token:abcdefgh",
      rpc: REGISTER,
      namespace: "shop",
      service: "orders",
      code: "UNAUTHENTICATED",
      reason: "unknown or revoked token",
    });
    expect(lines[0]).not.toContain(SECRET);
  });
});
