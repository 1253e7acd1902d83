import { Status } from "nice-grpc";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.js";
import { startFakeRegistry } from "../../../test/support/fake-registry.js";
import type { FakeRegistry } from "../../../test/support/fake-registry.js";
import { InvalidArgumentError } from "../../../src/errors.js";
import { createSwitchboardClient } from "./client.js";
import type { SwitchboardClient } from "./client.js";
import { watchService } from "./watch.js";
import type { WatchUpdate } from "./watch.js";

const FAST = { initialMs: 10, maxMs: 50 };

let fake: FakeRegistry;
let client: SwitchboardClient;

beforeEach(async () => {
  fake = await startFakeRegistry();
  client = createSwitchboardClient({ address: fake.address });
});

afterEach(async () => {
  client.close();
  await fake.close();
});

/** Pulls updates from a running watch one at a time. */
function reader(iterable: AsyncIterable<WatchUpdate>) {
  const iterator = iterable[Symbol.asyncIterator]();
  return {
    async next(): Promise<WatchUpdate> {
      const result = await iterator.next();
      if (result.done) throw new Error("watch ended");
      return result.value;
    },
    async close() {
      await iterator.return?.();
    },
  };
}

const ids = (update: WatchUpdate) => update.instances.map((i) => i.instanceId);

const waitFor = (condition: () => boolean, timeoutMs = 5000) => eventually(condition, timeoutMs, "condition", 10);

describe("watchService", () => {
  it("starts with a snapshot, then applies events to the full list", async () => {
    fake.put({ service: "orders", instanceId: "a", address: "10.0.0.1", port: 1 });
    const watch = reader(watchService(client, { service: "orders" }));
    const snapshot = await watch.next();
    expect(snapshot).toMatchObject({ type: "snapshot", reset: false, revision: 1 });
    expect(ids(snapshot)).toEqual(["a"]);

    fake.put({ service: "orders", instanceId: "b", address: "10.0.0.2", port: 1 });
    const added = await watch.next();
    expect(added).toMatchObject({ type: "event", revision: 2, event: { kind: "added" } });
    expect(ids(added)).toEqual(["a", "b"]);

    fake.remove("default/orders/a");
    const removed = await watch.next();
    expect(removed).toMatchObject({ type: "event", revision: 3, event: { kind: "removed" } });
    expect(ids(removed)).toEqual(["b"]);
    await watch.close();
    await waitFor(() => fake.openWatches() === 0);
  });

  it.each([Status.UNAVAILABLE, Status.RESOURCE_EXHAUSTED, undefined])(
    "resumes after %s from the last complete revision without losing or repeating events",
    async (status) => {
      fake.put({ service: "orders", instanceId: "a", address: "10.0.0.1", port: 1 });
      const watch = reader(watchService(client, { service: "orders", backoff: FAST }));
      expect((await watch.next()).revision).toBe(1);
      fake.put({ service: "orders", instanceId: "b", address: "10.0.0.2", port: 1 });
      expect((await watch.next()).revision).toBe(2);

      // The generator is lazy: it reconnects while the consumer waits for the next update.
      const pending = watch.next();
      fake.cutWatches(status);
      await waitFor(() => fake.calls.filter((c) => c.method === "Watch").length === 2 && fake.openWatches() === 1);
      // Revision 2 may have had more events, so the helper resumes after 1 and skips the "b" it already has.
      expect(fake.calls.at(-1)?.request).toMatchObject({ sinceRevision: "1" });

      fake.put({ service: "orders", instanceId: "c", address: "10.0.0.3", port: 1 });
      const next = await pending;
      expect(next).toMatchObject({ type: "event", revision: 3, event: { kind: "added" } });
      expect(next.event?.instance.instanceId).toBe("c");
      expect(ids(next)).toEqual(["a", "b", "c"]);
      await watch.close();
    },
  );

  it("replaces its state with a reset snapshot when the history is gone", async () => {
    fake.put({ service: "orders", instanceId: "a", address: "10.0.0.1", port: 1 });
    const watch = reader(watchService(client, { service: "orders", backoff: FAST }));
    await watch.next();
    // Fail the reconnects until the history is compacted.
    fake.failNext("Watch", Status.UNAVAILABLE, 1_000);
    const pending = watch.next();
    fake.cutWatches(Status.UNAVAILABLE);
    await waitFor(() => fake.openWatches() === 0);
    // While the watch is away: a leaves, b arrives, history is compacted.
    fake.remove("default/orders/a");
    fake.put({ service: "orders", instanceId: "b", address: "10.0.0.2", port: 1 });
    fake.compact();
    fake.failNext("Watch", Status.UNAVAILABLE, 0);
    const reset = await pending;
    expect(reset).toMatchObject({ type: "snapshot", reset: true, revision: 3 });
    expect(ids(reset)).toEqual(["b"]);
    await watch.close();
  });

  it("yields bookmarks only when asked and resumes after them", async () => {
    const watch = reader(watchService(client, { service: "orders", bookmarks: true, backoff: FAST }));
    expect((await watch.next()).type).toBe("snapshot");
    fake.put({ service: "other", instanceId: "x", address: "10.0.0.9", port: 1 });
    fake.bookmark();
    expect(await watch.next()).toMatchObject({ type: "bookmark", revision: 1, instances: [] });
    const pending = watch.next();
    fake.cutWatches(Status.UNAVAILABLE);
    await waitFor(() => fake.calls.filter((c) => c.method === "Watch").length === 2);
    expect(fake.calls.at(-1)?.request).toMatchObject({ sinceRevision: "1" });
    fake.put({ service: "orders", instanceId: "a", address: "10.0.0.1", port: 1 });
    expect(await pending).toMatchObject({ type: "event", revision: 2 });
    await watch.close();
  });

  it("ends with the domain error when the request is invalid", async () => {
    fake.failNext("Watch", Status.INVALID_ARGUMENT);
    const watch = reader(watchService(client, { service: "orders" }));
    await expect(watch.next()).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("ends quietly when its signal aborts, closing the stream", async () => {
    const controller = new AbortController();
    const seen: WatchUpdate[] = [];
    const done = (async () => {
      for await (const update of watchService(client, { service: "orders" }, controller.signal)) seen.push(update);
    })();
    await waitFor(() => seen.length === 1);
    controller.abort();
    await done;
    await waitFor(() => fake.openWatches() === 0);
    expect(seen.map((u) => u.type)).toEqual(["snapshot"]);
  });
});
