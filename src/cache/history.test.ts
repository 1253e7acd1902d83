import { describe, expect, it } from "vitest";
import type { WatchBatch } from "../store/index.js";
import { HistoryWindow } from "./history.js";

function batch(revision: number, key: string): WatchBatch {
  return { revision, events: [{ type: "delete", key, modRevision: revision }] };
}

describe("HistoryWindow", () => {
  it("answers the batches after a revision, filtered by prefix", () => {
    const window = new HistoryWindow(100);
    window.reset(10);
    window.push(batch(11, "/a/1"));
    window.push(batch(12, "/b/1"));
    window.push(batch(13, "/a/2"));
    expect(window.since("/a/", 10)?.map((b) => b.revision)).toEqual([11, 13]);
    expect(window.since("/a/", 11)?.map((b) => b.revision)).toEqual([13]);
    expect(window.since("/", 13)).toEqual([]);
    expect(window.since("/", 9)).toBeUndefined();
  });

  it("moves its floor as old batches fall out", () => {
    const window = new HistoryWindow(3);
    window.reset(0);
    for (let revision = 1; revision <= 10; revision++) window.push(batch(revision, "/k"));
    expect(window.since("/", 6)).toBeUndefined();
    expect(window.since("/", 7)?.map((b) => b.revision)).toEqual([8, 9, 10]);
  });
});

describe("HistoryWindow as a ring", () => {
  it("never holds more than its limit, and answers in order across many wraps", () => {
    const window = new HistoryWindow<{ revision: number }>(4);
    window.reset(0);
    for (let revision = 1; revision <= 103; revision++) {
      window.push({ revision });
      expect(window.size).toBe(Math.min(revision, 4));
    }
    expect(window.floor).toBe(99);
    expect(window.after(98)).toBeUndefined();
    for (let since = 99; since <= 103; since++) {
      expect(window.after(since)?.map((e) => e.revision)).toEqual(Array.from({ length: 103 - since }, (_, i) => since + 1 + i));
    }
  });

  it("starts empty again after a reset, at any position of the ring", () => {
    const window = new HistoryWindow<{ revision: number }>(3);
    for (let revision = 1; revision <= 5; revision++) window.push({ revision });
    window.reset(20);
    expect(window.size).toBe(0);
    expect(window.after(19)).toBeUndefined();
    window.push({ revision: 22 });
    window.push({ revision: 23 });
    expect(window.after(20)?.map((e) => e.revision)).toEqual([22, 23]);
    expect(window.after(22)?.map((e) => e.revision)).toEqual([23]);
  });

  it("keeps nothing with a limit of 0: every resume is a reset", () => {
    const window = new HistoryWindow<{ revision: number }>(0);
    window.reset(1);
    window.push({ revision: 2 });
    expect(window.size).toBe(0);
    expect(window.after(1)).toBeUndefined();
    expect(window.after(2)).toEqual([]);
  });
});

describe("HistoryWindow of any entry with a revision", () => {
  it("answers the entries after a revision, and nothing before its floor", () => {
    const window = new HistoryWindow<{ revision: number; name: string }>(2);
    window.reset(4);
    expect(window.after(4)).toEqual([]);
    expect(window.after(3)).toBeUndefined();
    window.push({ revision: 5, name: "a" });
    window.push({ revision: 7, name: "b" });
    window.push({ revision: 9, name: "c" });
    expect(window.floor).toBe(5);
    expect(window.after(5)?.map((e) => e.name)).toEqual(["b", "c"]);
    expect(window.after(6)?.map((e) => e.name)).toEqual(["b", "c"]);
    expect(window.after(9)).toEqual([]);
    expect(window.after(4)).toBeUndefined();
  });
});
