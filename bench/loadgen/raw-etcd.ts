// Baselines: what a Node process gets from etcd directly through the etcd3
// client, with no Switchboard in between.
import { Etcd3 } from "etcd3";
import { setTimeout as sleep } from "node:timers/promises";
import { RenewalSchedule, runClosedLoop, throughputResult } from "./common.js";
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
  /** Instances are spread round-robin over this many services `${service}-${n}`; default 1 = just `service`. */
  services?: number;
}

const rawService = (p: { service: string; services?: number }, i: number): string =>
  (p.services ?? 1) > 1 ? `${p.service}-${i % (p.services ?? 1)}` : p.service;

/** Lease grant + put of an instance on it, `concurrency` in flight. */
async function rawRegister(p: RawRegisterParams) {
  const c = etcd(p.endpoint);
  // Warm the connection so the first ops do not pay for the handshake.
  await c.leaseClient.leaseGrant({ TTL: p.ttlSeconds });
  const values = Array.from({ length: p.count }, (_, i) => Buffer.from(sampleInstanceBytes(rawService(p, i), `raw-${i}`, i)));
  const run = await runClosedLoop(p.count, p.concurrency, async (i) => {
    const lease = await c.leaseClient.leaseGrant({ TTL: p.ttlSeconds });
    await c
      .put(instanceKey(rawService(p, i), `raw-${i}`))
      .value(values[i] as Buffer)
      .lease(lease.ID);
  });
  return throughputResult(p.count, run);
}

// Clients opened by rawJoin, by service, until rawLeave closes them.
const rawJoined = new Map<string, Etcd3[]>();

/**
 * Lease grant + put, each from a NEW etcd3 client with its own TCP connection
 * (a distinct channel option keeps grpc-js from sharing one connection between
 * clients): the baseline of an SDK agent join with its own connection.
 */
async function rawJoin(p: RawRegisterParams & { first?: number }) {
  const clients: Etcd3[] = [];
  rawJoined.set(p.service, clients);
  const first = p.first ?? 0;
  const values = Array.from({ length: p.count }, (_, k) =>
    Buffer.from(sampleInstanceBytes(p.service, `raw-${first + k}`, first + k)),
  );
  const run = await runClosedLoop(p.count, p.concurrency, async (k) => {
    const c = new Etcd3({ hosts: p.endpoint, grpcOptions: { "grpc.switchboard_bench_client": first + k } });
    clients.push(c);
    const lease = await c.leaseClient.leaseGrant({ TTL: p.ttlSeconds });
    await c
      .put(instanceKey(p.service, `raw-${first + k}`))
      .value(values[k] as Buffer)
      .lease(lease.ID);
  });
  return { ...throughputResult(p.count, run), samples: Array.from(run.latencies) };
}

/** Closes the clients rawJoin opened (their leases expire on their own). */
async function rawLeave(p: { service: string }) {
  const clients = rawJoined.get(p.service) ?? [];
  rawJoined.delete(p.service);
  for (const c of clients) c.close();
  return { ops: clients.length };
}

export interface RawWatchParams {
  endpoint: string;
  count: number;
  intervalMs: number;
  prefix: string;
  /** When set, each write is a lease grant of this TTL, then the put on that lease (what a Register is). */
  leaseTtlSeconds?: number;
}

/**
 * One watcher on a prefix and sequential puts in the same process: time
 * from the put's acknowledgement (and from its start) to the watch event.
 * With leaseTtlSeconds each write is a lease grant + put, timed from the grant's start.
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
      if (p.leaseTtlSeconds === undefined) await c.put(key).value(`v-${i}`);
      else {
        const lease = await c.leaseClient.leaseGrant({ TTL: p.leaseTtlSeconds });
        await c.put(key).value(`v-${i}`).lease(lease.ID);
      }
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

export interface RawAgentsParams {
  endpoint: string;
  count: number;
  concurrency: number;
  ttlSeconds: number;
  intervalMs: number;
  /** Also put one key `${keyPrefix}${i}` on each lease (failure-detection reference). */
  keyPrefix?: string;
  /** Tell the parent which leases each tick's responses renewed. */
  reportHeartbeats?: boolean;
}

const rawRun = {
  sent: 0,
  responses: 0,
  expired: 0,
  stop: new AbortController(),
  done: Promise.resolve() as Promise<unknown>,
  leases: [] as string[],
};

/**
 * Grants `count` leases (`concurrency` in flight) and renews each every
 * intervalMs from its grant on, all over ONE LeaseKeepAlive stream. Returns
 * once every lease has been renewed once.
 */
