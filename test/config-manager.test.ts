/**
 * The config domain on a real store and cache (no gRPC): layering, CAS,
 * history across compaction, imports and the watch contract. Runs on a real
 * etcd (harness) and on the embedded store.
 */
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createKeySpaceCache } from "../src/cache/index.js";
import type { KeySpaceCache } from "../src/cache/index.js";
import { createConfigManager } from "../src/config/index.js";
import type { ConfigManager, ConfigViewUpdate } from "../src/config/index.js";
import { ConflictError, InvalidArgumentError, NotFoundError, ResourceExhaustedError } from "../src/errors.js";
import { createEmbeddedStore, createEtcdStore } from "../src/store/index.js";
import type { Store } from "../src/store/index.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";

const logger = pino({ level: "silent" });
const etcdBinary = requireEtcd();
let etcd: EtcdServer | undefined;
let testNumber = 0;

const backends = [
  ...(etcdBinary
    ? [
        {
          name: "etcd",
          setup: async () => void (etcd = await startEtcd()),
          teardown: () => etcd?.stop(),
          open: async () => createEtcdStore({ endpoints: etcd!.endpoints, logger }),
        },
      ]
    : []),
  { name: "embedded", setup: async () => {}, teardown: async () => {}, open: () => createEmbeddedStore({ logger }) },
];

