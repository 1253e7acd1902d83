// Baselines: what a Node process gets from etcd directly through the etcd3
// client, with no Switchboard in between.
import { Etcd3 } from "etcd3";
import { setTimeout as sleep } from "node:timers/promises";
import { runClosedLoop } from "./common.js";
import { instanceKey, sampleInstanceBytes } from "./fixtures.js";
import { monoMs, summarize } from "../lib/stats.js";

let client: Etcd3 | undefined;
let clientEndpoint = "";

function etcd(endpoint: string): Etcd3 {
  if (!client || clientEndpoint !== endpoint) {
    client?.close();
    client = new Etcd3({ hosts: endpoint });
    clientEndpoint = endpoint;
  }
  return client;
}

export interface RawRegisterParams {
  endpoint: string;
  count: number;
  concurrency: number;
  ttlSeconds: number;
  service: string;
}

/** Lease grant + put of an instance on it, `concurrency` in flight. */
async function rawRegister(p: RawRegisterParams) {
  const c = etcd(p.endpoint);
  // Warm the connection so the first ops do not pay for the handshake.
  await c.leaseClient.leaseGrant({ TTL: p.ttlSeconds });
  const values = Array.from({ length: p.count }, (_, i) => Buffer.from(sampleInstanceBytes(p.service, `raw-${i}`, i)));
  const run = await runClosedLoop(p.count, p.concurrency, async (i) => {
    const lease = await c.leaseClient.leaseGrant({ TTL: p.ttlSeconds });
    await c.put(instanceKey(p.service, `raw-${i}`)).value(values[i] as Buffer).lease(lease.ID);
  });
  return { ops: p.count, seconds: run.seconds, opsPerSecond: p.count / run.seconds, latency: summarize(run.latencies), errors: run.errors, firstError: run.firstError };
}

export interface RawWatchParams {
  endpoint: string;
  count: number;
  intervalMs: number;
  prefix: string;
}

/**
 * One watcher on a prefix and sequential puts in the same process: time
 * from the put's acknowledgement (and from its start) to the watch event.
 */
async function rawWatchLatency(p: RawWatchParams) {
  const c = etcd(p.endpoint);
  const arrivals = new Map<string, number>();
  let wake: (() => void) | undefined;
  const watcher = await c.watch().prefix(p.prefix).create();
  watcher.on("put", (kv) => {
    arrivals.set(kv.key.toString(), monoMs());
    wake?.();
  });
  const fromAck: number[] = [];
  const fromStart: number[] = [];
  try {
    await c.put(`${p.prefix}warmup`).value("x");
    await sleep(50);
    for (let i = 0; i < p.count; i++) {
      const key = `${p.prefix}k-${i}`;
      const t0 = monoMs();
      await c.put(key).value(`v-${i}`);
      const t1 = monoMs();
      while (!arrivals.has(key)) await new Promise<void>((resolve) => (wake = resolve));
      const arrived = arrivals.get(key) as number;
      fromAck.push(arrived - t1);
      fromStart.push(arrived - t0);
      if (p.intervalMs > 0) await sleep(p.intervalMs);
    }
  } finally {
    await watcher.cancel();
  }
  return { fromAck: summarize(fromAck), fromStart: summarize(fromStart) };
}

const keepAlive = { leases: [] as string[] };

export interface RawLeasesParams {
  endpoint: string;
  count: number;
  ttlSeconds: number;
  concurrency: number;
}

/** Grants the leases the raw keepalive baseline will renew. */
async function rawGrantLeases(p: RawLeasesParams) {
  const c = etcd(p.endpoint);
  const leases: string[] = new Array(p.count);
  const run = await runClosedLoop(p.count, p.concurrency, async (i) => {
    leases[i] = (await c.leaseClient.leaseGrant({ TTL: p.ttlSeconds })).ID;
  });
  keepAlive.leases = leases;
  return { granted: p.count, seconds: run.seconds, errors: run.errors };
}

export interface RawKeepAliveParams {
  endpoint: string;
  intervalMs: number;
}

const rawRun = { sent: 0, responses: 0, expired: 0, stop: new AbortController(), done: Promise.resolve() as Promise<unknown> };

/**
 * Starts renewing every granted lease each intervalMs over ONE
 * LeaseKeepAlive stream, spread evenly over the interval; returns once every
 * lease has been renewed once.
 */