async function rawAgentsStart(p: RawAgentsParams) {
  const c = etcd(p.endpoint);
  const stream = await c.leaseClient.leaseKeepAlive();
  const stop = new AbortController();
  Object.assign(rawRun, { sent: 0, responses: 0, expired: 0, stop });
  const renewed = new Set<string>();
  let batch: string[] = [];
  stream.on("data", (res: { ID: string; TTL: string }) => {
    rawRun.responses++;
    if (Number(res.TTL) <= 0) {
      rawRun.expired++;
      return;
    }
    renewed.add(res.ID);
    if (p.reportHeartbeats) batch.push(res.ID);
  });
  stream.on("error", () => undefined);
  const schedule = new RenewalSchedule(p.intervalMs, (lease) => {
    stream.write({ ID: lease });
    rawRun.sent++;
  });
  rawRun.done = schedule
    .run(stop.signal, 25, () => {
      if (batch.length > 0 && process.send) {
        process.send({ event: "heartbeats", at: monoMs(), leases: batch });
        batch = [];
      }
    })
    .finally(() => stream.end());
  const leases: string[] = new Array(p.count);
  const keys: string[] = new Array(p.count);
  const granting = await runClosedLoop(p.count, p.concurrency, async (i) => {
    const lease = (await c.leaseClient.leaseGrant({ TTL: p.ttlSeconds })).ID;
    if (p.keyPrefix !== undefined) {
      keys[i] = `${p.keyPrefix}${i}`;
      await c.put(keys[i]).value("x").lease(lease);
    }
    leases[i] = lease;
    schedule.add(lease);
  });
  rawRun.leases = leases;
  const deadline = performance.now() + p.intervalMs * 2 + 10_000;
  while (renewed.size < schedule.size && performance.now() < deadline) await sleep(50);
  return {
    granted: schedule.size,
    grantSeconds: granting.seconds,
    grantErrors: granting.errors,
    firstGrantError: granting.firstError,
    renewedOnce: renewed.size,
    expired: rawRun.expired,
    leases,
    keys,
  };
}

async function rawAgentsCounters(_: Record<string, never>) {
  return { sent: rawRun.sent, responses: rawRun.responses, expired: rawRun.expired };
}

/** Stops renewing and revokes the leases, so they do not expire during the next phase. */
async function rawAgentsStop(p: { endpoint: string }) {
  rawRun.stop.abort();
  await rawRun.done;
  const c = etcd(p.endpoint);
  const leases = rawRun.leases;
  await runClosedLoop(leases.length, 64, (i) => c.leaseClient.leaseRevoke({ ID: leases[i] as string }));
  rawRun.leases = [];
  return { sent: rawRun.sent, responses: rawRun.responses, expired: rawRun.expired };
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

export interface RawOpenWatchersParams {
  name: string;
  endpoint: string;
  /** Watchers per service, on the prefix of that service's instances. */
  perService: number;
  service: string;
  services: number;
  /** Watchers sharing one client (one connection, one multiplexed Watch stream). */
  watchersPerClient: number;
}

const rawWatcherSets = new Map<string, { clients: Etcd3[]; events: number }>();

/**
 * The footprint baseline's watchers: each lists the keys of its service
 * (keys only, as a ZooKeeper children watch does) and watches the prefix
 * from the revision after that read.
 */
async function rawOpenWatchers(p: RawOpenWatchersParams) {
  const total = p.perService * p.services;
  const clients = Array.from({ length: Math.ceil(total / p.watchersPerClient) }, () => new Etcd3({ hosts: p.endpoint }));
  const set = { clients, events: 0 };
  rawWatcherSets.set(p.name, set);
  let keys = 0;
  const run = await runClosedLoop(total, 64, async (w) => {
    const c = clients[Math.floor(w / p.watchersPerClient)] as Etcd3;
    const prefix = instanceKey(rawService(p, w), "");
    const listed = await c.getAll().prefix(prefix).keys();
    keys += listed.length;
    const watcher = await c.watch().prefix(prefix).create();
    watcher.on("data", () => set.events++);
  });
  return { watchers: total, clients: clients.length, keys, errors: run.errors, firstError: run.firstError };
}

async function rawCloseWatchers(p: { name: string }) {
  const set = rawWatcherSets.get(p.name);
  rawWatcherSets.delete(p.name);
  for (const c of set?.clients ?? []) c.close();
  return { events: set?.events ?? 0 };
}

export const rawEtcdTasks = {
  rawOpenWatchers,
  rawCloseWatchers,
  rawRegister,
  rawJoin,
  rawLeave,
  rawWatchLatency,
  rawAgentsStart,
  rawAgentsCounters,
  rawAgentsStop,
  rawOpenWatcher,
  rawWatcherDeletes,
};
