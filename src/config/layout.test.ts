import { describe, expect, it } from "vitest";
import { createConfigLayout, decodeRecord, encodeRecord, historyRevision, toConfigVersion } from "./layout.js";

describe("config layout", () => {
  const layout = createConfigLayout("/sb/");

  it("builds and parses value keys with _ for empty service and profile", () => {
    const key = layout.valueKey({ namespace: "shop", service: "", profile: "prod" }, "db.url");
    expect(key).toBe("/sb/config/shop/_/prod/db.url");
    expect(layout.parseValueKey(key)).toEqual({ scope: { namespace: "shop", service: "", profile: "prod" }, key: "db.url" });
    expect(layout.parseValueKey("/sb/config-history/shop/_/prod/db.url/1")).toBeUndefined();
    expect(layout.parseValueKey("/sb/config/shop/_/prod/")).toBeUndefined();
    expect(layout.scopePrefix({ namespace: "shop", service: "orders", profile: "" })).toBe("/sb/config/shop/orders/_/");
  });

  it("puts history beside, not under, the values and keeps keys apart", () => {
    const scope = { namespace: "n", service: "s", profile: "" };
    const history = layout.newHistoryKey(scope, "a", new Date(5));
    expect(history).toMatch(/^\/sb\/config-history\/n\/s\/_\/a\/0000000000000005-[0-9a-f]{8}$/);
    expect(history.startsWith(layout.historyPrefix(scope, "a"))).toBe(true);
    expect(history.startsWith(layout.historyPrefix(scope, "a.b"))).toBe(false);
    expect(history.startsWith(layout.valuesRoot)).toBe(false);
  });

  it("round-trips records and rejects what is not one", () => {
    const record = {
      value: '{"a":\n"x"}\n',
      contentType: "application/json" as const,
      author: "me",
      updatedAt: "2024-01-01T00:00:00.000Z",
      deleted: false,
    };
    const bytes = encodeRecord(record);
    expect(decodeRecord(bytes)).toEqual(record);
    // Raw value after one metadata line: no escaping.
    expect(new TextDecoder().decode(bytes).endsWith('\n{"a":\n"x"}\n')).toBe(true);
    expect(decodeRecord(new TextEncoder().encode("plain text"))).toBeUndefined();
    expect(decodeRecord(new TextEncoder().encode("[1]\nx"))).toBeUndefined();
    expect(decodeRecord(new TextEncoder().encode('{"author":"x"}\nvalue'))).toBeUndefined();
  });

  it("keeps a rewritten history record's revision: the write's, not the rewrite's", () => {
    const base = { contentType: "text/plain" as const, author: "a", updatedAt: new Date(0).toISOString(), deleted: false };
    const kv = (record: Parameters<typeof encodeRecord>[0], modRevision: number) => ({
      key: "/sb/config-history/n/s/_/a/1",
      value: encodeRecord(record),
      modRevision,
      createRevision: 1,
      version: 1,
      lease: "0",
    });
    const original = kv({ ...base, value: "sb1:k1:x", secret: true }, 7);
    expect(historyRevision(original)).toBe(7);
    const resealed = kv({ ...base, value: "sb1:k2:y", secret: true, revision: 7 }, 42);
    expect(historyRevision(resealed)).toBe(7);
    expect(toConfigVersion(resealed, decodeRecord(resealed.value)!).revision).toBe(7);
    expect(historyRevision({ ...original, value: new TextEncoder().encode("no metadata line") })).toBe(7);
  });
});
