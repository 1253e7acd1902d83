import { describe, expect, it } from "vitest";
import type { KeyValue } from "../store/index.js";
import { KeyIndex } from "./key-index.js";

function kv(key: string, modRevision = 1): KeyValue {
  return { key, value: new Uint8Array(), createRevision: modRevision, modRevision, version: 1, lease: "0" };
}

describe("KeyIndex", () => {
  it("lists a directory and its subtree in key order", () => {
    const index = new KeyIndex();
    for (const key of ["/r/i/ns/b/2", "/r/i/ns/a/1", "/r/i/ns/b/1", "/r/i/other/x/1", "/r/c/ns/k"]) index.set(kv(key));
    expect(index.list("/r/i/ns/b/").map((e) => e.key)).toEqual(["/r/i/ns/b/1", "/r/i/ns/b/2"]);
    expect(index.list("/r/i/").map((e) => e.key)).toEqual(["/r/i/ns/a/1", "/r/i/ns/b/1", "/r/i/ns/b/2", "/r/i/other/x/1"]);
    expect(index.list("/r/i/ns/b/1").map((e) => e.key)).toEqual(["/r/i/ns/b/1"]);
    expect(index.list("/r/missing/")).toEqual([]);
    expect(index.size).toBe(5);
  });

  it("replaces, deletes and refreshes cached listings", () => {
    const index = new KeyIndex();
    index.set(kv("/r/a/1", 1));
    expect(index.list("/r/").map((e) => e.modRevision)).toEqual([1]);
    index.set(kv("/r/a/1", 2));
    index.set(kv("/r/a/2", 3));
    expect(index.list("/r/").map((e) => e.modRevision)).toEqual([2, 3]);
    expect(index.delete("/r/a/1")?.modRevision).toBe(2);
    expect(index.delete("/r/a/1")).toBeUndefined();
    expect(index.get("/r/a/2")?.modRevision).toBe(3);
    expect(index.list("/r/").map((e) => e.key)).toEqual(["/r/a/2"]);
    expect(index.size).toBe(1);
  });

  it("prunes empty directories", () => {
    const index = new KeyIndex();
    index.set(kv("/r/a/b/c/1"));
    index.delete("/r/a/b/c/1");
    expect(index.list("/")).toEqual([]);
    expect(index.size).toBe(0);
    // @ts-expect-error reaching into the private root to prove nothing is left behind
    expect(index.root.children.size).toBe(0);
  });
});