async function rawKeepAliveStart(p: RawKeepAliveParams) {
  const c = etcd(p.endpoint);
  const stream = await c.leaseClient.leaseKeepAlive();
  const stop = new AbortController();
  Object.assign(rawRun, { sent: 0, responses: 0, expired: 0, stop });
  const renewed = new Set<string>();
  stream.on("data", (res: { ID: string; TTL: string }) => {
    rawRun.responses++;
    renewed.add(res.ID);
    if (Number(res.TTL) <= 0) rawRun.expired++;
  });
  stream.on("error", () => undefined);
  const leases = keepAlive.leases;
  const tickMs = 50;
  const perTick = leases.length / (p.intervalMs / tickMs);
  rawRun.done = (async () => {
    let cursor = 0;
    let carry = 0;
    let nextTick = performance.now();
    while (!stop.signal.aborted) {
      carry += perTick;
      while (carry >= 1) {
        carry -= 1;
        stream.write({ ID: leases[cursor] as string });
        cursor = (cursor + 1) % leases.length;
        rawRun.sent++;
      }
      nextTick += tickMs;
      await sleep(Math.max(0, nextTick - performance.now()));
    }
    await sleep(100);
    stream.end();
  })();
  const deadline = performance.now() + p.intervalMs * 3 + 10_000;
  while (renewed.size < leases.length && performance.now() < deadline) await sleep(50);
  return { renewedOnce: renewed.size, leases: leases.length };
}

async function rawKeepAliveCounters(_: Record<string, never>) {
  return { sent: rawRun.sent, responses: rawRun.responses, expired: rawRun.expired };
}

async function rawKeepAliveStop(_: Record<string, never>) {
  rawRun.stop.abort();
  await rawRun.done;
  return { sent: rawRun.sent, responses: rawRun.responses, expired: rawRun.expired };
}

/** Ends the baseline's leases so they do not expire during the next phase. */
async function rawRevokeLeases(p: { endpoint: string }) {
  const c = etcd(p.endpoint);
  const leases = keepAlive.leases;
  await runClosedLoop(leases.length, 64, (i) => c.leaseClient.leaseRevoke({ ID: leases[i] as string }));
  keepAlive.leases = [];
  return { revoked: leases.length };
}

export interface RawHostParams {
  endpoint: string;
  count: number;
  ttlSeconds: number;
  intervalMs: number;
  prefix: string;
}

/**
 * Failure-detection reference: grants `count` leases, puts one key on each
 * and renews them over one LeaseKeepAlive stream every intervalMs, telling
 * the parent which leases each response renewed. The parent SIGKILLs this
 * process.
 */
async function rawHostLeases(p: RawHostParams) {
  const c = etcd(p.endpoint);
  const leases: Array<{ lease: string; key: string }> = new Array(p.count);
  await runClosedLoop(p.count, 16, async (i) => {
    const lease = (await c.leaseClient.leaseGrant({ TTL: p.ttlSeconds })).ID;
    const key = `${p.prefix}${i}`;
    await c.put(key).value("x").lease(lease);
    leases[i] = { lease, key };
  });
  const stream = await c.leaseClient.leaseKeepAlive();
  let batch: string[] = [];
  const renewed = new Set<string>();
  stream.on("data", (res: { ID: string }) => {
    batch.push(res.ID);
    renewed.add(res.ID);
  });
  stream.on("error", () => undefined);
  const tickMs = 50;
  const perTick = p.count / (p.intervalMs / tickMs);
  void (async () => {
    let cursor = 0;
    let carry = 0;
    let nextTick = performance.now();
    for (;;) {
      carry += perTick;
      while (carry >= 1) {
        carry -= 1;
        stream.write({ ID: leases[cursor]!.lease });
        cursor = (cursor + 1) % leases.length;
      }
      if (batch.length > 0 && process.send) {
        process.send({ event: "heartbeats", at: monoMs(), leases: batch });
        batch = [];
      }
      nextTick += tickMs;
      await sleep(Math.max(0, nextTick - performance.now()));
    }
  })();
  const deadline = performance.now() + p.intervalMs * 3 + 10_000;
  while (renewed.size < p.count && performance.now() < deadline) await sleep(50);
  return { leases, renewedOnce: renewed.size };
}

const rawWatchers = new Map<string, { deletes: Map<string, number>; cancel: () => Promise<void> }>();

/** Watches a prefix and records when each key's delete event arrives. */
async function rawOpenWatcher(p: { name: string; endpoint: string; prefix: string }) {
  const c = etcd(p.endpoint);
  const deletes = new Map<string, number>();
  const watcher = await c.watch().prefix(p.prefix).create();
  watcher.on("delete", (kv) => deletes.set(kv.key.toString(), monoMs()));
  rawWatchers.set(p.name, { deletes, cancel: () => watcher.cancel() });
  return { ok: true };
}

async function rawWatcherDeletes(p: { name: string; close?: boolean }) {
  const w = rawWatchers.get(p.name);
  if (!w) throw new Error(`no raw watcher ${p.name}`);
  if (p.close) {
    await w.cancel();
    rawWatchers.delete(p.name);
  }
  return { deletes: Object.fromEntries(w.deletes) };
}

export const rawEtcdTasks = {
  rawHostLeases,
  rawOpenWatcher,
  rawWatcherDeletes,
  rawRegister,
  rawWatchLatency,
  rawGrantLeases,
  rawKeepAliveStart,
  rawKeepAliveCounters,
  rawKeepAliveStop,
  rawRevokeLeases,
};
