// Load against a Switchboard server through its public gRPC API (the
// generated nice-grpc clients, not the SDK, so that only the server is measured).
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Channel, Client } from "nice-grpc";
import {
  EventType,
  ListInstancesRequest,
  RegistryServiceDefinition,
  type KeepAliveRequest,
} from "../../generated/switchboard/registry/v1/registry.js";
import { ConfigServiceDefinition } from "../../generated/switchboard/config/v1/config.js";
import { EchoServiceDefinition, type MemoryReport } from "../server/echo.js";
import type { LoadTls } from "./common.js";
import {
  clientsFor,
  closeChannels,
  openChannels,
  PushQueue,
  RenewalSchedule,
  runClosedLoop,
  runForDuration,
  throughputResult,
} from "./common.js";
import { NAMESPACE, sampleInstance } from "./fixtures.js";
import { monoMs, summarize } from "../lib/stats.js";

type RegistryClient = Client<typeof RegistryServiceDefinition>;

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

// ---------------------------------------------------------------- register

export interface RegisterParams {
  address: string;
  count: number;
  concurrency: number;
  channels: number;
  ttlSeconds: number;
  /** Instances are spread round-robin over this many services named `${service}-${n}`; 1 = just `service`. */
  services?: number;
  service: string;
  idPrefix: string;
  /** Connect over TLS (the security scenario). Default plaintext. */
  tls?: LoadTls;
  /** Bearer token sent with every call (the security scenario with auth). Default none. */
  token?: string;
}

function serviceName(p: { service: string; services?: number }, i: number): string {
  return (p.services ?? 1) > 1 ? `${p.service}-${i % (p.services ?? 1)}` : p.service;
}

/** Register, `concurrency` in flight over `channels` connections. */
async function sbRegister(p: RegisterParams) {
  const channels = openChannels(p.address, p.channels, p.tls);
  const clients = clientsFor(RegistryServiceDefinition, channels, p.token);
  try {
    // Warm each connection (handshake, first-call costs) outside the measurement.
    await Promise.all(clients.map((c) => c.listServices({ namespace: NAMESPACE }).catch(() => undefined)));
    const run = await runClosedLoop(p.count, p.concurrency, async (i, worker) => {
      const client = clients[worker % clients.length] as RegistryClient;
      const instanceId = `${p.idPrefix}-${i}`;
      await client.register({ instance: sampleInstance(serviceName(p, i), instanceId, i), ttlSeconds: p.ttlSeconds });
    });
    return throughputResult(p.count, run);
  } finally {
    closeChannels(channels);
  }
}

// ---------------------------------------------------------------- resolve and echo

export interface UnaryLoadParams {
  address: string;
  durationMs: number;
  warmupMs: number;
  concurrency: number;
  channels: number;
  service: string;
  /** Connect over TLS (the security scenario). Default plaintext. */
  tls?: LoadTls;
  /** Bearer token sent with every call (the security scenario with auth). Default none. */
  token?: string;
}

async function unaryLoad(p: UnaryLoadParams, make: (channel: Channel) => () => Promise<unknown>) {
  const channels = openChannels(p.address, p.channels, p.tls);
  try {
    const calls = channels.map(make);
    const call = (worker: number) => (calls[worker % calls.length] as () => Promise<unknown>)();
    await runForDuration(p.warmupMs, p.concurrency, (_, w) => call(w));
    const run = await runForDuration(p.durationMs, p.concurrency, (_, w) => call(w));
    return {
      ops: run.latencies.length,
      seconds: run.seconds,
      opsPerSecond: run.latencies.length / run.seconds,
      latency: summarize(run.latencies),
      errors: run.errors,
      firstError: run.firstError,
    };
  } finally {
    closeChannels(channels);
  }
}

/**
 * ListInstances with the response left undecoded: the load generator shares
 * the two cores with the server, so it does the same work per call for resolve
 * and for echo, and the difference between them is the server's.
 */
const RawListInstances = {
  listInstances: {
    path: "/switchboard.registry.v1.RegistryService/ListInstances",
    requestStream: false,
    responseStream: false,
    requestSerialize: (request: ListInstancesRequest) => ListInstancesRequest.encode(request).finish(),
    requestDeserialize: (bytes: Uint8Array) => ListInstancesRequest.decode(bytes),
    responseSerialize: (bytes: Uint8Array) => bytes,
    responseDeserialize: (bytes: Uint8Array) => bytes,
    options: {},
  },
} as const;

