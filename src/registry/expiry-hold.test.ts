import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import { FakeCache } from "../../test/support/fake-cache.js";
import { eventually } from "../../test/support/eventually.js";
import { testInstance } from "../../test/support/instances.js";
import { encodeInstance } from "./codec.js";
import { BASELINE_SECONDS, BURST_FACTOR, BURST_MIN_DELETIONS } from "./expiry-hold.js";
import { deregisteredMarkerKey, instanceKey } from "./keys.js";
import { createRegistryView, type RegistryView, type RevisionChanges, type ViewUpdate } from "./registry-view.js";

const PREFIX = "/sb/";
const logger = pino({ level: "silent" });
const views: RegistryView[] = [];
afterEach(() => {
  for (const view of views.splice(0)) view.close();
});

const keyOf = (id: string, service = "orders") => instanceKey(PREFIX, "default", service, id);
const put = (cache: FakeCache, id: string, partial: Partial<Instance> = {}) =>
  cache.put(keyOf(id, partial.service), encodeInstance(testInstance({ instanceId: id, ...partial })));

async function setup(instances: string[], holdMs: number, now?: () => number) {
  const cache = new FakeCache();
  for (const id of instances) put(cache, id);
  const view = createRegistryView({
    cache,
    prefix: PREFIX,
    logger,
    expiryHoldMs: holdMs,
    ...(now && { now }),
    // As the server does: a write outside instances/ brings the revision releases are applied at.
    requestRevision: async () => cache.put(`${PREFIX}holds/replica`, new Uint8Array([1])),
  });
  views.push(view);
  await view.ready;
  const changes: RevisionChanges[] = [];
  view.subscribe((update: ViewUpdate) => {
    if (update.type === "changes") changes.push(update.changes);
  });
  const events = () =>
    changes.flatMap((c) =>
      c.services.flatMap((s) =>
        s.changes.map((change) => {
          const kind = !change.beforeRoutable ? "added" : !change.afterRoutable ? "removed" : "updated";
          return `${kind} ${change.instanceId}`;
        }),
      ),
    );
  return { cache, view, events, ids: () => [...(view.service("default", "orders")?.instances.keys() ?? [])].sort() };
}

