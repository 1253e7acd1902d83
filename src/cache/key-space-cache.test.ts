import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { CompactedError, StoreUnavailableError } from "../store/errors.js";
import { createEmbeddedStore } from "../store/index.js";
import type { Store } from "../store/types.js";
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

  it("reloads with a reset when its watch reports compaction, keeping state meanwhile", async () => {
    // The store's watch fails once with CompactedError, as etcd's does when the
    // watcher fell behind compaction; the cache must list again and say so.
    let failNextWatch = true;
    const { store, cache } = await start((inner) => ({
      ...bindAll(inner),
      watch(prefix, from, signal) {
        if (!failNextWatch) return inner.watch(prefix, from, signal);
        failNextWatch = false;
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