/** ListInstances of one service, served from the server's cache. */
async function sbResolve(p: UnaryLoadParams) {
  const request = ListInstancesRequest.fromPartial({ namespace: NAMESPACE, service: p.service });
  // Check once, decoded, that the service resolves to its instances.
  const [check] = openChannels(p.address, 1, p.tls) as [Channel];
  try {
    const [client] = clientsFor(RegistryServiceDefinition, [check], p.token) as [RegistryClient];
    const response = await client.listInstances(request);
    if (response.instances.length === 0) throw new Error(`resolve of ${p.service} returned no instances`);
  } finally {
    check.close();
  }
  return unaryLoad(p, (channel) => {
    const [client] = clientsFor(RawListInstances, [channel], p.token);
    return async () => {
      const bytes = await client!.listInstances(request);
      if (bytes.length === 0) throw new Error(`resolve of ${p.service} returned nothing`);
    };
  });
}

/** The null echo RPC on the same server process. Its payload is the size of a ListInstances request. */
async function sbEcho(p: UnaryLoadParams) {
  const payload = new Uint8Array(24).fill(7);
  return unaryLoad(p, (channel) => {
    const [client] = clientsFor(EchoServiceDefinition, [channel], p.token);
    return () => client!.echo(payload);
  });
}

/** Number of instances of the given services (include_unroutable). */
async function sbCountInstances(p: { address: string; service: string; services?: number }) {
  const [channel] = openChannels(p.address, 1) as [Channel];
  const [client] = clientsFor(RegistryServiceDefinition, [channel]) as [RegistryClient];
  try {
    let total = 0;
    for (let s = 0; s < (p.services ?? 1); s++) {
      const response = await client.listInstances({ namespace: NAMESPACE, service: serviceName(p, s), includeUnroutable: true });
      total += response.instances.length;
    }
    return { instances: total };
  } finally {
    channel.close();
  }
}

// ---------------------------------------------------------------- watch streams

/** Arrival time (ms, CLOCK_MONOTONIC) of each event at each stream: key → Float64Array indexed by stream. */
interface StreamSet {
  count: number;
  ready: number;
  errors: number;
  firstError?: string;
  arrivals: Map<string, Float64Array>;
  abort: AbortController;
  channels: Channel[];
  done: Promise<unknown>;
}

const streamSets = new Map<string, StreamSet>();

function record(set: StreamSet, key: string, stream: number): void {
  let times = set.arrivals.get(key);
  if (!times) {
    times = new Float64Array(set.count).fill(Number.NaN);
    set.arrivals.set(key, times);
  }
  times[stream] = monoMs();
}

export interface OpenStreamsParams {
  name: string;
  address: string;
  count: number;
  channels: number;
  service: string;
  /** Config watch: profile and the key whose value identifies each write. */
  profile?: string;
  key?: string;
  timeoutMs: number;
}

async function openStreams(
  p: OpenStreamsParams,
  run: (set: StreamSet, stream: number, channel: Channel, signal: AbortSignal) => Promise<void>,
) {
  const started = performance.now();
  const channels = openChannels(p.address, p.channels);
  const abort = new AbortController();
  // Every stream of the set listens on this one signal.
  setMaxListeners(0, abort.signal);
  const set: StreamSet = { count: p.count, ready: 0, errors: 0, arrivals: new Map(), abort, channels, done: Promise.resolve() };
  streamSets.set(p.name, set);
  set.done = Promise.all(
    Array.from({ length: p.count }, (_, i) =>
      run(set, i, channels[i % channels.length] as Channel, abort.signal).catch((error: unknown) => {
        if (abort.signal.aborted) return;
        set.errors++;
        set.firstError ??= errorText(error);
      }),
    ),
  );
  const deadline = performance.now() + p.timeoutMs;
  while (set.ready + set.errors < p.count && performance.now() < deadline) await sleep(20);
  return { opened: set.ready, errors: set.errors, firstError: set.firstError, seconds: (performance.now() - started) / 1000 };
}

