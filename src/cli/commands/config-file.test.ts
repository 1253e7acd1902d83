import { describe, expect, it } from "vitest";
import { ConfigFileError, formatOfFile, parseScopeFile, serializeScopeFile } from "./config-file.js";
import type { ScopeFile } from "./config-file.js";

describe("config import/export file", () => {
  it("reads strings, scalars, explicit content types and structured values", () => {
    const file = parseScopeFile(
      [
        "namespace: shop",
        "service: orders",
        "values:",
        "  db.url: postgres://db/orders",
        "  db.pool-size: 10",
        "  debug: false",
        "  features:",
        "    contentType: application/yaml",
        "    value: |",
        "      beta: true",
        "  limits: {rps: 100}",
        '  empty: ""',
      ].join("\n"),
    );
    expect(file.namespace).toBe("shop");
    expect(file.service).toBe("orders");
    expect(file.profile).toBeUndefined();
    expect(file.entries).toEqual([
      { key: "db.url", value: "postgres://db/orders", contentType: "text/plain" },
      { key: "db.pool-size", value: "10", contentType: "text/plain" },
      { key: "debug", value: "false", contentType: "text/plain" },
      { key: "features", value: "beta: true\n", contentType: "application/yaml" },
      { key: "limits", value: '{"rps":100}', contentType: "application/json" },
      { key: "empty", value: "", contentType: "text/plain" },
    ]);
  });

  it("round-trips through YAML and JSON exactly", () => {
    const file: ScopeFile = {
      namespace: "shop",
      service: "",
      profile: "prod",
      entries: [
        { key: "a", value: "multi\nline\n  indented\n", contentType: "text/plain" },
        { key: "b", value: '{"x": [1, 2]}', contentType: "application/json" },
        { key: "c", value: "k: v\n", contentType: "application/yaml" },
        { key: "d", value: "10", contentType: "text/plain" },
        { key: "e", value: "true", contentType: "text/plain" },
        { key: "f", value: "", contentType: "text/plain" },
        { key: "g", value: "- not a list", contentType: "text/plain" },
      ],
    };
    for (const format of ["yaml", "json"] as const) {
      const back = parseScopeFile(serializeScopeFile(file, format));
      expect(back).toEqual({ ...file, service: "" });
    }
  });

  it("rejects what is not the format", () => {
    expect(() => parseScopeFile("a: [1")).toThrow(ConfigFileError);
    expect(() => parseScopeFile("- 1")).toThrow(/values/);
    expect(() => parseScopeFile("namespace: x")).toThrow(/missing "values"/);
    expect(() => parseScopeFile("values: [1]")).toThrow(/mapping/);
    expect(() => parseScopeFile("values:\n  k:\n")).toThrow(/values\.k/);
  });

  it("names unknown fields instead of ignoring them or storing them as data", () => {
    expect(() => parseScopeFile("servce: orders\nvalues:\n  a: b\n", "f.yaml")).toThrow(
      'f.yaml: unknown field "servce" (expected namespace, service, profile, values)',
    );
    expect(() => parseScopeFile("values:\n  features:\n    contentTyp: application/json\n    value: '{}'\n", "f.yaml")).toThrow(
      'f.yaml: values.features: unknown field "contentTyp" (expected value, contentType and secret)',
    );
    expect(() => parseScopeFile("values:\n  features:\n    contentType: application/json\n", "f.yaml")).toThrow(
      "f.yaml: values.features.value: expected a string, missing",
    );
    expect(parseScopeFile("values:\n  size: {value: 20}\n").entries).toEqual([
      { key: "size", value: "20", contentType: "text/plain" },
    ]);
  });

  it("knows formats by extension", () => {
    expect(formatOfFile("x.YML")).toBe("yaml");
    expect(formatOfFile("x.json")).toBe("json");
    expect(formatOfFile("x.txt")).toBeUndefined();
  });
});
