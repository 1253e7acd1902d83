import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createKeySpaceCache } from "../cache/index.js";
import type { CacheUpdate, KeySpaceCache } from "../cache/index.js";
import { createEmbeddedStore } from "../store/index.js";
import type { Store } from "../store/index.js";
import { createConfigManager } from "./config-manager.js";
import type { ConfigManager } from "./config-manager.js";
import { createConfigLayout } from "./layout.js";
import { LayeredState } from "./resolve.js";
import type { ConfigViewUpdate } from "./types.js";
import { createConfigWatchHub } from "./watch.js";
import type { ConfigWatchHub } from "./watch.js";

const logger = pino({ level: "silent" });
const PREFIX = "/watch-hub-test/";

describe("config watch hub", () => {
  let store: Store;
  let cache: KeySpaceCache;
  let config: ConfigManager;
  let hub: ConfigWatchHub;
  const controllers: AbortController[] = [];

  beforeEach(async () => {
    store = await createEmbeddedStore({ logger });
    cache = createKeySpaceCache({ store, prefix: PREFIX, logger });
    await cache.ready;
    config = createConfigManager({ store, cache, prefix: PREFIX, logger });
    hub = createConfigWatchHub({
      cache,
      layout: createConfigLayout(PREFIX),
      historyLimit: 100,
      bookmarkIntervalMs: 60_000,
      queueLimit: 16,
    });
  });
  afterEach(async () => {
    for (const controller of controllers.splice(0)) controller.abort();
    vi.restoreAllMocks();
    await cache.close();
    await store.close();
  });

  function open(selector: { namespace: string; service: string; profile: string }, since = 0) {
    const controller = new AbortController();
    controllers.push(controller);
    return hub.watch(selector, since, controller.signal)[Symbol.asyncIterator]();
  }

  /** The next message, or "none" when nothing arrives within ms. */
  async function nextWithin(stream: AsyncIterator<ConfigViewUpdate>, ms: number): Promise<ConfigViewUpdate | "none"> {
    let timer: NodeJS.Timeout | undefined;
    const none = new Promise<"none">((resolve) => (timer = setTimeout(() => resolve("none"), ms)));
    try {
      return await Promise.race([stream.next().then((result) => result.value as ConfigViewUpdate), none]);
    } finally {
      clearTimeout(timer);
    }
  }

  it("streams of one selector share one state: one resolve per batch, the same update object for each", async () => {
    const selector = { namespace: "shop", service: "orders", profile: "" };
    await config.putValue({ scope: { namespace: "shop" }, key: "a", value: "1" });
    const first = open(selector);
    const second = open(selector);
    const other = open({ namespace: "shop", service: "", profile: "" });
    const [i1, i2] = [(await first.next()).value, (await second.next()).value];
    await other.next();
    expect(i1).toBe(i2);
    expect(hub.streamCount).toBe(3);
    expect(hub.groupCount).toBe(2);

    const resolve = vi.spyOn(LayeredState.prototype, "resolve");
    const { revision } = await config.putValue({ scope: { namespace: "shop", service: "orders" }, key: "b", value: "2" });
    const [u1, u2] = [(await first.next()).value as ConfigViewUpdate, (await second.next()).value as ConfigViewUpdate];
    expect(u1).toBe(u2);
    expect(u1).toMatchObject({ revision, changedKeys: ["b"], reset: false, bookmark: false });
    expect(u1.entries.map((entry) => [entry.key, entry.value])).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
    // The namespace-wide selector's layers were not touched: only the orders group resolved, once.
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(await nextWithin(other, 50)).toBe("none");
  });

  it("a batch without config value keys wakes no stream and resolves nothing", async () => {
    const stream = open({ namespace: "shop", service: "orders", profile: "" });
    await stream.next();
    const resolve = vi.spyOn(LayeredState.prototype, "resolve");
    const pending = nextWithin(stream, 100);
    const { revision } = await store.txn({
      ops: [
        { type: "put", key: `${PREFIX}instances/shop/orders/i-1`, value: new Uint8Array([1, 2, 3]) },
        { type: "put", key: `${PREFIX}config-history/shop/orders/_/a/1`, value: new Uint8Array([1]) },
      ],
    });
    await cache.waitForRevision(revision);
    expect(await pending).toBe("none");
    expect(resolve).not.toHaveBeenCalled();
  });

  it("a resumed stream joins a live group right after its replay: no gap, no duplicate", async () => {
    const selector = { namespace: "r", service: "s", profile: "" };
    const scope = { namespace: "r", service: "s" };
    const live = open(selector);
    await live.next();
    const r1 = await config.putValue({ scope, key: "a", value: "1" });
    const r2 = await config.putValue({ scope, key: "b", value: "2" });
    const resumed = open(selector, r1.revision);
    const replayed = (await resumed.next()).value as ConfigViewUpdate;
    expect(replayed).toMatchObject({ revision: r2.revision, changedKeys: ["b"], reset: false });
    expect(hub.groupCount).toBe(1);
    const r3 = await config.putValue({ scope, key: "c", value: "3" });
    const next = (await resumed.next()).value as ConfigViewUpdate;
    expect(next).toMatchObject({ revision: r3.revision, changedKeys: ["c"] });
    expect(next.entries.map((entry) => entry.key)).toEqual(["a", "b", "c"]);
    const liveViews = [(await live.next()).value, (await live.next()).value, (await live.next()).value] as ConfigViewUpdate[];
    expect(liveViews.map((view) => view.revision)).toEqual([r1.revision, r2.revision, r3.revision]);
    expect(liveViews[2]).toBe(next);
    expect(await nextWithin(resumed, 50)).toBe("none");
  });

  it("a cache reset is diffed against the last view sent", async () => {
    let listener: ((update: CacheUpdate) => void) | undefined;
    let forward = true;
    const original = cache.subscribe.bind(cache);
    vi.spyOn(cache, "subscribe").mockImplementation((wrapped) => {
      listener = wrapped;
      // Batches are dropped while forward is false: as if the cache missed them and relisted.
      return original((update) => (forward || update.type !== "batch" ? wrapped(update) : undefined));
    });
    const stream = open({ namespace: "z", service: "", profile: "" });
    await stream.next();
    forward = false;
    await config.putValue({ scope: { namespace: "z" }, key: "k", value: "v" });
    await config.putValue({ scope: { namespace: "z" }, key: "same", value: "v" });
    const pending = stream.next();
    expect(await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 50, "none"))])).toBe("none");
    forward = true;
    listener!({ type: "reset", revision: cache.revision });
    expect((await pending).value).toMatchObject({ revision: cache.revision, changedKeys: ["k", "same"], reset: false });
    listener!({ type: "reset", revision: cache.revision });
    expect(await nextWithin(stream, 50)).toBe("none");
  });

  it("the last stream of a selector leaving drops its group and the cache subscription", async () => {
    const original = cache.subscribe.bind(cache);
    let unsubscribed = 0;
    const subscribe = vi.spyOn(cache, "subscribe").mockImplementation((listener) => {
      const stop = original(listener);
      return () => {
        unsubscribed++;
        stop();
      };
    });
    const a = open({ namespace: "x", service: "", profile: "" });
    const b = open({ namespace: "x", service: "", profile: "" });
    await a.next();
    await b.next();
    expect(subscribe).toHaveBeenCalledTimes(1);
    await a.return(undefined);
    expect(hub.groupCount).toBe(1);
    expect(unsubscribed).toBe(0);
    await b.return(undefined);
    expect(unsubscribed).toBe(1);
    expect(hub.streamCount).toBe(0);
    expect(hub.groupCount).toBe(0);
  });
});