/** Opens `count` Watch streams on a service and waits for every snapshot. */
async function sbOpenWatchers(p: OpenStreamsParams) {
  return openStreams(p, async (set, stream, channel, signal) => {
    const [client] = clientsFor(RegistryServiceDefinition, [channel]) as [RegistryClient];
    for await (const message of client.watch({ namespace: NAMESPACE, service: p.service }, { signal })) {
      const kind = message.kind;
      if (kind?.$case === "snapshot") {
        set.ready++;
      } else if (kind?.$case === "event" && kind.value.instance) {
        const event = kind.value;
        const type =
          event.type === EventType.EVENT_TYPE_ADDED
            ? "ADDED"
            : event.type === EventType.EVENT_TYPE_REMOVED
              ? "REMOVED"
              : "UPDATED";
        record(set, `${type}:${event.instance!.instanceId}`, stream);
      }
    }
  });
}

/** Opens `count` WatchConfig streams and waits for every initial view; records when each value of `key` arrives. */
async function cfgOpenWatchers(p: OpenStreamsParams) {
  return openStreams(p, async (set, stream, channel, signal) => {
    const [client] = clientsFor(ConfigServiceDefinition, [channel]);
    let first = true;
    for await (const message of client!.watchConfig(
      { namespace: NAMESPACE, service: p.service, profile: p.profile ?? "" },
      { signal },
    )) {
      if (message.bookmark) continue;
      if (first) {
        first = false;
        set.ready++;
        continue;
      }
      const entry = message.entries.find((e) => e.key === p.key);
      if (entry) record(set, entry.value, stream);
    }
  });
}

/** Opens `count` null Hold streams on the echo service (the memory baseline). */
async function echoOpenHolds(p: OpenStreamsParams) {
  return openStreams(p, async (set, _stream, channel, signal) => {
    const [client] = clientsFor(EchoServiceDefinition, [channel]);
    let first = true;
    for await (const _ of client!.hold(new Uint8Array(0), { signal })) {
      if (first) {
        first = false;
        set.ready++;
      }
    }
  });
}

/** How many streams of a set have received an event with each of these keys. */
async function streamProgress(p: { name: string; keys: string[] }) {
  const set = streamSets.get(p.name);
  if (!set) throw new Error(`no stream set ${p.name}`);
  let complete = 0;
  let received = 0;
  for (const key of p.keys) {
    const times = set.arrivals.get(key);
    let n = 0;
    if (times) for (const t of times) if (!Number.isNaN(t)) n++;
    received += n;
    if (n === set.count) complete++;
  }
  return { complete, received, errors: set.errors, firstError: set.firstError };
}

/** Ends a stream set and returns every arrival. */
async function closeStreams(p: { name: string; keep?: boolean }) {
  const set = streamSets.get(p.name);
  if (!set) throw new Error(`no stream set ${p.name}`);
  const arrivals = Object.fromEntries(set.arrivals);
  if (!p.keep) {
    set.abort.abort();
    await Promise.race([set.done, sleep(5000)]);
    closeChannels(set.channels);
    streamSets.delete(p.name);
  }
  return { streams: set.count, errors: set.errors, firstError: set.firstError, arrivals };
}

// ---------------------------------------------------------------- sequential writes

export interface SequentialParams {
  address: string;
  count: number;
  intervalMs: number;
  service: string;
  idPrefix: string;
  ttlSeconds: number;
}

/**
 * Writes instances `${idPrefix}-0..count-1` one at a time, intervalMs apart; returns each
 * acknowledged write's send and acknowledgement time and the watch event it should cause.
 */
async function sequentialWrites(
  p: Omit<SequentialParams, "ttlSeconds">,
  event: "ADDED" | "UPDATED",
  write: (client: RegistryClient, instanceId: string, i: number) => Promise<unknown>,
) {
  const [channel] = openChannels(p.address, 1) as [Channel];
  const [client] = clientsFor(RegistryServiceDefinition, [channel]) as [RegistryClient];
  const keys: string[] = [];
  const sent: number[] = [];
  const acked: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  try {
    await client.listServices({ namespace: NAMESPACE });
    for (let i = 0; i < p.count; i++) {
      const instanceId = `${p.idPrefix}-${i}`;
      const t0 = monoMs();
      try {
        await write(client, instanceId, i);
        acked.push(monoMs());
        sent.push(t0);
        keys.push(`${event}:${instanceId}`);
      } catch (error) {
        // A failed write is reported, not fatal: the other writes still measure propagation.
        errors++;
        firstError ??= errorText(error);
      }
      await sleep(p.intervalMs);
    }
    return { keys, sent, acked, errors, firstError };
  } finally {
    channel.close();
  }
}

