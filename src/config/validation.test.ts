import { describe, expect, it } from "vitest";
import { fieldOf } from "../../test/support/invalid-argument.js";
import { MAX_VALUE_BYTES, normalizeContentType, normalizeScope, validateKey, validateValue } from "./validation.js";

describe("normalizeScope", () => {
  it("defaults the namespace and keeps empty service and profile", () => {
    expect(normalizeScope(undefined, "scope.")).toEqual({ namespace: "default", service: "", profile: "" });
    expect(normalizeScope({ namespace: "shop", service: "orders", profile: "prod" }, "")).toEqual({
      namespace: "shop",
      service: "orders",
      profile: "prod",
    });
  });

  it("names the offending field", () => {
    expect(fieldOf(() => normalizeScope({ namespace: "Shop" }, "scope."))).toBe("scope.namespace");
    expect(fieldOf(() => normalizeScope({ service: "orders_v2" }, "scope."))).toBe("scope.service");
    expect(fieldOf(() => normalizeScope({ profile: "-prod" }, ""))).toBe("profile");
    expect(fieldOf(() => normalizeScope({ profile: "a".repeat(64) }, ""))).toBe("profile");
    expect(fieldOf(() => normalizeScope({ service: "a/b" }, ""))).toBe("service");
  });
});

describe("validateKey", () => {
  it("accepts the documented alphabet", () => {
    for (const key of ["db.pool-size", "A_B", "_x", "x".repeat(256), "9"]) expect(() => validateKey("key", key)).not.toThrow();
  });

  it("rejects empty, long, leading dot or dash, slashes and spaces", () => {
    for (const key of ["", "x".repeat(257), ".a", "-a", "a/b", "a b", "ü"]) {
      expect(fieldOf(() => validateKey("entries[2].key", key))).toBe("entries[2].key");
    }
  });
});

describe("content types and values", () => {
  it("normalizes content types", () => {
    expect(normalizeContentType("content_type", "")).toBe("text/plain");
    expect(normalizeContentType("content_type", " Application/JSON ")).toBe("application/json");
    expect(fieldOf(() => normalizeContentType("content_type", "text/html"))).toBe("content_type");
  });

  it("checks JSON and YAML parse", () => {
    expect(() => validateValue("value", '{"a":1}', "application/json")).not.toThrow();
    expect(fieldOf(() => validateValue("value", "{a:1}", "application/json"))).toBe("value");
    expect(() => validateValue("value", "a: 1\nb: [x, y]\n", "application/yaml")).not.toThrow();
    expect(fieldOf(() => validateValue("value", "a: [1", "application/yaml"))).toBe("value");
    expect(fieldOf(() => validateValue("value", "a: 1\n---\nb: 2\n", "application/yaml"))).toBe("value");
    expect(() => validateValue("value", "{not json", "text/plain")).not.toThrow();
  });

  it("limits values to 512 KiB of UTF-8", () => {
    expect(() => validateValue("value", "x".repeat(MAX_VALUE_BYTES), "text/plain")).not.toThrow();
    expect(fieldOf(() => validateValue("value", "x".repeat(MAX_VALUE_BYTES + 1), "text/plain"))).toBe("value");
    // 2 bytes per character in UTF-8
    expect(fieldOf(() => validateValue("value", "é".repeat(MAX_VALUE_BYTES / 2 + 1), "text/plain"))).toBe("value");
  });
});
