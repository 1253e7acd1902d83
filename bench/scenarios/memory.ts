// 6. Memory: server heap and RSS per registered instance and per idle watch
// stream, each measured after a full GC (the bench server runs with
// --expose-gc; its echo service's Gc RPC collects and reports
// process.memoryUsage()). The server's own /metrics gauges
// (nodejs_heap_size_used_bytes, process_resident_memory_bytes) are recorded too.
//
// Baselines: for instances, the bytes Switchboard stores per instance in etcd
// (key + value, read back from etcd); for watch streams, an idle null stream
// (the echo service's Hold) on a fresh server with the same connections.
import { setTimeout as sleep } from "node:timers/promises";
import { Etcd3 } from "etcd3";
import { sumMetric } from "../lib/etcd.js";
import { withEnv, type BenchEnv, type BenchOptions } from "../lib/env.js";
import type { LoadGen } from "../lib/loadgen.js";
import { ratio, type Row } from "../lib/report.js";
import type { Profile } from "../profile.js";

const STREAMS_PER_CHANNEL = 100;

interface Snapshot {
  heapUsed: number;
  rss: number;
  gcRan: boolean;
  metricsHeapUsed: number;
  metricsRss: number;
}

async function snapshot(env: BenchEnv, loadgen: LoadGen): Promise<Snapshot> {
  const report = await loadgen.call("serverMemory", { address: env.address });
  const text = await env.server!.metrics();
  return {
    heapUsed: report.heapUsed,
    rss: report.rss,
    gcRan: report.gcRan,
    metricsHeapUsed: sumMetric(text, "nodejs_heap_size_used_bytes"),
    metricsRss: sumMetric(text, "process_resident_memory_bytes"),
  };
}

const perItem = (before: Snapshot, after: Snapshot, n: number) => ({
  heapBytes: (after.heapUsed - before.heapUsed) / n,
  rssBytes: (after.rss - before.rss) / n,
  metricsHeapBytes: (after.metricsHeapUsed - before.metricsHeapUsed) / n,
  metricsRssBytes: (after.metricsRss - before.metricsRss) / n,
});

/** Bytes of key + value Switchboard stored for its instances, averaged over one service. */
async function storedBytesPerInstance(endpoint: string, prefix: string): Promise<number> {
  const client = new Etcd3({ hosts: endpoint });
  try {
    const kvs = await client.getAll().prefix(prefix).limit(200).exec();
    if (kvs.kvs.length === 0) return Number.NaN;
    return kvs.kvs.reduce((n, kv) => n + kv.key.length + kv.value.length, 0) / kvs.kvs.length;
  } finally {
    client.close();
  }
}

async function instancesRow(options: BenchOptions, profile: Profile["memory"]): Promise<Row> {
  return withEnv(options, async (env) => {
    const [loadgen] = await env.loadgen(1);
    await sleep(1000);
    const before = await snapshot(env, loadgen!);
    const measured = await env.measure(() =>
      loadgen!.call("sbRegister", {
        address: env.address,
        count: profile.instances,
        concurrency: 64,
        channels: 1,
        ttlSeconds: 300,
        services: profile.services,
        service: "mem",
        idPrefix: "m",
      }),
    );
    if (measured.value.errors) throw new Error(`register failed: ${measured.value.firstError}`);
    await sleep(1000);
    const after = await snapshot(env, loadgen!);
    const per = perItem(before, after, profile.instances);
    const stored = await storedBytesPerInstance(env.etcd.endpoint, "/switchboard/instances/bench/mem-0/");
    options.log(
      `  ${profile.instances} instances: heap ${per.heapBytes.toFixed(0)} B, RSS ${per.rssBytes.toFixed(0)} B per instance (stored in etcd: ${stored.toFixed(0)} B); gc ${after.gcRan ? "ran" : "NOT available"}`,
    );
    return {
      scenario: `6. Memory per registered instance (${profile.instances.toLocaleString("en-US")})`,
      baseline: { label: "key + value stored in etcd", value: stored, unit: "B" },
      result: { label: `server heap after GC (RSS ${per.rssBytes.toFixed(0)} B)`, value: per.heapBytes, unit: "B" },
      ratio: ratio(per.heapBytes, stored),
      target: { text: "≤ 2 KiB heap per instance", met: after.gcRan && per.heapBytes <= 2048 },
      usage: { result: measured.usage },
      details: {
        instances: profile.instances,
        services: profile.services,
        before,
        after,
        perInstance: per,
        registerOpsPerSecond: measured.value.opsPerSecond,
      },
    };
  });
}

