import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import { FakeCache } from "../../test/support/fake-cache.js";
import { eventually } from "../../test/support/eventually.js";
import { testInstance } from "../../test/support/instances.js";
import { encodeInstance } from "./codec.js";
import { instanceKey } from "./keys.js";
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

async function setup(instances: string[], holdMs: number) {
  const cache = new FakeCache();
  for (const id of instances) put(cache, id);
  const view = createRegistryView({
    cache,
    prefix: PREFIX,
    logger,
    expiryHoldMs: holdMs,
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
});
