import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../errors.js";
import { allows, allowsSomewhere, describeAccessScope, parseGrant } from "./grants.js";
import type { Grant } from "./grants.js";

describe("allows", () => {
  const orders: Grant = { namespace: "shop", service: "orders", role: "register" };

  it("limits a service grant to that service, and never to the whole namespace", () => {
    expect(allows([orders], "register", { namespace: "shop", service: "orders" })).toBe(true);
    expect(allows([orders], "register", { namespace: "shop", service: "payments" })).toBe(false);
    expect(allows([orders], "register", { namespace: "shop" })).toBe(false);
    expect(allows([orders], "register", { namespace: "other", service: "orders" })).toBe(false);
  });

  it("gives a namespace grant every service of it, and a * grant every namespace, including requests over all namespaces", () => {
    const shop: Grant = { namespace: "shop", role: "read" };
    expect(allows([shop], "read", { namespace: "shop", service: "x" })).toBe(true);
    expect(allows([shop], "read", { namespace: "shop" })).toBe(true);
    expect(allows([shop], "read", {})).toBe(false);
    const all: Grant = { namespace: "*", role: "read" };
    expect(allows([all], "read", {})).toBe(true);
    expect(allows([all], "read", { namespace: "any", service: "x" })).toBe(true);
  });

  it("lets admin do everything, read-secrets read, and nothing else imply anything", () => {
    const scope = { namespace: "shop", service: "orders" };
    const permissions = ["read", "register", "write", "read-secrets", "admin"] as const;
    const table = Object.fromEntries(
      permissions.map((role) => [role, permissions.filter((p) => allows([{ namespace: "shop", role }], p, scope))]),
    );
    expect(table).toEqual({
      read: ["read"],
      register: ["register"],
      write: ["write"],
      "read-secrets": ["read", "read-secrets"],
      admin: ["read", "register", "write", "read-secrets", "admin"],
    });
  });

  it("allowsSomewhere asks only for the role", () => {
    expect(allowsSomewhere([{ namespace: "a", service: "b", role: "register" }], "register")).toBe(true);
    expect(allowsSomewhere([{ namespace: "a", role: "read" }], "register")).toBe(false);
  });

  it("describes scopes for messages", () => {
    expect([
      describeAccessScope({}),
      describeAccessScope({ namespace: "shop" }),
      describeAccessScope({ namespace: "shop", service: "o" }),
    ]).toEqual(["*", "shop/*", "shop/o"]);
  });
});

describe("parseGrant", () => {
  it("reads role@namespace[/service]", () => {
    expect(parseGrant("admin@*")).toEqual({ role: "admin", namespace: "*" });
    expect(parseGrant("register@shop/orders")).toEqual({ role: "register", namespace: "shop", service: "orders" });
    expect(parseGrant("read@shop/*")).toEqual({ role: "read", namespace: "shop" });
  });

  it.each([
    ["reader@shop", "grant.role: expected one of read, register, write, read-secrets, admin"],
    ["read@Shop", 'grant.namespace: expected "*" or a DNS-1123 label, got "Shop"'],
    ["read@*/orders", 'grant.service: a service needs a namespace, not "*"'],
    ["read", 'grant: expected role@namespace[/service], got "read"'],
  ])("rejects %s", (text, message) => {
    const error = (() => {
      try {
        return parseGrant(text);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toBe(message);
  });
});