async function openIdle(
  env: BenchEnv,
  loadgens: LoadGen[],
  task: "echoOpenHolds" | "sbOpenWatchers",
  total: number,
  service: string,
) {
  const shares = loadgens.map((_, i) => Math.floor(total / loadgens.length) + (i < total % loadgens.length ? 1 : 0));
  const opened = await Promise.all(
    loadgens.map((l, i) =>
      l.call(task, {
        name: "idle",
        address: env.address,
        count: shares[i]!,
        channels: Math.ceil(shares[i]! / STREAMS_PER_CHANNEL),
        service,
        timeoutMs: 180_000,
      }),
    ),
  );
  const n = opened.reduce((acc, o) => acc + o.opened, 0);
  if (n !== total) throw new Error(`${task}: opened ${n} of ${total}: ${opened.find((o) => o.firstError)?.firstError}`);
}

async function watchersRow(options: BenchOptions, profile: Profile["memory"]): Promise<Row> {
  return withEnv(options, async (env) => {
    const loadgens = await env.loadgen(profile.loadgens);
    const service = "idle";
    // A small service, as most are: three instances in every snapshot.
    await loadgens[0]!.call("sbRegister", {
      address: env.address,
      count: 3,
      concurrency: 3,
      channels: 1,
      ttlSeconds: 300,
      service,
      idPrefix: "x",
    });

    // Null streams on a fresh server.
    await sleep(1000);
    const nullBefore = await snapshot(env, loadgens[0]!);
    const nullPhase = await env.measure(() => openIdle(env, loadgens, "echoOpenHolds", profile.watchers, service));
    await sleep(1000);
    const nullAfter = await snapshot(env, loadgens[0]!);
    await Promise.all(loadgens.map((l) => l.call("closeStreams", { name: "idle" })));

    // Watch streams on another fresh server (RSS does not shrink back after the null phase).
    await env.restartServer();
    await sleep(1000);
    const watchBefore = await snapshot(env, loadgens[0]!);
    const watchPhase = await env.measure(() => openIdle(env, loadgens, "sbOpenWatchers", profile.watchers, service));
    await sleep(1000);
    const watchAfter = await snapshot(env, loadgens[0]!);
    await Promise.all(loadgens.map((l) => l.call("closeStreams", { name: "idle" })));

    const nullPer = perItem(nullBefore, nullAfter, profile.watchers);
    const watchPer = perItem(watchBefore, watchAfter, profile.watchers);
    options.log(
      `  ${profile.watchers} idle streams: null ${nullPer.heapBytes.toFixed(0)} B heap / ${nullPer.rssBytes.toFixed(0)} B RSS; Watch ${watchPer.heapBytes.toFixed(0)} B heap / ${watchPer.rssBytes.toFixed(0)} B RSS per stream`,
    );
    return {
      scenario: `6. Memory per idle watch stream (${profile.watchers.toLocaleString("en-US")})`,
      baseline: {
        label: `idle null stream, same server build (RSS ${nullPer.rssBytes.toFixed(0)} B)`,
        value: nullPer.heapBytes,
        unit: "B heap",
      },
      result: { label: `idle Watch stream (RSS ${watchPer.rssBytes.toFixed(0)} B)`, value: watchPer.heapBytes, unit: "B heap" },
      ratio: ratio(watchPer.heapBytes, nullPer.heapBytes),
      target: { text: "≤ 16 KiB heap per idle watcher", met: watchAfter.gcRan && watchPer.heapBytes <= 16 * 1024 },
      usage: { baseline: nullPhase.usage, result: watchPhase.usage },
      details: {
        watchers: profile.watchers,
        nullStreams: { before: nullBefore, after: nullAfter, per: nullPer },
        watchStreams: { before: watchBefore, after: watchAfter, per: watchPer },
      },
    };
  });
}

export async function memoryScenario(options: BenchOptions, profile: Profile["memory"]): Promise<Row[]> {
  return [await instancesRow(options, profile), await watchersRow(options, profile)];
}
