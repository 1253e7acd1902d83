import { describe, expect, it } from "vitest";
import { rendezvousOwner } from "./rendezvous.js";

describe("rendezvousOwner", () => {
  const keys = Array.from({ length: 3000 }, (_, i) => `default/orders/i-${i}`);

  it("is undefined without replicas and deterministic with them", () => {
    expect(rendezvousOwner("k", [])).toBeUndefined();
    expect(rendezvousOwner("k", ["a", "b", "c"])).toBe(rendezvousOwner("k", ["c", "a", "b"]));
  });

  it("spreads keys roughly evenly", () => {
    const counts = new Map<string, number>();
    for (const k of keys) {
      const owner = rendezvousOwner(k, ["r1", "r2", "r3"])!;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const n of counts.values()) expect(n).toBeGreaterThan(800);
  });

  it("moves only the leaving replica's keys", () => {
    for (const k of keys) {
      const before = rendezvousOwner(k, ["r1", "r2", "r3"]);
      const after = rendezvousOwner(k, ["r1", "r3"]);
      if (before !== "r2") expect(after).toBe(before);
      else expect(after === "r1" || after === "r3").toBe(true);
    }
  });
});