/** Registers instances one at a time; returns each one's send and acknowledgement time. */
function sbRegisterSequential(p: SequentialParams) {
  return sequentialWrites(p, "ADDED", (client, instanceId, i) =>
    client.register({ instance: sampleInstance(p.service, instanceId, i), ttlSeconds: p.ttlSeconds }),
  );
}

/**
 * Changes the weight of instances `${idPrefix}-0..count-1` (registered before) one at a time with
 * UpdateInstance: a single etcd transaction per write, the Switchboard counterpart of one raw put.
 */
function sbUpdateSequential(p: Omit<SequentialParams, "ttlSeconds">) {
  return sequentialWrites(p, "UPDATED", (client, instanceId, i) =>
    // sampleInstance registers weight 100: every update is a change, hence an event.
    client.updateInstance({
      namespace: NAMESPACE,
      service: p.service,
      instanceId,
      weight: 101 + (i % 9000),
      metadata: undefined,
      tags: undefined,
    }),
  );
}

export interface ConfigSequentialParams {
  address: string;
  count: number;
  intervalMs: number;
  service: string;
  profile: string;
  key: string;
  idPrefix: string;
}

/** Puts a config value of the service scope one at a time; every watcher of that service gets a new view. */
async function cfgPutSequential(p: ConfigSequentialParams) {
  const [channel] = openChannels(p.address, 1) as [Channel];
  const [client] = clientsFor(ConfigServiceDefinition, [channel]);
  const keys: string[] = [];
  const sent: number[] = [];
  const acked: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  try {
    for (let i = 0; i < p.count; i++) {
      const value = `${p.idPrefix}-${i}`;
      const t0 = monoMs();
      try {
        await client!.putValue({
          scope: { namespace: NAMESPACE, service: p.service, profile: "" },
          key: p.key,
          value,
          author: "bench",
        });
        acked.push(monoMs());
        sent.push(t0);
        keys.push(value);
      } catch (error) {
        errors++;
        firstError ??= errorText(error);
      }
      await sleep(p.intervalMs);
    }
    return { keys, sent, acked, errors, firstError };
  } finally {
    channel.close();
  }
}

// ---------------------------------------------------------------- agents: register + keepalive

interface AgentRun {
  sent: number;
  responses: number;
  expired: number;
  errors: number;
  firstError?: string;
  stop: AbortController;
  done: Promise<unknown>;
  channels: Channel[];
}

const agentRuns = new Map<string, AgentRun>();

export interface AgentsParams {
  name: string;
  address: string;
  count: number;
  /** Registrations in flight. */
  concurrency: number;
  ttlSeconds: number;
  service: string;
  /** Spread over this many services `${service}-${n}`; 1 = just `service`. */
  services?: number;
  idPrefix: string;
  /** Each lease is renewed every intervalMs after its registration (the SDK renews at TTL / 3). */
  intervalMs: number;
  /** KeepAlive streams; instance i renews over stream i % streams (count = one per instance, as separate agents hold). */
  streams: number;
  channels: number;
  /** Tell the parent which leases each tick's responses renewed (failure-detection hosts). */
  reportHeartbeats?: boolean;
}

/**
 * Acts as `count` agents: registers them (`concurrency` in flight) and keeps
 * each alive over KeepAlive from its registration on. Returns once every
 * instance has been renewed once; renewals go on until sbAgentsStop.
 */
