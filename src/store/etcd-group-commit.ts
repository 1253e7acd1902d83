/**
 * Group commit for etcd transactions: transactions submitted while another
 * batch is on its way to etcd wait, and leave together as ONE etcd
 * transaction whose success branch holds each of them as a nested
 * transaction (etcd >= 3.3). Each nested transaction keeps its own compares,
 * operations and failure reads, so each caller gets exactly the answer its
 * own transaction would have had; they share one revision, one raft entry,
 * one fsync and one round trip. At 64 concurrent registrations that is one
 * etcd write instead of 64.
 *
 * Equivalence with running them one by one relies on etcd evaluating every
 * nested compare against the state before the batch: a batch therefore never
 * holds two transactions touching the same key (the later one waits for the
 * next batch, in submission order per key), nor a delete-prefix (its range is
 * open-ended; it runs alone).
 *
 * etcd fails a whole transaction when one put names a lease that is gone, or
 * on any other per-request error: a batch that fails with anything but
 * unavailability is retried one transaction at a time, so one caller's
 * expired lease is only that caller's error. A batch that is unavailable
 * fails every member, as each would have failed alone (the write may or may
 * not have landed, exactly as for a single timed-out call).
 */
import { StoreUnavailableError } from "./errors.js";
import type { Operation, TxnRequest, TxnResult } from "./types.js";

/** One batch, in submission order; answers one result per request, in the same order. */
export type RunBatch = (requests: readonly TxnRequest[]) => Promise<TxnResult[]>;
export type RunSingle = (request: TxnRequest) => Promise<TxnResult>;

export interface GroupCommitOptions {
  runBatch: RunBatch;
  runSingle: RunSingle;
  /**
   * etcd's --max-txn-ops (default 128). etcd counts a nested transaction's
   * operations against what the outer one leaves, so a batch of n
   * transactions of at most k operations needs n + k <= maxTxnOps.
   */
  maxTxnOps?: number;
  /** Key and value bytes per batch; etcd's --max-request-bytes is 1.5 MiB by default. Default 1 MiB. */
  maxBatchBytes?: number;
  /** Batches on their way to etcd at once. Default 1: the next batch forms while one is in flight. */
  maxInFlight?: number;
}

interface Pending {
  request: TxnRequest;
  keys: string[];
  size: number;
  bytes: number;
  resolve: (result: TxnResult) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommit {
  txn(request: TxnRequest): Promise<TxnResult>;
}

export function createGroupCommit(options: GroupCommitOptions): GroupCommit {
  const maxTxnOps = options.maxTxnOps ?? 128;
  const maxBatchBytes = options.maxBatchBytes ?? 1024 * 1024;
  const maxInFlight = options.maxInFlight ?? 1;
  let queue: Pending[] = [];
  let inFlight = 0;

  function flush(): void {
    while (inFlight < maxInFlight && queue.length > 0) {
      const batch: Pending[] = [];
      const rest: Pending[] = [];
      const keys = new Set<string>();
      // Keys of transactions left waiting: later ones on those keys wait too, so each key keeps its order.
      const waitingKeys = new Set<string>();
      let largest = 0;
      let bytes = 0;
      for (const pending of queue) {
        const full = batch.length > 0 && batch.length + 1 + largest > maxTxnOps;
        const fits =
          !full &&
          (batch.length === 0 ||
            (batch.length + 1 + Math.max(largest, pending.size) <= maxTxnOps &&
              bytes + pending.bytes <= maxBatchBytes &&
              !pending.keys.some((key) => keys.has(key) || waitingKeys.has(key))));
        if (fits) {
          batch.push(pending);
          for (const key of pending.keys) keys.add(key);
          largest = Math.max(largest, pending.size);
          bytes += pending.bytes;
        } else {
          rest.push(pending);
          if (!full) for (const key of pending.keys) waitingKeys.add(key);
        }
      }
      queue = rest;
      inFlight++;
      void send(batch).finally(() => {
        inFlight--;
        flush();
      });
    }
  }

  async function send(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch as [Pending];
      await options.runSingle(only.request).then(only.resolve, only.reject);
      return;
    }
    let results: TxnResult[];
    try {
      results = await options.runBatch(batch.map((pending) => pending.request));
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      // One member's error (a lease gone, a request etcd refuses) fails the whole batch: find out whose.
      await Promise.all(batch.map((pending) => options.runSingle(pending.request).then(pending.resolve, pending.reject)));
      return;
    }
    batch.forEach((pending, i) => pending.resolve(results[i]!));
  }

  return {
    txn(request) {
      // Empty transactions read the revision; delete-prefix ranges cannot be checked for overlap cheaply.
      if (request.ops.length === 0 || request.ops.some((op) => op.type === "delete-prefix")) return options.runSingle(request);
      return new Promise<TxnResult>((resolve, reject) => {
        const keys = keysOf(request);
        const size = Math.max(request.compare?.length ?? 0, request.ops.length);
        let bytes = 0;
        for (const op of request.ops) bytes += op.type === "put" ? op.key.length + op.value.byteLength : 0;
        queue.push({ request, keys, size, bytes, resolve, reject });
        flush();
      });
    },
  };
}

function keysOf(request: TxnRequest): string[] {
  const keys = new Set<string>();
  for (const compare of request.compare ?? []) keys.add(compare.key);
  for (const op of request.ops as Exclude<Operation, { type: "delete-prefix" }>[]) keys.add(op.key);
  return [...keys];
}
