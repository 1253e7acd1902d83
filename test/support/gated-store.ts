/**
 * A Store whose watches can be held: while held, batches wait before they
 * reach the watcher, so a cache fed by it lags the store on purpose (a
 * replica that has not caught up yet). Everything else goes straight through.
 *
 *   const gated = gateWatches(await createEmbeddedStore({ logger }));
 *   gated.hold();        // the cache stops advancing
 *   ...write through gated.store, or another replica...
 *   gated.release();     // it catches up
 */
import type { Store, WatchBatch } from "../../src/store/index.js";

export interface GatedStore {
  readonly store: Store;
  hold(): void;
  release(): void;
}

export function gateWatches(inner: Store): GatedStore {
  let held = false;
  let opened: Promise<void> = Promise.resolve();
  let open = (): void => {};

  async function pass(signal: AbortSignal): Promise<void> {
    while (held && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          resolve();
        };
        signal.addEventListener("abort", done, { once: true });
        void opened.then(done);
      });
    }
  }

  const store: Store = {
    get: (key) => inner.get(key),
    list: (prefix) => inner.list(prefix),
    txn: (request) => inner.txn(request),
    grantLease: (ttl) => inner.grantLease(ttl),
    keepAlive: (leaseId) => inner.keepAlive(leaseId),
    revokeLease: (leaseId) => inner.revokeLease(leaseId),
    compact: (revision) => inner.compact(revision),
    ping: (signal) => inner.ping(signal),
    close: () => inner.close(),
    watch(prefix, fromRevision, signal): AsyncIterable<WatchBatch> {
      return (async function* () {
        for await (const batch of inner.watch(prefix, fromRevision, signal)) {
          await pass(signal);
          if (signal.aborted) return;
          yield batch;
        }
      })();
    },
  };

  return {
    store,
    hold() {
      if (held) return;
      held = true;
      opened = new Promise<void>((resolve) => (open = resolve));
    },
    release() {
      held = false;
      open();
    },
  };
}
