/**
 * One contract, every backend: the etcd store against a real etcd, the
 * embedded store in memory and with a data directory. What types.ts promises
 * is checked here, identically for each.
 */
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CompactedError,
  createEmbeddedStore,
  createEtcdStore,
  createStore,
  LeaseNotFoundError,
  StoreError,
  StoreUnavailableError,
} from "../src/store/index.js";
import type { Store, TxnResult, WatchBatch } from "../src/store/index.js";
import { etcdMetric, requireEtcd, startEtcd, startEtcdCluster, startTcpProxy } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { eventually } from "./support/eventually.js";

const etcdBinary = requireEtcd();

interface Backend {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  open(): Promise<Store>;
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "store-contract-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

let etcd: EtcdServer | undefined;
const etcdBackend: Backend = {
  name: "etcd",
  setup: async () => {
    etcd = await startEtcd();
  },
  teardown: async () => {
    await etcd?.stop();
  },
  open: async () => createEtcdStore({ endpoints: etcd!.endpoints }),
};

const backends: Backend[] = [
  ...(etcdBinary ? [etcdBackend] : []),
  {
    name: "embedded (memory)",
    setup: async () => {},
    teardown: async () => {},
    open: () => createEmbeddedStore(),
  },
  {
    name: "embedded (dataDir)",
    setup: async () => {},
    teardown: async () => {},
    open: () => createEmbeddedStore({ dataDir: tempDir() }),
  },
];

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const str = (value: Uint8Array | undefined): string | undefined =>
  value === undefined ? undefined : new TextDecoder().decode(value);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function revisionOf(result: TxnResult): number {
  expect(result.succeeded).toBe(true);
  return result.revision;
}

/** Collects batches until count is reached (or timeoutMs passes), then stops the watch. */
async function collect(store: Store, prefix: string, from: number, count: number, timeoutMs = 5000): Promise<WatchBatch[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const batches: WatchBatch[] = [];
  try {
    for await (const batch of store.watch(prefix, from, controller.signal)) {
      batches.push(batch);
      if (batches.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return batches;
}

/** Batches from `from` until they hold `count` events. */
async function collectEvents(store: Store, prefix: string, from: number, count: number, timeoutMs = 5000): Promise<WatchBatch[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const batches: WatchBatch[] = [];
  let events = 0;
  try {
    for await (const batch of store.watch(prefix, from, controller.signal)) {
      batches.push(batch);
      events += batch.events.length;
      if (events >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return batches;
}

describe.each(backends)("store contract: $name", (backend) => {
  let store: Store;
  let prefix: string;
  let counter = 0;

  beforeAll(() => backend.setup());
  afterAll(() => backend.teardown());
  beforeEach(async () => {
    store = await backend.open();
    // A fresh prefix per test keeps tests independent on a shared etcd.
    prefix = `/contract/${process.pid}-${Date.now()}-${counter++}/`;
  });
  afterEach(() => store.close());

  const put = async (key: string, value: string, lease?: string): Promise<number> =>
    revisionOf(await store.txn({ ops: [{ type: "put", key: prefix + key, value: text(value), lease }] }));

  describe("reads", () => {
    it("gets one key and lists a prefix sorted by key at the current revision", async () => {
      await put("b", "2");
      await put("a", "1");
      await put("c/x", "3");
      const last = await put("d", "4");
      const { kvs, revision } = await store.list(prefix);
      expect(kvs.map((kv) => [kv.key.slice(prefix.length), str(kv.value)])).toEqual([
        ["a", "1"],
        ["b", "2"],
        ["c/x", "3"],
        ["d", "4"],
      ]);
      expect(revision).toBeGreaterThanOrEqual(last);
      expect((await store.list(`${prefix}c/`)).kvs.map((kv) => kv.key)).toEqual([`${prefix}c/x`]);
      expect(str((await store.get(`${prefix}a`))?.value)).toBe("1");
      expect(await store.get(`${prefix}missing`)).toBeUndefined();
      expect((await store.list(`${prefix}nothing/`)).kvs).toEqual([]);
    });

    it("returns values as written, bytes included", async () => {
      const value = new Uint8Array([0, 1, 2, 255, 128]);
      await store.txn({ ops: [{ type: "put", key: `${prefix}bin`, value }] });
      value[0] = 9; // the store keeps its own copy
      expect([...(await store.get(`${prefix}bin`))!.value]).toEqual([0, 1, 2, 255, 128]);
    });
  });

  describe("revisions", () => {
    it("advances by one per write and tracks create/mod revision and version", async () => {
      const r1 = await put("k", "v1");
      const kv1 = (await store.get(`${prefix}k`))!;
      expect(kv1).toMatchObject({ createRevision: r1, modRevision: r1, version: 1, lease: "0" });

      const r2 = await put("k", "v2");
      expect(r2).toBe(r1 + 1);
      expect(await store.get(`${prefix}k`)).toMatchObject({ createRevision: r1, modRevision: r2, version: 2 });

      const r3 = revisionOf(await store.txn({ ops: [{ type: "delete", key: `${prefix}k` }] }));
      expect(r3).toBe(r2 + 1);
      expect(await store.get(`${prefix}k`)).toBeUndefined();

      const r4 = await put("k", "v3");
      expect(await store.get(`${prefix}k`)).toMatchObject({ createRevision: r4, modRevision: r4, version: 1 });
    });

    it("gives every change of one transaction the same revision", async () => {
      const before = await put("x", "0");
      const revision = revisionOf(
        await store.txn({
          ops: [
            { type: "put", key: `${prefix}a`, value: text("1") },
            { type: "put", key: `${prefix}b`, value: text("2") },
            { type: "delete", key: `${prefix}x` },
          ],
        }),
      );
      expect(revision).toBe(before + 1);
      expect((await store.get(`${prefix}a`))!.modRevision).toBe(revision);
      expect((await store.get(`${prefix}b`))!.modRevision).toBe(revision);
    });

    it("does not advance for a write that changes nothing", async () => {
      const before = await put("a", "1");
      const result = await store.txn({ ops: [{ type: "delete", key: `${prefix}absent` }] });
      expect(result).toEqual({ succeeded: true, revision: before });
    });

    it("deletes a whole prefix in one revision", async () => {
      await put("dir/a", "1");
      await put("dir/b", "2");
      await put("dirt", "3");
      const revision = revisionOf(await store.txn({ ops: [{ type: "delete-prefix", prefix: `${prefix}dir/` }] }));
      const { kvs } = await store.list(prefix);
      expect(kvs.map((kv) => kv.key)).toEqual([`${prefix}dirt`]);
      const batches = await collect(store, prefix, revision, 1);
      expect(batches[0]!.events).toEqual([
        { type: "delete", key: `${prefix}dir/a`, modRevision: revision },
        { type: "delete", key: `${prefix}dir/b`, modRevision: revision },
      ]);
    });

    it("rejects a transaction that writes one key twice", async () => {
      const ops = [
        { type: "put" as const, key: `${prefix}a`, value: text("1") },
        { type: "put" as const, key: `${prefix}a`, value: text("2") },
      ];
      await expect(store.txn({ ops })).rejects.toBeInstanceOf(StoreError);
      expect(await store.get(`${prefix}a`)).toBeUndefined();
    });
  });

  describe("compare-and-set", () => {
    it("creates only when absent and reports the current value otherwise", async () => {
      const key = `${prefix}cas`;
      const create = (value: string): Promise<TxnResult> =>
        store.txn({ compare: [{ key, modRevision: 0 }], ops: [{ type: "put", key, value: text(value) }] });
      const first = await create("first");
      expect(first.succeeded).toBe(true);
      const second = await create("second");
      expect(second.succeeded).toBe(false);
      if (second.succeeded) return;
      expect(second.revision).toBe(first.revision);
      expect(second.current).toHaveLength(1);
      expect(str(second.current[0]?.value)).toBe("first");
      expect(second.current[0]?.modRevision).toBe(first.revision);
    });

    it("updates only at the expected revision; failure lists compared keys in order", async () => {
      const a = await put("a", "1");
      const b = await put("b", "1");
      const stale = await store.txn({
        compare: [
          { key: `${prefix}a`, modRevision: a },
          { key: `${prefix}missing`, modRevision: 5 },
          { key: `${prefix}b`, modRevision: a },
        ],
        ops: [{ type: "put", key: `${prefix}a`, value: text("2") }],
      });
      expect(stale.succeeded).toBe(false);
      if (stale.succeeded) return;
      expect(stale.current.map((kv) => kv?.modRevision)).toEqual([a, undefined, b]);
      expect(str((await store.get(`${prefix}a`))?.value)).toBe("1");

      const fresh = await store.txn({
        compare: [{ key: `${prefix}a`, modRevision: a }],
        ops: [{ type: "put", key: `${prefix}a`, value: text("2") }],
      });
      expect(fresh.succeeded).toBe(true);
      expect(str((await store.get(`${prefix}a`))?.value)).toBe("2");
    });

    it("lets exactly one of many concurrent creators win", async () => {
      const key = `${prefix}race`;
      const results = await Promise.all(
        Array.from({ length: 32 }, (_, i) =>
          store.txn({ compare: [{ key, modRevision: 0 }], ops: [{ type: "put", key, value: text(`w${i}`) }] }),
        ),
      );
      const winners = results.filter((result) => result.succeeded);
      expect(winners).toHaveLength(1);
      const kv = await store.get(key);
      expect(kv?.version).toBe(1);
      for (const result of results) {
        if (!result.succeeded) expect(result.current[0]?.modRevision).toBe(winners[0]!.revision);
      }
    });

    it("loses no update when concurrent writers increment one counter by CAS", async () => {
      const key = `${prefix}counter`;
      await put("counter", "0");
      const increment = async (): Promise<void> => {
        for (;;) {
          const kv = (await store.get(key))!;
          const next = String(Number(str(kv.value)) + 1);
          const result = await store.txn({
            compare: [{ key, modRevision: kv.modRevision }],
            ops: [{ type: "put", key, value: text(next) }],
          });
          if (result.succeeded) return;
        }
      };
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 5; i++) await increment();
        }),
      );
      expect(str((await store.get(key))?.value)).toBe("40");
    });
  });

  describe("leases", () => {
    it("grants with etcd's 2 s floor and keeps alive", async () => {
      const lease = await store.grantLease(1);
      expect(lease.ttlSeconds).toBe(2);
      expect(lease.id).toMatch(/^[1-9][0-9]*$/);
      expect(await store.keepAlive(lease.id)).toBe(2);
      const longer = await store.grantLease(30);
      expect(longer.ttlSeconds).toBe(30);
      expect(await store.keepAlive(longer.id)).toBe(30);
      await store.revokeLease(lease.id);
      await store.revokeLease(longer.id);
    });

    it("attaches keys to a lease and deletes them all in one revision on revoke", async () => {
      const lease = await store.grantLease(30);
      await put("a", "1", lease.id);
      const last = await put("b", "2", lease.id);
      await put("other", "3");
      expect((await store.get(`${prefix}a`))!.lease).toBe(lease.id);
      await store.revokeLease(lease.id);
      expect((await store.list(prefix)).kvs.map((kv) => kv.key)).toEqual([`${prefix}other`]);
      const [batch] = await collect(store, prefix, last + 2, 1);
      expect(batch!.events.map((event) => event.type)).toEqual(["delete", "delete"]);
      expect(await store.keepAlive(lease.id)).toBe(0);
      await store.revokeLease(lease.id); // unknown leases are ignored
    });

    it("refuses a put on a lease that does not exist and writes nothing", async () => {
      const lease = await store.grantLease(5);
      await store.revokeLease(lease.id);
      const before = (await store.list(prefix)).revision;
      const attempt = store.txn({
        ops: [
          { type: "put", key: `${prefix}plain`, value: text("1") },
          { type: "put", key: `${prefix}leased`, value: text("2"), lease: lease.id },
        ],
      });
      await expect(attempt).rejects.toBeInstanceOf(LeaseNotFoundError);
      await expect(attempt).rejects.toMatchObject({ leaseId: lease.id });
      expect((await store.list(prefix)).kvs).toEqual([]);
      expect((await store.list(prefix)).revision).toBe(before);
      await expect(
        store.txn({ ops: [{ type: "put", key: `${prefix}x`, value: text("1"), lease: "123456789" }] }),
      ).rejects.toBeInstanceOf(LeaseNotFoundError);
    });

    it("fails only the write whose lease is gone among many concurrent ones, and commits more writes than one etcd txn holds", async () => {
      const live = await store.grantLease(30);
      const gone = await store.grantLease(30);
      await store.revokeLease(gone.id);
      // 300 writes at once: more than etcd's --max-txn-ops (128) in one transaction; one of them names the revoked lease.
      const writes = Array.from({ length: 300 }, (_, i) =>
        store.txn({
          compare: [{ key: `${prefix}many/${i}`, modRevision: 0 }],
          ops: [{ type: "put", key: `${prefix}many/${i}`, value: text(String(i)), lease: i === 150 ? gone.id : live.id }],
        }),
      );
      const settled = await Promise.allSettled(writes);
      const failed = settled.flatMap((result, i) => (result.status === "rejected" ? [[i, result.reason] as const] : []));
      expect(failed).toHaveLength(1);
      expect(failed[0]![0]).toBe(150);
      expect(failed[0]![1]).toBeInstanceOf(LeaseNotFoundError);
      for (const result of settled) if (result.status === "fulfilled") expect(result.value.succeeded).toBe(true);
      const { kvs } = await store.list(`${prefix}many/`);
      expect(kvs).toHaveLength(299);
      expect(kvs.every((kv) => kv.lease === live.id && kv.version === 1)).toBe(true);
      expect(kvs.some((kv) => kv.key === `${prefix}many/150`)).toBe(false);
    });

    it("expires an idle lease between TTL and TTL + 1.5 s, while a renewed one lives on", async () => {
      const idle = await store.grantLease(2);
      const grantedAt = Date.now();
      const kept = await store.grantLease(2);
      await put("kept", "1", kept.id);
      const revision = await put("ephemeral", "1", idle.id);
      const renewing = (async () => {
        // Renewed every 500 ms for 3 s: well past one TTL.
        for (let i = 0; i < 6; i++) {
          await sleep(500);
          expect(await store.keepAlive(kept.id)).toBe(2);
        }
      })();
      const [batch] = await collect(store, prefix, revision + 1, 1, 6000);
      const elapsed = Date.now() - grantedAt;
      expect(batch!.events).toEqual([{ type: "delete", key: `${prefix}ephemeral`, modRevision: batch!.revision }]);
      expect(elapsed).toBeGreaterThanOrEqual(1900);
      expect(elapsed).toBeLessThanOrEqual(3500);
      expect(await store.keepAlive(idle.id)).toBe(0);
      await renewing;
      expect(await store.get(`${prefix}kept`)).toBeDefined();
      await store.revokeLease(kept.id);
    });

    it("renews many leases concurrently", async () => {
      const leases = await Promise.all(Array.from({ length: 200 }, () => store.grantLease(10)));
      const ttls = await Promise.all(leases.map((lease) => store.keepAlive(lease.id)));
      expect(ttls.every((ttl) => ttl === 10)).toBe(true);
      await Promise.all(leases.map((lease) => store.revokeLease(lease.id)));
    });
  });

  describe("watch", () => {
    it("yields changes in order, grouped by revision, filtered to the prefix", async () => {
      const start = (await store.list(prefix)).revision + 1;
      const batchesPromise = collect(store, `${prefix}w/`, start, 3);
      await sleep(50); // let the watch attach before the writes
      const r1 = await put("w/a", "1");
      await put("elsewhere", "x");
      const r2 = revisionOf(
        await store.txn({
          ops: [
            { type: "put", key: `${prefix}w/b`, value: text("2") },
            { type: "put", key: `${prefix}other`, value: text("3") },
            { type: "delete", key: `${prefix}w/a` },
          ],
        }),
      );
      const r3 = await put("w/b", "4");
      const batches = await batchesPromise;
      expect(batches.map((batch) => batch.revision)).toEqual([r1, r2, r3]);
      expect(batches[0]!.events).toMatchObject([{ type: "put", kv: { key: `${prefix}w/a`, version: 1 } }]);
      expect(batches[1]!.events).toMatchObject([
        { type: "put", kv: { key: `${prefix}w/b`, modRevision: r2 } },
        { type: "delete", key: `${prefix}w/a`, modRevision: r2 },
      ]);
      expect(batches[2]!.events).toMatchObject([{ type: "put", kv: { key: `${prefix}w/b`, version: 2 } }]);
      expect(str((batches[2]!.events[0] as { kv: { value: Uint8Array } }).kv.value)).toBe("4");
    });

    it("replays exactly from a past revision, with no gap and no duplicate", async () => {
      const revisions: number[] = [];
      for (let i = 0; i < 10; i++) revisions.push(await put(`r/${i % 3}`, String(i)));
      const from = revisions[4]!;
      const batches = await collect(store, `${prefix}r/`, from, 6);
      expect(batches.map((batch) => batch.revision)).toEqual(revisions.slice(4));
      expect(batches.map((batch) => str((batch.events[0] as { kv: { value: Uint8Array } }).kv.value))).toEqual([
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
      ]);
    });

    it("throws CompactedError at or below the compaction revision", async () => {
      const r1 = await put("c", "1");
      const r2 = await put("c", "2");
      await put("c", "3");
      await store.compact(r2);
      await store.compact(r1); // already compacted: no-op
      const error = await collect(store, prefix, r1, 1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CompactedError);
      expect((error as CompactedError).compactRevision).toBe(r2);
      await expect(collect(store, prefix, r2, 1)).rejects.toBeInstanceOf(CompactedError);
      const after = await collect(store, prefix, r2 + 1, 1);
      expect(after.map((batch) => batch.revision)).toEqual([r2 + 1]);
    });

    it("ends quietly when its signal aborts", async () => {
      const controller = new AbortController();
      const seen: number[] = [];
      const done = (async () => {
        for await (const batch of store.watch(prefix, 0, controller.signal)) seen.push(batch.revision);
      })();
      await sleep(50);
      const revision = await put("a", "1");
      await waitFor(() => seen.length === 1);
      controller.abort();
      await expect(done).resolves.toBeUndefined();
      expect(seen).toEqual([revision]);
    });

    it("serves many watchers of one prefix the same sequence", async () => {
      const start = (await store.list(prefix)).revision + 1;
      const watchers = Array.from({ length: 10 }, () => collectEvents(store, prefix, start, 20));
      await sleep(50);
      const revisions = await Promise.all(Array.from({ length: 20 }, (_, i) => put(`m/${i}`, String(i))));
      const results = await Promise.all(watchers);
      const first = results[0]!.map((batch) => batch.revision);
      expect(results[0]!.flatMap((batch) => batch.events)).toHaveLength(20);
      expect([...first].sort((a, b) => a - b)).toEqual(first);
      // Concurrent writes may share a revision (the etcd store's group commit), never a batch per revision twice.
      expect(new Set(first).size).toBe(first.length);
      expect(new Set(first)).toEqual(new Set(revisions));
      for (const result of results) expect(result).toEqual(results[0]);
    });
  });

  it("answers ping while open and refuses every call once closed", async () => {
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.get(`${prefix}a`)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.keepAlive("1")).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(collect(store, prefix, 0, 1)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

const waitFor = (condition: () => boolean | Promise<boolean>, timeoutMs = 5000) =>
  eventually(condition, timeoutMs, "condition", 10);

describe("embedded store: durability across restarts", () => {
  const key = (name: string): string => `/durable/${name}`;
  const putIn = async (store: Store, name: string, value: string, lease?: string): Promise<number> =>
    revisionOf(await store.txn({ ops: [{ type: "put", key: key(name), value: text(value), lease }] }));

  it("keeps keys, revisions and leases; history before the restart is compacted", async () => {
    const dataDir = tempDir();
    const first = await createEmbeddedStore({ dataDir });
    await putIn(first, "a", "1");
    await putIn(first, "a", "2");
    await putIn(first, "b", "x");
    const lease = await first.grantLease(2);
    await putIn(first, "leased", "y", lease.id);
    await first.txn({ ops: [{ type: "delete", key: key("b") }] });
    const gone = await first.grantLease(5);
    await first.revokeLease(gone.id);
    const before = await first.list("/durable/");
    await first.close();

    const second = await createEmbeddedStore({ dataDir });
    try {
      const after = await second.list("/durable/");
      expect(after).toEqual(before);
      expect(after.kvs.find((kv) => kv.key === key("a"))).toMatchObject({ version: 2, lease: "0" });
      expect(await second.keepAlive(lease.id)).toBe(2);
      expect(await second.keepAlive(gone.id)).toBe(0);
      await expect(collect(second, "/durable/", before.revision, 1)).rejects.toBeInstanceOf(CompactedError);
      const next = await putIn(second, "c", "z");
      expect(next).toBe(before.revision + 1);
      const [batch] = await collect(second, "/durable/", before.revision + 1, 1);
      expect(batch!.revision).toBe(next);
      // The restored lease expires when no longer kept alive.
      const [expiry] = await collect(second, "/durable/", next + 1, 1, 6000);
      expect(expiry!.events).toEqual([{ type: "delete", key: key("leased"), modRevision: next + 1 }]);
    } finally {
      await second.close();
    }
  });

  it("survives many writes through snapshots and a torn log tail", async () => {
    const dataDir = tempDir();
    const first = await createEmbeddedStore({ dataDir, snapshotAfterBytes: 2048 });
    await Promise.all(Array.from({ length: 300 }, (_, i) => putIn(first, `k${i % 50}`, String(i))));
    const lease = await first.grantLease(30);
    await putIn(first, "leased", "1", lease.id);
    const before = await first.list("/durable/");
    await first.close();
    const segments = readdirSync(dataDir).filter((name) => name.startsWith("wal-"));
    expect(segments.length).toBeLessThanOrEqual(2);
    expect(readdirSync(dataDir)).toContain("snapshot");
    // A write cut short by a crash: garbage after the last record.
    appendFileSync(join(dataDir, segments.sort().at(-1)!), Buffer.from([9, 0, 0, 0, 1, 2]));

    const second = await createEmbeddedStore({ dataDir });
    try {
      expect(await second.list("/durable/")).toEqual(before);
      expect(await second.keepAlive(lease.id)).toBe(30);
      expect(await putIn(second, "after", "1")).toBe(before.revision + 1);
    } finally {
      await second.close();
    }
    const third = await createEmbeddedStore({ dataDir });
    expect((await third.get(key("after")))?.modRevision).toBe(before.revision + 1);
    await third.close();
  });

  it("keeps every acknowledged write when its process is killed mid-stream", async () => {
    const dataDir = tempDir();
    const script = join(tempDir(), "writer.mts");
    const storeModule = new URL("../src/store/index.ts", import.meta.url).href;
    writeFileSync(
      script,
      `import { createEmbeddedStore } from ${JSON.stringify(storeModule)};
const store = await createEmbeddedStore({ dataDir: ${JSON.stringify(dataDir)}, snapshotAfterBytes: 4096 });
const lease = await store.grantLease(30);
for (let i = 0; ; i++) {
  const ops = [{ type: "put", key: "/crash/" + (i % 20), value: new TextEncoder().encode(String(i)), lease: i % 2 ? lease.id : undefined }];
  const result = await store.txn({ ops });
  process.stdout.write(i + " " + result.revision + "\\n");
}
`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "inherit"] });
    const acked: [number, number][] = [];
    let buffered = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) acked.push(line.split(" ").map(Number) as [number, number]);
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    await waitFor(() => acked.length >= 300, 20_000);
    child.kill("SIGKILL");
    await exited;

    const store = await createEmbeddedStore({ dataDir });
    try {
      const [lastIndex, lastRevision] = acked.at(-1)!;
      const { kvs, revision } = await store.list("/crash/");
      expect(revision).toBeGreaterThanOrEqual(lastRevision);
      // Each key holds its last acknowledged value or a later one, never an older one.
      for (let key = 0; key < 20; key++) {
        const lastAckedForKey = lastIndex - ((lastIndex - key + 20) % 20);
        const kv = kvs.find((entry) => entry.key === `/crash/${key}`)!;
        expect(Number(str(kv.value))).toBeGreaterThanOrEqual(lastAckedForKey);
      }
    } finally {
      await store.close();
    }
  });

  it("refuses a data directory another store holds, and takes over a dead owner's lock", async () => {
    const dataDir = tempDir();
    const first = await createEmbeddedStore({ dataDir });
    await expect(createEmbeddedStore({ dataDir })).rejects.toThrow(/in use by process/);
    await first.close();

    const child = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    writeFileSync(join(dataDir, "LOCK"), `${child.stdout.trim()}\n`); // that process has exited
    const second = await createEmbeddedStore({ dataDir });
    expect(await second.list("/")).toMatchObject({ kvs: [] });
    await second.close();

    writeFileSync(join(dataDir, "LOCK"), "1\n"); // PID 1 is alive
    if (process.pid !== 1) await expect(createEmbeddedStore({ dataDir })).rejects.toThrow(/in use by process 1/);
  });
});

describe("embedded store: injected clock", () => {
  it("expires leases by the clock it is given, with one sweep for all leases", async () => {
    let now = 1_000_000;
    const store = await createEmbeddedStore({ clock: { now: () => now }, leaseSweepIntervalMs: 20 });
    try {
      const leases = await Promise.all(Array.from({ length: 100 }, () => store.grantLease(10)));
      await Promise.all(
        leases.map((lease, i) => store.txn({ ops: [{ type: "put", key: `/l/${i}`, value: text("1"), lease: lease.id }] })),
      );
      now += 9_000;
      await Promise.all(leases.slice(0, 50).map((lease) => store.keepAlive(lease.id)));
      now += 1_500; // past TTL for the 50 not renewed
      await waitFor(async () => (await store.list("/l/")).kvs.length === 50);
      expect(await store.keepAlive(leases[0]!.id)).toBe(10);
      expect(await store.keepAlive(leases[99]!.id)).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!etcdBinary)("etcd store: connections", () => {
  let server: EtcdServer;
  beforeAll(async () => {
    server = await startEtcd();
  });
  afterAll(() => server?.stop());

  it("keeps 1000 leases alive over one keepalive stream", async () => {
    const store = createEtcdStore({ endpoints: server.endpoints });
    try {
      const leases = await Promise.all(Array.from({ length: 1000 }, () => store.grantLease(10)));
      const started = (): Promise<number> =>
        etcdMetric(server.endpoints[0]!, "grpc_server_started_total", { grpc_method: "LeaseKeepAlive" });
      const before = await started();
      for (let round = 0; round < 3; round++) {
        const ttls = await Promise.all(leases.map((lease) => store.keepAlive(lease.id)));
        expect(ttls.every((ttl) => ttl === 10)).toBe(true);
      }
      expect((await started()) - before).toBe(1);
      await store.revokeLease(leases[0]!.id);
      expect(await store.keepAlive(leases[0]!.id)).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("resumes a watch and the keepalive stream after the connection is cut, with no gap or duplicate", async () => {
    const proxy = await startTcpProxy(server.endpoints[0]!);
    const viaProxy = createEtcdStore({ endpoints: [proxy.endpoint], watchBackoffMs: { min: 50, max: 200 } });
    const direct = createEtcdStore({ endpoints: server.endpoints });
    const prefix = `/reconnect/${Date.now()}/`;
    try {
      const lease = await viaProxy.grantLease(10);
      expect(await viaProxy.keepAlive(lease.id)).toBe(10);
      const start = (await direct.list(prefix)).revision + 1;
      const controller = new AbortController();
      const seen: number[] = [];
      const watching = (async () => {
        for await (const batch of viaProxy.watch(prefix, start, controller.signal)) seen.push(batch.revision);
      })();
      const written: number[] = [];
      const write = async (i: number): Promise<void> => {
        const result = await direct.txn({ ops: [{ type: "put", key: `${prefix}k${i}`, value: text(String(i)) }] });
        written.push(result.revision);
      };
      for (let i = 0; i < 3; i++) await write(i);
      await waitFor(() => seen.length === 3);
      proxy.drop();
      for (let i = 3; i < 6; i++) await write(i); // while the watch is reconnecting
      await waitFor(() => seen.length >= 6, 10_000);
      controller.abort();
      await watching;
      expect(seen).toEqual(written);
      expect(proxy.connections).toBeGreaterThan(1);
      expect(await viaProxy.keepAlive(lease.id)).toBe(10);
    } finally {
      await viaProxy.close();
      await direct.close();
      await proxy.close();
    }
  });

  it("treats ending watches as normal, not as failures of etcd", async () => {
    const store = createEtcdStore({ endpoints: server.endpoints });
    try {
      await store.get("/x");
      const controller = new AbortController();
      const watches = Array.from({ length: 4 }, (_, i) =>
        (async () => {
          for await (const batch of store.watch(`/ending/${i}/`, 0, controller.signal)) void batch;
        })(),
      );
      await sleep(200);
      controller.abort();
      await Promise.all(watches);
      // etcd3 counts a cancelled stream as a host failure (circuit breaker) unless it was ended first.
      await expect(store.get("/x")).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it("re-opens a watch whose connection goes silent, with no gap", async () => {
    const proxy = await startTcpProxy(server.endpoints[0]!);
    const viaProxy = createEtcdStore({
      endpoints: [proxy.endpoint],
      watchLivenessProbeMs: 300,
      watchBackoffMs: { min: 50, max: 200 },
    });
    const direct = createEtcdStore({ endpoints: server.endpoints });
    const prefix = `/silent/${Date.now()}/`;
    const controller = new AbortController();
    try {
      const start = (await direct.list(prefix)).revision + 1;
      const seen: number[] = [];
      const watching = (async () => {
        for await (const batch of viaProxy.watch(prefix, start, controller.signal)) seen.push(batch.revision);
      })();
      const first = await direct.txn({ ops: [{ type: "put", key: `${prefix}a`, value: text("1") }] });
      await waitFor(() => seen.length === 1);
      proxy.freeze();
      const second = await direct.txn({ ops: [{ type: "put", key: `${prefix}b`, value: text("2") }] });
      const frozenAt = Date.now();
      await waitFor(() => seen.length === 2, 5000);
      expect(Date.now() - frozenAt).toBeLessThan(3000);
      expect(seen).toEqual([first.revision, second.revision]);
      controller.abort();
      await watching;
    } finally {
      controller.abort();
      await viaProxy.close();
      await direct.close();
      await proxy.close();
    }
  });

  it("does not mistake a slow consumer for a silent watch", async () => {
    const store = createEtcdStore({ endpoints: server.endpoints, watchLivenessProbeMs: 100 });
    const prefix = `/slow/${Date.now()}/`;
    const watchesStarted = (): Promise<number> =>
      etcdMetric(server.endpoints[0]!, "grpc_server_started_total", { grpc_method: "Watch" });
    try {
      const before = await watchesStarted();
      const start = (await store.list(prefix)).revision + 1;
      const written: number[] = [];
      for (let i = 0; i < 3; i++) {
        written.push((await store.txn({ ops: [{ type: "put", key: `${prefix}${i}`, value: text("1") }] })).revision);
      }
      const seen: number[] = [];
      const controller = new AbortController();
      for await (const batch of store.watch(prefix, start, controller.signal)) {
        seen.push(batch.revision);
        if (seen.length === 3) break;
        await sleep(500); // five probe periods
      }
      expect(seen).toEqual(written);
      expect((await watchesStarted()) - before).toBe(1);
    } finally {
      await store.close();
    }
  });

  it("fails a keepalive on a silent connection within its deadline, retries a read, then recovers", async () => {
    const proxy = await startTcpProxy(server.endpoints[0]!);
    const store = createEtcdStore({ endpoints: [proxy.endpoint], keepAliveTimeoutMs: 500, requestTimeoutMs: 500 });
    try {
      const lease = await store.grantLease(10);
      expect(await store.keepAlive(lease.id)).toBe(10);
      proxy.freeze();
      const frozenAt = Date.now();
      // Both start on the frozen connection. A read is safe to repeat, so after
      // its deadline it is tried once more, on a fresh connection.
      const [read, renewal] = await Promise.allSettled([store.get("/x"), store.keepAlive(lease.id)]);
      expect(read).toEqual({ status: "fulfilled", value: undefined });
      expect(renewal).toMatchObject({ status: "rejected", reason: expect.any(StoreUnavailableError) });
      expect(Date.now() - frozenAt).toBeLessThan(3000);
      // Fresh connections carry on (the frozen one is never used again).
      await waitFor(async () => (await store.keepAlive(lease.id).catch(() => 0)) === 10, 10_000);
      await waitFor(
        async () =>
          store.get("/x").then(
            () => true,
            () => false,
          ),
        10_000,
      );
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  it("answers StoreUnavailableError while etcd is unreachable, and recovers", async () => {
    const proxy = await startTcpProxy(server.endpoints[0]!);
    const store = createEtcdStore({
      endpoints: [proxy.endpoint],
      requestTimeoutMs: 1000,
      pingTimeoutMs: 1000,
      watchBackoffMs: { min: 50, max: 200 },
    });
    const direct = createEtcdStore({ endpoints: server.endpoints });
    try {
      await store.ping();
      const lease = await store.grantLease(10);
      const prefix = `/unreachable/${Date.now()}/`;
      const start = (await store.list(prefix)).revision + 1;
      proxy.setBlocked(true);
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.get("/x")).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.keepAlive(lease.id)).rejects.toBeInstanceOf(StoreUnavailableError);
      // A watch opened while etcd is unreachable waits, then delivers from its start.
      const watched = collect(store, prefix, start, 1, 15_000);
      const written = await direct.txn({ ops: [{ type: "put", key: `${prefix}a`, value: text("1") }] });
      await sleep(300);
      proxy.setBlocked(false);
      await waitFor(
        async () =>
          store.ping().then(
            () => true,
            () => false,
          ),
        10_000,
      );
      expect(await store.keepAlive(lease.id)).toBe(10);
      expect((await watched).map((batch) => batch.revision)).toEqual([written.revision]);
    } finally {
      await store.close();
      await direct.close();
      await proxy.close();
    }
  });

  it("is what createStore returns for endpoints; embedded otherwise", async () => {
    const viaEtcd = await createStore({ endpoints: server.endpoints });
    const embedded = await createStore();
    try {
      const key = `/create-store/${Date.now()}`;
      await viaEtcd.txn({ ops: [{ type: "put", key, value: text("1") }] });
      const direct = createEtcdStore({ endpoints: server.endpoints });
      expect(str((await direct.get(key))?.value)).toBe("1");
      await direct.close();
      expect(await embedded.get(key)).toBeUndefined();
    } finally {
      await viaEtcd.close();
      await embedded.close();
    }
  });
});

describe("embedded store: bounded watch history", () => {
  it("keeps a window of recent revisions, spares running watchers, and compacts beyond it", async () => {
    const store = await createEmbeddedStore({ historyLimit: 100 });
    try {
      const first = revisionOf(await store.txn({ ops: [{ type: "put", key: "/h/0", value: text("0") }] }));
      // A running watcher that a tight write loop outpaces still sees every revision.
      const watched = collect(store, "/h/", first + 1, 600, 10_000);
      const writes: number[] = [];
      for (let i = 1; i <= 600; i++) {
        writes.push(revisionOf(await store.txn({ ops: [{ type: "put", key: `/h/${i % 7}`, value: text(String(i)) }] })));
      }
      expect((await watched).map((batch) => batch.revision)).toEqual(writes);
      // With no watcher holding it, history beyond the window goes at the next trim.
      for (let i = 0; i < 200; i++) await store.txn({ ops: [{ type: "put", key: "/h/x", value: text(String(i)) }] });
      await expect(collect(store, "/h/", first + 1, 1)).rejects.toBeInstanceOf(CompactedError);
      const { revision } = await store.list("/h/");
      expect((await collect(store, "/h/", revision - 99, 100)).length).toBe(100);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!etcdBinary)("etcd store: 3-member cluster", () => {
  it("keeps writes, keepalives and a watch going when one member stops", async () => {
    const cluster = await startEtcdCluster(3);
    const store = createEtcdStore({ endpoints: cluster.endpoints, watchBackoffMs: { min: 50, max: 500 } });
    const prefix = `/cluster/${Date.now()}/`;
    const controller = new AbortController();
    try {
      const lease = await store.grantLease(10);
      const start = (await store.list(prefix)).revision + 1;
      const seen: number[] = [];
      const watching = (async () => {
        for await (const batch of store.watch(prefix, start, controller.signal)) seen.push(batch.revision);
      })();
      const written: number[] = [];
      // During a leader election etcd answers UNAVAILABLE for a moment: retry those.
      const write = async (i: number): Promise<void> => {
        for (let attempt = 0; ; attempt++) {
          try {
            const result = await store.txn({ ops: [{ type: "put", key: `${prefix}k${i}`, value: text(String(i)) }] });
            written.push(result.revision);
            return;
          } catch (error) {
            if (!(error instanceof StoreUnavailableError) || attempt > 50) throw error;
            await sleep(100);
          }
        }
      };
      for (let i = 0; i < 3; i++) await write(i);
      await cluster.members[0]!.stop();
      for (let i = 3; i < 8; i++) await write(i);
      await waitFor(() => seen.length >= 8, 15_000);
      expect(seen).toEqual(written);
      await waitFor(async () => (await store.keepAlive(lease.id).catch(() => 0)) === 10, 10_000);
      controller.abort();
      await watching.catch(() => undefined);
    } finally {
      controller.abort();
      await store.close();
      await cluster.stop();
    }
  });
});
