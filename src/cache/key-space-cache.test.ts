import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CompactedError, StoreUnavailableError } from "../store/index.js";
import { createEmbeddedStore } from "../store/index.js";
import type { Store } from "../store/index.js";
import { gateWatches } from "../../test/support/gated-store.js";
import type { GatedStore } from "../../test/support/gated-store.js";
import { createKeySpaceCache } from "./key-space-cache.js";
import type { CacheUpdate, KeySpaceCache } from "./types.js";

const logger = pino({ level: "silent" });
const text = new TextEncoder();
const put = (store: Store, key: string, value = "v") => store.txn({ ops: [{ type: "put", key, value: text.encode(value) }] });

describe("KeySpaceCache on the embedded store", () => {
  const open: { store: Store; cache: KeySpaceCache }[] = [];
  afterEach(async () => {
    for (const { store, cache } of open.splice(0)) {
      await cache.close();
      await store.close();
    }
  });

  async function start(wrap: (store: Store) => Store = (store) => store) {
    const store = wrap(await createEmbeddedStore({ logger }));
    const cache = createKeySpaceCache({ store, prefix: "/sb/", logger, retryDelayMs: { min: 10, max: 50 } });
    open.push({ store, cache });
    return { store, cache };
  }

  it("loads what is there, then follows writes under the prefix only", async () => {
    const { store, cache } = await start();
    await put(store, "/sb/a/1");
    await put(store, "/other/x");
    await cache.waitForRevision(0);
    const updates: CacheUpdate[] = [];
    cache.subscribe((update) => updates.push(update));
    const { revision } = await put(store, "/sb/a/2");
    await store.txn({ ops: [{ type: "delete", key: "/sb/a/1" }] });
    const last = await put(store, "/sb/b/1");
    await cache.waitForRevision(last.revision);
    expect(cache.list("/sb/").map((kv) => kv.key)).toEqual(["/sb/a/2", "/sb/b/1"]);
    expect(cache.get("/sb/a/2")?.modRevision).toBe(revision);
    expect(updates.filter((u) => u.type === "batch").map((u) => u.type === "batch" && u.batch.events.length)).toEqual([1, 1, 1]);
    expect(cache.changesSince("/sb/a/", revision - 1)?.map((b) => b.revision)).toEqual([revision, revision + 1]);
    // The one history keeps the very batch objects subscribers got (domains key derived data by them).
    const given = updates.flatMap((u) => (u.type === "batch" ? [u.batch] : []));
    const kept = cache.batchesSince(revision - 1)!.filter((b) => b.events.length > 0);
    expect(kept).toHaveLength(3);
    kept.forEach((batch, i) => expect(batch).toBe(given[i]));
  });

  it("serves read-your-writes waits and times out clearly", async () => {
    const { store, cache } = await start();
    const { revision } = await put(store, "/sb/k");
    await expect(cache.waitForRevision(revision)).resolves.toBeUndefined();
    expect(cache.revision).toBeGreaterThanOrEqual(revision);
    await expect(cache.waitForRevision(revision + 100, { timeoutMs: 50 })).rejects.toBeInstanceOf(StoreUnavailableError);
    const aborted = new AbortController();
    const waiting = cache.waitForRevision(revision + 100, { signal: aborted.signal });
    aborted.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
  });

  it("resume: a revision the store has not reached answers false at once; one only this cache lags behind waits", async () => {
    let gated: GatedStore | undefined;
    const { store, cache } = await start((inner) => (gated = gateWatches(inner)).store);
    const { revision } = await put(store, "/sb/k");
    await cache.waitForRevision(revision);
    expect(await cache.waitForResume(revision)).toBe(true);
    // Ahead of the store (a token kept across a restore from backup): no wait, nothing written.
    expect(await cache.waitForResume(revision + 1_000, { timeoutMs: 60_000 })).toBe(false);
    expect(await cache.waitForResume(revision + 1, { timeoutMs: 60_000 })).toBe(false);
    expect((await store.txn({ ops: [] })).revision).toBe(revision);

    // This cache lags (its watch is held) behind a write the store has: the resume waits for it.
    gated!.hold();
    const next = (await put(store, "/sb/k", "2")).revision;
    let answer: boolean | undefined;
    const resuming = cache.waitForResume(next, { timeoutMs: 60_000 }).then((value) => (answer = value));
    await put(store, "/other/x"); // a round trip to the store: the resume has asked it by now
    expect(answer).toBeUndefined();
    expect(cache.revision).toBe(revision);
    gated!.release();
    await resuming;
    expect(answer).toBe(true);
    expect(cache.revision).toBeGreaterThanOrEqual(next);

    // Held past the timeout: rejected as waitForRevision is, never answered false.
    gated!.hold();
    const later = (await put(store, "/sb/k", "3")).revision;
    await expect(cache.waitForResume(later, { timeoutMs: 100 })).rejects.toBeInstanceOf(StoreUnavailableError);
    const aborted = new AbortController();
    const waiting = cache.waitForResume(later, { signal: aborted.signal });
    aborted.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
    gated!.release();
  });

  it("reloads with a reset when its watch reports compaction, keeping state meanwhile", async () => {
    // The store's watch fails once with CompactedError, as etcd's does when the
    // watcher fell behind compaction; the cache must list again and say so.
    let failNextWatch = true;
    const { store, cache } = await start((inner) => ({
      ...bindAll(inner),
      watch(prefix, from, signal) {
        if (!failNextWatch) return inner.watch(prefix, from, signal);
        failNextWatch = false;
        // A watch that fails before its first batch: the generator never yields.
        // eslint-disable-next-line require-yield
        return (async function* () {
          await new Promise((resolve) => setTimeout(resolve, 50));
          throw new CompactedError(from);
        })();
      },
    }));
    await put(store, "/sb/before");
    const updates: CacheUpdate[] = [];
    cache.subscribe((update) => updates.push(update));
    await cache.waitForRevision(0);
    const after = (await put(store, "/sb/after")).revision;
    await cache.waitForRevision(after);
    expect(cache.list("/sb/").map((kv) => kv.key)).toEqual(["/sb/after", "/sb/before"]);
    expect(updates.some((u) => u.type === "reset")).toBe(true);
  });
});

function bindAll(store: Store): Store {
  return {
    get: store.get.bind(store),
    list: store.list.bind(store),
    txn: store.txn.bind(store),
    grantLease: store.grantLease.bind(store),
    keepAlive: store.keepAlive.bind(store),
    revokeLease: store.revokeLease.bind(store),
    watch: store.watch.bind(store),
    compact: store.compact.bind(store),
    ping: store.ping.bind(store),
    close: store.close.bind(store),
  };
}