async function sbAgentsStart(p: AgentsParams) {
  const channels = openChannels(p.address, p.channels);
  const clients = clientsFor(RegistryServiceDefinition, channels);
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  const run: AgentRun = { sent: 0, responses: 0, expired: 0, errors: 0, stop, channels, done: Promise.resolve() };
  agentRuns.set(p.name, run);
  const streamCount = Math.max(1, Math.min(p.streams, p.count));
  const queues = Array.from({ length: streamCount }, () => new PushQueue<KeepAliveRequest>());
  const streamOf = new Map<string, number>();
  const renewed = new Set<string>();
  let ackBatch: string[] = [];
  const streams = Promise.all(
    queues.map(async (queue, s) => {
      const client = clients[s % clients.length] as RegistryClient;
      try {
        for await (const response of client.keepAlive(queue, { signal: stop.signal })) {
          run.responses++;
          if (response.ttlSeconds === 0) run.expired++;
          else {
            renewed.add(response.leaseId);
            if (p.reportHeartbeats) ackBatch.push(response.leaseId);
          }
        }
      } catch (error) {
        if (stop.signal.aborted) return;
        run.errors++;
        run.firstError ??= errorText(error);
      }
    }),
  );
  const schedule = new RenewalSchedule(p.intervalMs, (lease) => {
    (queues[streamOf.get(lease) as number] as PushQueue<KeepAliveRequest>).push({ leaseId: lease });
    run.sent++;
  });
  const ticking = schedule.run(stop.signal, 25, () => {
    if (p.reportHeartbeats && ackBatch.length > 0 && process.send) {
      process.send({ event: "heartbeats", at: monoMs(), leases: ackBatch });
      ackBatch = [];
    }
  });
  run.done = Promise.all([streams, ticking]).finally(() => queues.forEach((q) => q.close()));

  const leases: string[] = new Array(p.count);
  const registration = await runClosedLoop(p.count, p.concurrency, async (i, worker) => {
    const client = clients[worker % clients.length] as RegistryClient;
    const response = await client.register({
      instance: sampleInstance(serviceName(p, i), `${p.idPrefix}-${i}`, i),
      ttlSeconds: p.ttlSeconds,
    });
    leases[i] = response.leaseId;
    streamOf.set(response.leaseId, i % streamCount);
    schedule.add(response.leaseId);
  });
  const deadline = performance.now() + p.intervalMs * 2 + 10_000;
  while (renewed.size < schedule.size && performance.now() < deadline && run.errors === 0) await sleep(50);
  return {
    registered: schedule.size,
    registerSeconds: registration.seconds,
    registerErrors: registration.errors,
    firstRegisterError: registration.firstError,
    renewedOnce: renewed.size,
    expired: run.expired,
    streams: streamCount,
    errors: run.errors,
    firstError: run.firstError,
    /** leases[i] belongs to instance `${idPrefix}-${i}`. */
    leases,
  };
}

async function sbAgentsCounters(p: { name: string }) {
  const run = agentRuns.get(p.name);
  if (!run) throw new Error(`no agents ${p.name}`);
  return { sent: run.sent, responses: run.responses, expired: run.expired, errors: run.errors, firstError: run.firstError };
}

async function sbAgentsStop(p: { name: string }) {
  const run = agentRuns.get(p.name);
  if (!run) throw new Error(`no agents ${p.name}`);
  run.stop.abort();
  await Promise.race([run.done, sleep(5000)]);
  closeChannels(run.channels);
  agentRuns.delete(p.name);
  return { sent: run.sent, responses: run.responses, expired: run.expired, errors: run.errors, firstError: run.firstError };
}

// ---------------------------------------------------------------- memory

/** Asks the bench server to collect garbage and report process.memoryUsage(). */
async function serverMemory(p: { address: string }): Promise<MemoryReport> {
  const [channel] = openChannels(p.address, 1) as [Channel];
  try {
    const [client] = clientsFor(EchoServiceDefinition, [channel]);
    const bytes = await client!.gc(new Uint8Array(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as MemoryReport;
  } finally {
    channel.close();
  }
}

export const switchboardTasks = {
  sbRegister,
  sbResolve,
  sbEcho,
  sbCountInstances,
  sbOpenWatchers,
  cfgOpenWatchers,
  echoOpenHolds,
  streamProgress,
  closeStreams,
  sbRegisterSequential,
  sbUpdateSequential,
  cfgPutSequential,
  sbAgentsStart,
  sbAgentsCounters,
  sbAgentsStop,
  serverMemory,
};