describe("expiry hold (Instance.held_until)", () => {
  it("removes a deleted instance at once in normal operation", async () => {
    const { cache, view, events, ids } = await setup(["a", "b", "c"], 10_000);
    cache.delete(keyOf("a"));
    expect(ids()).toEqual(["b", "c"]);
    expect(events()).toEqual(["removed a"]);
    expect(view.heldCount).toBe(0);
  });

  it("holds expiries after a store stall; a re-registration replaces the held instance with no removal", async () => {
    const { cache, view, events, ids } = await setup(["a", "b", "c", "d"], 10_000);
    view.noteStoreUnreachable();
    for (const id of ["a", "b", "c", "d"]) cache.delete(keyOf(id));
    expect(ids()).toEqual(["a", "b", "c", "d"]);
    const service = view.service("default", "orders")!;
    for (const instance of service.instances.values()) {
      expect(instance.heldUntil).toBeInstanceOf(Date);
      expect(service.isRoutable(instance)).toBe(true);
    }
    expect(view.heldCount).toBe(4);
    put(cache, "a", { address: "10.0.0.9" });
    expect(service.instances.get("a")!.heldUntil).toBeUndefined();
    expect(service.instances.get("a")!.address).toBe("10.0.0.9");
    expect(view.heldCount).toBe(3);
    // Past the settle time the share (4 of 4) still holds them.
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(ids()).toEqual(["a", "b", "c", "d"]);
    expect(events().filter((e) => e.startsWith("removed") || e.startsWith("added"))).toEqual([]);
  });

  it("removes held instances when the hold ends, at a new revision", async () => {
    const { cache, view, events, ids } = await setup(["a", "b"], 400);
    view.noteStoreUnreachable();
    cache.delete(keyOf("a"));
    cache.delete(keyOf("b"));
    expect(ids()).toEqual(["a", "b"]);
    await eventually(() => ids().length === 0, 5_000, "held instances released");
    expect(
      events()
        .filter((e) => e.startsWith("removed"))
        .sort(),
    ).toEqual(["removed a", "removed b"]);
    expect(view.heldCount).toBe(0);
  });

  it("releases expiries below the protection threshold share within the settle time", async () => {
    const { cache, view, ids } = await setup(["a", "b", "c", "d"], 10_000);
    view.noteStoreUnreachable();
    cache.delete(keyOf("a"));
    expect(ids()).toEqual(["a", "b", "c", "d"]);
    await eventually(() => ids().length === 3, 5_000, "a single expiry released");
    expect(ids()).toEqual(["b", "c", "d"]);
  });

  it("never holds instances that were not routable", async () => {
    const { cache, view, ids } = await setup([], 10_000);
    put(cache, "x", { state: 2 /* DRAINING */ });
    view.noteStoreUnreachable();
    cache.delete(keyOf("x"));
    expect(ids()).toEqual([]);
  });

  it("does nothing when disabled", async () => {
    const { cache, view, ids } = await setup(["a", "b"], 0);
    view.noteStoreUnreachable();
    cache.delete(keyOf("a"));
    expect(ids()).toEqual(["b"]);
  });

  describe("burst rule (no failed store ping)", () => {
    const ids20 = Array.from({ length: 20 }, (_, i) => `n${i}`);

    it("holds the expiries of a burst from the rule's threshold on; a re-registration causes no flap", async () => {
      const { cache, view, events, ids } = await setup(ids20, 10_000);
      // As etcd's lessor revokes leases after a stall: one deletion per revision, within a fraction of a second.
      for (const id of ids20.slice(0, 12)) cache.delete(keyOf(id));
      const removedFirst = BURST_MIN_DELETIONS - 1;
      expect(events().filter((e) => e.startsWith("removed"))).toEqual(ids20.slice(0, removedFirst).map((id) => `removed ${id}`));
      expect(view.heldCount).toBe(12 - removedFirst);
      const service = view.service("default", "orders")!;
      for (const id of ids20.slice(removedFirst, 12)) {
        expect(service.instances.get(id)!.heldUntil).toBeInstanceOf(Date);
        expect(service.isRoutable(service.instances.get(id)!)).toBe(true);
      }
      put(cache, "n6");
      expect(service.instances.get("n6")!.heldUntil).toBeUndefined();
      // 8 held of 20 counted when the first was held (16): 0.5 share, not above the default threshold 0.5.
      expect(events().filter((e) => e.includes(" n6"))).toEqual(["updated n6", "updated n6"]);
      expect(ids()).toContain("n6");
    });

    it("keeps a burst's instances when they pass the protection share", async () => {
      const { cache, view, events, ids } = await setup(ids20, 10_000);
      for (const id of ids20) cache.delete(keyOf(id));
      const held = 20 - (BURST_MIN_DELETIONS - 1);
      expect(view.heldCount).toBe(held);
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      expect(ids()).toHaveLength(held);
      expect(events().filter((e) => e.startsWith("removed"))).toHaveLength(BURST_MIN_DELETIONS - 1);
    });

    it("removes single failures at once, and deletions at the usual rate however many; a lump far above it is a burst", async () => {
      let t = 1_000_000;
      const many = Array.from({ length: 1_000 }, (_, i) => `m${i}`);
      const { cache, view, ids } = await setup(many, 10_000, () => t);
      // 3 deletions a second for a whole baseline (one at a time, never BURST_MIN_DELETIONS within a second).
      const usual = 3;
      const n = usual * BASELINE_SECONDS;
      for (let i = 0; i < n; i++) {
        cache.delete(keyOf(many[i]!));
        t += Math.ceil(1000 / usual);
      }
      expect(view.heldCount).toBe(0);
      expect(ids()).toHaveLength(1_000 - n);
      // Twice the minimum at once, but below BURST_FACTOR × the usual rate: removed as failures.
      expect(2 * BURST_MIN_DELETIONS).toBeLessThan(BURST_FACTOR * usual - usual);
      for (let i = n; i < n + 2 * BURST_MIN_DELETIONS; i++) cache.delete(keyOf(many[i]!));
      expect(view.heldCount).toBe(0);
      // More in the same second, past BURST_FACTOR × usual: from there on they are held.
      for (let i = n + 2 * BURST_MIN_DELETIONS; i < n + 2 * BURST_FACTOR * usual; i++) cache.delete(keyOf(many[i]!));
      // The rule fires once the second holds about BURST_FACTOR × usual (a few of them from before the lump).
      const lump = 2 * BURST_FACTOR * usual;
      expect(view.heldCount).toBeGreaterThanOrEqual(lump - BURST_FACTOR * usual);
      expect(view.heldCount).toBeLessThanOrEqual(lump - (BURST_FACTOR * usual - usual));
    });

    it("never holds nor counts a Deregister (its transaction writes the marker key)", async () => {
      const { cache, view, ids } = await setup(ids20, 10_000);
      view.noteStoreUnreachable();
      for (const id of ids20) {
        cache.apply([
          { type: "delete", key: keyOf(id) },
          { type: "put", key: deregisteredMarkerKey(PREFIX), value: new TextEncoder().encode(keyOf(id)) },
        ]);
      }
      expect(ids()).toEqual([]);
      expect(view.heldCount).toBe(0);
    });
  });
});