describe.each(backends)("config manager on $name", (backend) => {
  let store: Store;
  let cache: KeySpaceCache;
  let config: ConfigManager;
  let PREFIX: string;
  const open = new Set<AbortController>();

  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());

  beforeEach(async () => {
    PREFIX = `/sbtest-${process.pid}-${++testNumber}/`;
    store = await backend.open();
    cache = createKeySpaceCache({ store, prefix: PREFIX, logger });
    await cache.ready;
    config = createConfigManager({ store, cache, prefix: PREFIX, logger, bookmarkIntervalMs: 60_000, historyLimit: 5 });
  });
  afterEach(async () => {
    for (const controller of open) controller.abort();
    open.clear();
    await cache.close();
    await store.close();
  });

  /** A watch whose messages are collected; next(n) waits for n more. */
  function watch(selector: { namespace?: string; service?: string; profile?: string }, since = 0, instance = config) {
    const controller = new AbortController();
    open.add(controller);
    const received: ConfigViewUpdate[] = [];
    let failure: unknown;
    let notify: (() => void) | undefined;
    const done = (async () => {
      try {
        for await (const update of instance.watchConfig(selector, since, controller.signal)) {
          received.push(update);
          notify?.();
        }
      } catch (error) {
        failure = error;
        notify?.();
      }
    })();
    return {
      received,
      get failure() {
        return failure;
      },
      async waitFor(count: number, timeoutMs = 5_000) {
        const deadline = Date.now() + timeoutMs;
        while (received.length < count && failure === undefined) {
          if (Date.now() > deadline) throw new Error(`only ${received.length} of ${count} messages`);
          await new Promise<void>((resolve) => {
            notify = resolve;
            setTimeout(resolve, 50);
          });
        }
        return received;
      },
      async stop() {
        controller.abort();
        await done;
      },
    };
  }

  const put = (scope: { namespace?: string; service?: string; profile?: string }, key: string, value: string, extra = {}) =>
    config.putValue({ scope, key, value, author: "test", ...extra });

  it("resolves the four layers lowest to highest, with sources and revisions", async () => {
    const ns = { namespace: "shop" };
    await put(ns, "a", "ns");
    await put(ns, "b", "ns");
    await put(ns, "c", "ns");
    await put(ns, "d", "ns");
    await put({ ...ns, profile: "prod" }, "b", "ns-prod");
    await put({ ...ns, profile: "prod" }, "c", "ns-prod");
    await put({ ...ns, service: "orders" }, "c", "svc");
    const last = await put({ ...ns, service: "orders", profile: "prod" }, "d", "svc-prod");
    await put({ ...ns, service: "billing" }, "a", "other service");
    await put({ ...ns, profile: "dev" }, "a", "other profile");

    const view = await config.getConfig({ namespace: "shop", service: "orders", profile: "prod" });
    expect(view.revision).toBeGreaterThanOrEqual(last.revision);
    expect(view.entries.map((e) => [e.key, e.value, e.layer, e.source])).toEqual([
      ["a", "ns", "namespace-default", { namespace: "shop", service: "", profile: "" }],
      ["b", "ns-prod", "namespace-profile", { namespace: "shop", service: "", profile: "prod" }],
      ["c", "svc", "service-default", { namespace: "shop", service: "orders", profile: "" }],
      ["d", "svc-prod", "service-profile", { namespace: "shop", service: "orders", profile: "prod" }],
    ]);
    expect(view.entries[3]!.revision).toBe(last.revision);
    expect((await config.getConfig({ namespace: "shop" })).entries.map((e) => e.value)).toEqual(["ns", "ns", "ns", "ns"]);
    expect((await config.getConfig({ namespace: "shop", service: "orders" })).entries.map((e) => e.value)).toEqual([
      "ns",
      "ns",
      "svc",
      "ns",
    ]);
  });

  it("compare-and-set: 0 creates, a stale revision conflicts with the current one, nothing written", async () => {
    const scope = { namespace: "cas" };
    const first = await put(scope, "k", "1", { expectedRevision: 0 });
    expect(first.value.version).toBe(1);
    await expect(put(scope, "k", "again", { expectedRevision: 0 })).rejects.toMatchObject({
      name: "ConflictError",
      currentRevision: first.revision,
    });
    const second = await put(scope, "k", "2", { expectedRevision: first.revision });
    expect(second.value.version).toBe(2);
    const stale = await put(scope, "k", "3", { expectedRevision: first.revision }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect((stale as ConflictError).currentRevision).toBe(second.revision);
    expect((stale as ConflictError).message).toContain(`current revision ${second.revision}`);
    expect((await config.getValue(scope, "k")).value).toBe("2");
    await expect(config.deleteValue({ scope, key: "k", expectedRevision: first.revision })).rejects.toBeInstanceOf(ConflictError);
    await config.deleteValue({ scope, key: "k", expectedRevision: second.revision });
    await expect(config.getValue(scope, "k")).rejects.toBeInstanceOf(NotFoundError);
    await expect(config.deleteValue({ scope, key: "k" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("concurrent CAS writers: exactly one wins", async () => {
    const scope = { namespace: "race" };
    const base = await put(scope, "k", "base");
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => put(scope, "k", `writer-${i}`, { expectedRevision: base.revision })),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(7);
    for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof put>>>).value;
    expect((await config.getValue(scope, "k")).value).toBe(winner.value.value);
    // History: base and the winner only.
    expect((await config.getHistory(scope, "k")).map((v) => v.value)).toEqual([winner.value.value, "base"]);
  });

  it("unconditional concurrent writers all land, each in history, versions counted", async () => {
    const scope = { namespace: "many" };
    await Promise.all(Array.from({ length: 4 }, (_, i) => put(scope, "k", `v${i}`)));
    const value = await config.getValue(scope, "k");
    expect(value.version).toBe(4);
    const history = await config.getHistory(scope, "k");
    expect(history).toHaveLength(4);
    expect(history[0]!.value).toBe(value.value);
    expect(history.map((v) => v.revision)).toEqual([...history.map((v) => v.revision)].sort((a, b) => b - a));
  });

  it("keeps history (bounded) across compaction, with deletes", async () => {
    const scope = { namespace: "hist", service: "api" };
    const revisions: number[] = [];
    for (let i = 1; i <= 4; i++) revisions.push((await put(scope, "k", `v${i}`, { author: `user${i}` })).revision);
    const deleted = await config.deleteValue({ scope, key: "k", author: "remover" });
    const again = await put(scope, "k", "v5");
    expect(again.value.version).toBe(1);
    await store.compact(again.revision);

    const history = await config.getHistory(scope, "k");
    // historyLimit 5: the oldest of six writes is gone.
    expect(history.map((v) => [v.value, v.deleted, v.revision])).toEqual([
      ["v5", false, again.revision],
      ["", true, deleted.revision],
      ["v4", false, revisions[3]],
      ["v3", false, revisions[2]],
      ["v2", false, revisions[1]],
    ]);
    expect(history[1]!.author).toBe("remover");
    expect(await config.getHistory(scope, "k", 2)).toHaveLength(2);
    await expect(config.getHistory(scope, "never")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("rejects bad input naming the field and writes nothing", async () => {
    const before = (await store.list(PREFIX)).revision;
    const cases: [() => Promise<unknown>, string][] = [
      [() => put({ namespace: "Bad" }, "k", "v"), "scope.namespace"],
      [() => put({ service: "a_b" }, "k", "v"), "scope.service"],
      [() => put({ profile: "-x" }, "k", "v"), "scope.profile"],
      [() => put({}, ".k", "v"), "key"],
      [() => put({}, "a/b", "v"), "key"],
      [() => put({}, "k", "x".repeat(512 * 1024 + 1)), "value"],
      [() => put({}, "k", "{", { contentType: "application/json" }), "value"],
      [() => put({}, "k", "a: [", { contentType: "application/yaml" }), "value"],
      [() => put({}, "k", "v", { contentType: "text/html" }), "content_type"],
      [() => put({}, "k", "v", { expectedRevision: -1 }), "expected_revision"],
      [
        () =>
          config.importValues({
            scope: {},
            entries: [
              { key: "ok", value: "1" },
              { key: "ok", value: "2" },
            ],
          }),
        "entries[1].key",
      ],
      [
        () =>
          config.importValues({
            scope: {},
            entries: [
              { key: "ok", value: "1" },
              { key: "j", value: "{", contentType: "application/json" },
            ],
          }),
        "entries[1].value",
      ],
    ];
    for (const [run, field] of cases) {
      const error = await run().catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe(field);
    }
    expect((await store.list(PREFIX)).kvs).toEqual([]);
    expect((await store.list(PREFIX)).revision).toBe(before);
  });

  it("imports atomically, skipping unchanged keys, and replaces when asked", async () => {
    const scope = { namespace: "imp", service: "svc" };
    await put(scope, "keep", "1");
    await put(scope, "same", "s");
    const result = await config.importValues({
      scope,
      entries: [
        { key: "same", value: "s" },
        { key: "new", value: '{"a":1}', contentType: "application/json" },
      ],
    });
    expect(result).toMatchObject({ written: 1, deleted: 0 });
    const replaced = await config.importValues({ scope, entries: [{ key: "same", value: "s2" }], replace: true });
    expect(replaced).toMatchObject({ written: 1, deleted: 2 });
    const { values } = await config.listValues(scope);
    expect(values.map((v) => [v.key, v.value])).toEqual([["same", "s2"]]);
    // One revision for the whole import.
    const history = await config.getHistory(scope, "keep");
    expect(history[0]).toMatchObject({ deleted: true, revision: replaced.revision });
    expect((await config.getHistory(scope, "new"))[0]!.revision).toBe(replaced.revision);
    expect(await config.importValues({ scope, entries: [{ key: "same", value: "s2" }] })).toMatchObject({
      written: 0,
      deleted: 0,
    });
  });

  it("refuses an import larger than one store transaction, writing nothing", async () => {
    const small = createConfigManager({ store, cache, prefix: PREFIX, logger, maxTxnOps: 10 });
    const entries = Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: String(i) }));
    const error = await small.importValues({ scope: { namespace: "big" }, entries }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe("entries");
    expect((await small.listValues({ namespace: "big" })).values).toEqual([]);
    expect(await small.importValues({ scope: { namespace: "big" }, entries: entries.slice(0, 5) })).toMatchObject({ written: 5 });
  });

  it("fits the store's request limits: a 512 KiB value of escapes, 64-key imports, deferred history pruning", async () => {
    const big = '"\n'.repeat((512 * 1024) / 2);
    await put({ namespace: "limits" }, "big", big);
    await put({ namespace: "limits" }, "big", big.slice(1) + "x");
    expect((await config.getValue({ namespace: "limits" }, "big")).value).toHaveLength(512 * 1024);

    const one = createConfigManager({ store, cache, prefix: PREFIX, logger, historyLimit: 1 });
    const scope = { namespace: "limits", service: "wide" };
    const entries = (round: number) => Array.from({ length: 64 }, (_, i) => ({ key: `k${i}`, value: `${round}-${i}` }));
    expect(await one.importValues({ scope, entries: entries(1) })).toMatchObject({ written: 64 });
    // 128 value and history writes fill the transaction: pruning the 64 old history records follows it.
    const second = await one.importValues({ scope, entries: entries(2) });
    expect(second).toMatchObject({ written: 64 });
    const history = await one.getHistory(scope, "k63");
    expect(history.map((v) => [v.value, v.revision])).toEqual([["2-63", second.revision]]);
    const tooMany = await one
      .importValues({ scope, entries: [...entries(3), { key: "k64", value: "x" }] })
      .catch((e: unknown) => e);
    expect((tooMany as InvalidArgumentError).field).toBe("entries");

    const bulky = Array.from({ length: 5 }, (_, i) => ({ key: `b${i}`, value: "x".repeat(128 * 1024) }));
    expect(await one.importValues({ scope: { namespace: "limits", service: "bulky" }, entries: bulky })).toMatchObject({
      written: 5,
    });
  });

  it("watch: the view first, then every change once, in order; nothing for writes that do not change the view", async () => {
    const selector = { namespace: "w", service: "orders", profile: "prod" };
    await put({ namespace: "w" }, "a", "1");
    const stream = watch(selector);
    const [first] = await stream.waitFor(1);
    expect(first).toMatchObject({ changedKeys: [], reset: false, bookmark: false });
    expect(first!.entries.map((e) => [e.key, e.value])).toEqual([["a", "1"]]);

    const r1 = await put({ namespace: "w", service: "orders" }, "a", "2"); // overrides: change
    await put({ namespace: "w" }, "a", "shadowed"); // below the service layer: no change
    await put({ namespace: "w", service: "orders" }, "a", "2"); // same value again: no change
    await put({ namespace: "w", service: "other" }, "a", "x"); // another service: no change
    await put({ namespace: "other" }, "a", "x"); // another namespace: no change
    const r2 = await put({ namespace: "w", profile: "prod" }, "b", "3"); // new key: change
    const r3 = await config.deleteValue({ scope: { namespace: "w", service: "orders" }, key: "a" }); // falls back to "shadowed"
    const r4 = await config.importValues({
      scope: { namespace: "w", service: "orders", profile: "prod" },
      entries: [
        { key: "a", value: "top" },
        { key: "c", value: "4" },
      ],
    });
    const messages = await stream.waitFor(5);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stream.received).toHaveLength(5);
    expect(messages.slice(1).map((m) => [m.revision, m.changedKeys])).toEqual([
      [r1.revision, ["a"]],
      [r2.revision, ["b"]],
      [r3.revision, ["a"]],
      [r4.revision, ["a", "c"]],
    ]);
    expect(messages[3]!.entries.find((e) => e.key === "a")).toMatchObject({ value: "shadowed", layer: "namespace-default" });
    expect(messages[4]!.entries.map((e) => [e.key, e.value, e.layer])).toEqual([
      ["a", "top", "service-profile"],
      ["b", "3", "namespace-profile"],
      ["c", "4", "service-profile"],
    ]);
    await stream.stop();
  });

  it("watch resume: replays only the views after since_revision; reset when history is gone", async () => {
    const selector = { namespace: "r", service: "s" };
    const scope = { namespace: "r" };
    const r0 = await put(scope, "a", "0");
    const r1 = await put(scope, "a", "1");
    await put({ namespace: "r", service: "other" }, "a", "noise");
    const r2 = await put({ namespace: "r", service: "s" }, "b", "2");
    await put(scope, "a", "1"); // no change
    const r3 = await config.deleteValue({ scope, key: "a" });

    const resumed = watch(selector, r0.revision);
    const replay = await resumed.waitFor(3);
    expect(replay.map((m) => [m.revision, m.changedKeys, m.reset])).toEqual([
      [r1.revision, ["a"], false],
      [r2.revision, ["b"], false],
      [r3.revision, ["a"], false],
    ]);
    expect(replay[2]!.entries.map((e) => e.key)).toEqual(["b"]);
    const r4 = await put(scope, "z", "live");
    expect((await resumed.waitFor(4))[3]).toMatchObject({ revision: r4.revision, changedKeys: ["z"] });
    await resumed.stop();

    // Up to date: nothing until the next change.
    const current = watch(selector, r4.revision);
    const r5 = await put(scope, "y", "1");
    expect((await current.waitFor(1)).map((m) => [m.revision, m.changedKeys])).toEqual([[r5.revision, ["y"]]]);
    await current.stop();

    // A key written more than historyLimit (5) times after since: its value at since is unknown.
    for (let i = 0; i < 6; i++) await put(scope, "y", `again-${i}`);
    const reset = watch(selector, r5.revision);
    const [message] = await reset.waitFor(1);
    expect(message).toMatchObject({ reset: true, changedKeys: [] });
    expect(message!.entries.find((e) => e.key === "y")?.value).toBe("again-5");
    await reset.stop();
  });

  it("watch: bookmarks on idle streams, RESOURCE_EXHAUSTED for a consumer that falls behind", async () => {
    const quick = createConfigManager({ store, cache, prefix: PREFIX, logger, bookmarkIntervalMs: 100, watchQueueLimit: 3 });
    const idle = watch({ namespace: "idle" }, 0, quick);
    const messages = await idle.waitFor(2);
    expect(messages[1]).toMatchObject({ bookmark: true, entries: [], revision: cache.revision });
    await idle.stop();

    const controller = new AbortController();
    open.add(controller);
    const iterator = quick.watchConfig({ namespace: "slow" }, 0, controller.signal)[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toMatchObject({ revision: cache.revision });
    for (let i = 0; i < 5; i++) await put({ namespace: "slow" }, "k", String(i));
    await expect(iterator.next()).rejects.toBeInstanceOf(ResourceExhaustedError);
  });

  it("watch ends with an AbortError when its signal aborts", async () => {
    const stream = watch({ namespace: "abort" });
    await stream.waitFor(1);
    await stream.stop();
    expect((stream.failure as Error).name).toBe("AbortError");
  });
});
