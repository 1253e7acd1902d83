/**
 * Resuming Watch, WatchConfig and WatchHealth from a revision ahead of this
 * replica: when the store itself is behind it (a token kept across a restore
 * from a backup) the stream resets at once; when only this replica lags (the
 * revision came from another replica) it waits and resumes without a reset.
 * Real servers on the embedded store and on a real etcd; the lag is made by
 * holding the server's store watch (test/support/gated-store.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { createEmbeddedStore, createEtcdStore } from "../src/store/index.js";
import type { Store } from "../src/store/index.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { gateWatches } from "./support/gated-store.js";
import type { GatedStore } from "./support/gated-store.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const etcdBinary = requireEtcd();
// The catch-up wait a lagging replica grants (registry read timeout, WatchHealth and WatchConfig: 5 s).
const CATCH_UP_MS = 5_000;
const BOOKMARK_MS = 300;
// A generous bound for one stream's first message on a loaded machine.
const FIRST_MESSAGE_MS = 20_000;

interface First {
  /** "reset" for a snapshot (or view) marked reset, else what the message is. */
  kind: string;
  revision: number;
  elapsedMs: number;
  receivedAt: number;
}

const backends: Array<{ name: string; skip: boolean; open: () => Promise<{ store: Store; stop: () => Promise<void> }> }> = [
  {
    name: "embedded",
    skip: false,
    open: async () => {
      const store = await createEmbeddedStore();
      return { store, stop: () => store.close() };
    },
  },
  {
    name: "etcd",
    skip: !etcdBinary,
    open: async () => {
      const etcd: EtcdServer = await startEtcd();
      const store = createEtcdStore({ endpoints: etcd.endpoints });
      return {
        store,
        stop: async () => {
          await store.close();
          await etcd.stop();
        },
      };
    },
  },
];

describe.each(backends)("watch resume ahead of the replica ($name)", ({ skip, open }) => {
  let stopStore: () => Promise<void>;
  let gated: GatedStore;
  let server: TestServer;
  let client: SwitchboardClient;

  beforeAll(async () => {
    if (skip) return;
    const opened = await open();
    stopStore = opened.stop;
    gated = gateWatches(opened.store);
    server = await startTestServer({
      store: gated.store,
      registry: { bookmarkIntervalMs: BOOKMARK_MS },
      health: { watch: { bookmarkIntervalMs: BOOKMARK_MS } },
      config: { bookmarkIntervalMs: BOOKMARK_MS },
    });
    client = createSwitchboardClient({ address: server.grpcAddress });
    await client.registry.register({
      instance: { service: "orders", instanceId: "a", address: "127.0.0.1", port: 8080 },
      ttlSeconds: 60,
    });
    await client.config.putValue({ scope: { service: "orders" }, key: "k", value: "v" });
  });
  afterAll(async () => {
    gated?.release();
    client?.close();
    await server?.close();
    await stopStore?.();
  });

  /** Opens the three streams from `since` and resolves with the first message of each. */
  function firstMessages(since: number): Promise<First[]> {
    const started = Date.now();
    const first = async <T>(stream: AsyncIterable<T>, describe: (message: T) => { kind: string; revision: string }) => {
      for await (const message of stream) {
        const { kind, revision } = describe(message);
        return { kind, revision: Number(revision), elapsedMs: Date.now() - started, receivedAt: Date.now() };
      }
      throw new Error("stream ended without a message");
    };
    const signal = AbortSignal.timeout(FIRST_MESSAGE_MS);
    const sinceRevision = String(since);
    return Promise.all([
      first(client.registry.watch({ service: "orders", sinceRevision }, { signal }), (m) => {
        const kind = m.kind!;
        if (kind.$case === "snapshot") return { kind: kind.value.reset ? "reset" : "snapshot", revision: kind.value.revision };
        return { kind: kind.$case, revision: kind.value.revision };
      }),
      first(client.config.watchConfig({ service: "orders", sinceRevision }, { signal }), (m) => ({
        kind: m.reset ? "reset" : m.bookmark ? "bookmark" : "view",
        revision: m.revision,
      })),
      first(client.health.watchHealth({ service: "orders", sinceRevision }, { signal }), (m) => {
        const kind = m.kind!;
        if (kind.$case === "snapshot") return { kind: kind.value.reset ? "reset" : "snapshot", revision: kind.value.revision };
        if (kind.$case === "bookmarkRevision") return { kind: "bookmark", revision: kind.value };
        return { kind: kind.$case, revision: kind.value.revision };
      }),
    ]);
  }

  it.skipIf(skip)("a revision the store has not reached gets a reset snapshot at once, on all three streams", async () => {
    const { revision: current } = await gated.store.txn({ ops: [] });
    for (const ahead of [current + 1_000_000, current + 1]) {
      const firsts = await firstMessages(ahead);
      for (const first of firsts) {
        expect(first.kind).toBe("reset");
        expect(first.revision).toBeLessThan(ahead);
        expect(first.revision).toBeGreaterThanOrEqual(current);
        // At once: not after waiting out the catch-up granted to a lagging replica.
        expect(first.elapsedMs).toBeLessThan(CATCH_UP_MS);
      }
    }
    // And the reset view is the real state.
    const [registry] = await Promise.all([
      (async () => {
        for await (const m of client.registry.watch(
          { service: "orders", sinceRevision: String(current + 1_000) },
          { signal: AbortSignal.timeout(FIRST_MESSAGE_MS) },
        )) {
          return m.kind?.$case === "snapshot" ? m.kind.value.instances.map((i) => i.instanceId) : [];
        }
        return [];
      })(),
    ]);
    expect(registry).toEqual(["a"]);
  });

  it.skipIf(skip)("a revision only this replica lags behind is waited for, then resumed without a reset", async () => {
    gated.hold();
    let releasedAt: number;
    try {
      // Another replica's write: the store has it, this server's view does not.
      const { revision: written } = await gated.store.txn({
        ops: [{ type: "put", key: "/switchboard/test/elsewhere", value: new TextEncoder().encode("x") }],
      });
      const pending = firstMessages(written);
      // Give a wrong answer (a reset, or UNAVAILABLE) the chance to arrive while the view lags.
      await new Promise((resolve) => setTimeout(resolve, 500));
      releasedAt = Date.now();
      gated.release();
      const firsts = await pending;
      for (const first of firsts) {
        expect(first.kind).not.toBe("reset");
        expect(first.kind).not.toBe("snapshot");
        expect(first.revision).toBeGreaterThanOrEqual(written);
        expect(first.receivedAt).toBeGreaterThanOrEqual(releasedAt);
      }
    } finally {
      gated.release();
    }
  });
});
