// 3. Watch propagation and 7. config push: time from a write's
// acknowledgement (Register / PutValue answered) to its arrival at every one
// of N concurrent streams, vs raw etcd put → watch event with one watcher.
//
// Watch streams live in their own load generator processes (at most 100
// streams per connection); the writer is another process. All times are
// CLOCK_MONOTONIC, which every process on the machine shares.
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchEnv, BenchOptions, PhaseUsage } from "../lib/env.js";
import { withEnv } from "../lib/env.js";
import { ratio, type Row } from "../lib/report.js";
import { summarize, type LatencySummary } from "../lib/stats.js";
import { startZooKeeper, zooKeeperMissing } from "../lib/zookeeper.js";
import type { Profile, StreamLevel } from "../profile.js";

const STREAMS_PER_CHANNEL = 100;

type Kind = "watch" | "config";

interface LevelResult {
  level: StreamLevel;
  fromAck: LatencySummary;
  fromSend: LatencySummary;
  expected: number;
  missing: number;
  streamErrors: number;
  writeErrors: number;
  openSeconds: number;
  firstError?: string;
}

async function runLevel(env: BenchEnv, kind: Kind, level: StreamLevel) {
  const loadgens = await env.loadgen(level.loadgens + 1);
  const watchers = loadgens.slice(0, level.loadgens);
  const writer = loadgens[level.loadgens]!;
  const service = `${kind}-${level.watchers}`;
  const key = "bench.key";
  const shares = watchers.map(
    (_, i) => Math.floor(level.watchers / watchers.length) + (i < level.watchers % watchers.length ? 1 : 0),
  );
  const openStarted = performance.now();
  const opened = await Promise.all(
    watchers.map((w, i) => {
      const count = shares[i]!;
      const params = {
        name: "w",
        address: env.address,
        count,
        channels: Math.ceil(count / STREAMS_PER_CHANNEL),
        service,
        key,
        timeoutMs: 180_000,
      };
      return kind === "watch" ? w.call("sbOpenWatchers", params) : w.call("cfgOpenWatchers", params);
    }),
  );
  const openSeconds = (performance.now() - openStarted) / 1000;
  const openErrors = opened.reduce((n, o) => n + o.errors, 0);
  const openedCount = opened.reduce((n, o) => n + o.opened, 0);
  if (openedCount !== level.watchers) {
    throw new Error(
      `${kind}: opened ${openedCount} of ${level.watchers} streams (${openErrors} errors: ${opened.find((o) => o.firstError)?.firstError})`,
    );
  }
  await sleep(500);
  const measured = await env.measure(async () => {
    const writes =
      kind === "watch"
        ? await writer.call("sbRegisterSequential", {
            address: env.address,
            count: level.events,
            intervalMs: level.intervalMs,
            service,
            idPrefix: "e",
            ttlSeconds: 120,
          })
        : await writer.call("cfgPutSequential", {
            address: env.address,
            count: level.events,
            intervalMs: level.intervalMs,
            service,
            profile: "",
            key,
            idPrefix: "v",
          });
    // Wait until every stream has every event (or give up after 30 s).
    const deadline = performance.now() + 30_000;
    for (;;) {
      const progress = await Promise.all(watchers.map((w) => w.call("streamProgress", { name: "w", keys: writes.keys })));
      if (progress.every((p) => p.complete === writes.keys.length) || performance.now() > deadline) break;
      await sleep(100);
    }
    return writes;
  });
  const closed = await Promise.all(watchers.map((w) => w.call("closeStreams", { name: "w" })));
  const fromAck: number[] = [];
  const fromSend: number[] = [];
  let missing = 0;
  measured.value.keys.forEach((k, j) => {
    const acked = measured.value.acked[j]!;
    const sent = measured.value.sent[j]!;
    for (const c of closed) {
      const times = c.arrivals[k];
      if (!times) {
        missing += c.streams;
        continue;
      }
      for (const t of times) {
        if (Number.isNaN(t)) missing++;
        else {
          fromAck.push(t - acked);
          fromSend.push(t - sent);
        }
      }
    }
  });
  const result: LevelResult = {
    level,
    fromAck: summarize(fromAck),
    fromSend: summarize(fromSend),
    expected: level.watchers * level.events,
    missing,
    streamErrors: closed.reduce((n, c) => n + c.errors, 0),
    writeErrors: measured.value.errors,
    openSeconds,
    firstError: measured.value.firstError ?? closed.find((c) => c.firstError)?.firstError,
  };
  return { result, usage: measured.usage };
}

function targetFor(kind: Kind, watchers: number, rawP99: number, p99: number, complete: boolean): { text: string; met: boolean } {
  const limit = watchers <= 1 ? rawP99 + 5 : watchers <= 1_000 ? 50 : 250;
  const text = watchers <= 1 ? "p99 ≤ raw etcd p99 + 5 ms" : `p99 ≤ ${limit} ms`;
  const prefix = kind === "config" ? "(as watch) " : "";
  return { text: `${prefix}${text}${complete ? "" : "; writes FAILED or events LOST"}`, met: complete && p99 <= limit };
}

export async function propagationScenario(options: BenchOptions, kind: Kind, profile: Profile): Promise<Row[]> {
  const levels = kind === "watch" ? profile.watch : profile.config;
  return withEnv(options, async (env) => {
    const [baselineGen] = await env.loadgen(1);
    const raw = await env.measure(() =>
      baselineGen!.call("rawWatchLatency", {
        endpoint: env.etcd.endpoint,
        count: profile.rawWatch.count,
        intervalMs: profile.rawWatch.intervalMs,
        prefix: "/raw-watch/",
      }),
    );
    options.log(
      `  raw etcd put → watch event: p50 ${raw.value.fromAck.p50} ms, p99 ${raw.value.fromAck.p99} ms after the put's ack (p99 ${raw.value.fromStart.p99} ms from its start)`,
    );
    const zk = kind === "watch" ? await zooKeeperWatch(env, profile) : undefined;
    const rows: Row[] = [];
    for (const level of levels) {
      const { result, usage } = await runLevel(env, kind, level);
      options.log(
        `  ${kind} × ${level.watchers}: p50 ${result.fromAck.p50} p99 ${result.fromAck.p99} max ${result.fromAck.max} ms; missing ${result.missing} of ${result.expected}; opened in ${result.openSeconds.toFixed(1)} s`,
      );
      const complete = result.missing === 0 && result.streamErrors === 0 && result.writeErrors === 0;
      if (!complete)
        options.log(
          `  ${kind} × ${level.watchers}: ${result.writeErrors} failed writes, ${result.streamErrors} stream errors: ${result.firstError}`,
        );
      rows.push({
        scenario:
          kind === "watch"
            ? `3. Watch propagation, ${level.watchers.toLocaleString("en-US")} stream${level.watchers > 1 ? "s" : ""}`
            : `7. Config push, ${level.watchers.toLocaleString("en-US")} stream${level.watchers > 1 ? "s" : ""}`,
        baseline: {
          label: "raw etcd put → watch, 1 watcher, p99",
          value: raw.value.fromAck.p99,
          unit: "ms",
          p50: raw.value.fromAck.p50,
          p99: raw.value.fromAck.p99,
          max: raw.value.fromAck.max,
        },
        result: {
          label: kind === "watch" ? "Register ack → Watch event, p99" : "PutValue ack → WatchConfig view, p99",
          value: result.fromAck.p99,
          unit: "ms",
          p50: result.fromAck.p50,
          p99: result.fromAck.p99,
          max: result.fromAck.max,
        },
        ratio: ratio(result.fromAck.p99, raw.value.fromAck.p99),
        target: targetFor(kind, level.watchers, raw.value.fromAck.p99, result.fromAck.p99, complete),
        usage: { baseline: raw.usage, result: usage },
        details: {
          ...level,
          samples: result.fromAck.count,
          expected: result.expected,
          missing: result.missing,
          streamErrors: result.streamErrors,
          writeErrors: result.writeErrors,
          firstError: result.firstError,
          openSeconds: result.openSeconds,
          fromSend: result.fromSend,
          rawFromStart: raw.value.fromStart,
        },
      });
      if (zk && level.watchers === 1) rows.push(zooKeeperRow(zk, result, usage));
    }
    return rows;
  });
}

type ZkWatch =
  { missing: string } | { missing?: undefined; fromAck: LatencySummary; fromStart: LatencySummary; usage: PhaseUsage };

/** ZooKeeper's children watch (Curator PathChildrenCache) notified of ephemeral creates, same count and pace as raw etcd. */
async function zooKeeperWatch(env: BenchEnv, profile: Profile): Promise<ZkWatch> {
  const missing = zooKeeperMissing();
  if (missing) return { missing };
  const zk = await startZooKeeper();
  env.extra.set("zookeeper", zk.pid);
  try {
    const [loadgen] = await env.loadgen(1);
    const measured = await env.measure(() =>
      loadgen!.call("zkWatchLatency", {
        connectString: zk.connectString,
        count: profile.rawWatch.count,
        intervalMs: profile.rawWatch.intervalMs,
        service: "zk-watch",
      }),
    );
    env.options.log(
      `  ZooKeeper create → children notification: p50 ${measured.value.fromStart.p50} ms from the create's send, ${measured.value.fromAck.p50} ms from its answer`,
    );
    return { ...measured.value, usage: measured.usage };
  } finally {
    env.extra.delete("zookeeper");
    await zk.stop();
  }
}

/** Switchboard's 1-stream watch against ZooKeeper's, both timed from the moment the write was sent. */
function zooKeeperRow(zk: ZkWatch, sb: LevelResult, usage: PhaseUsage): Row {
  const scenario = "3. Watch propagation, 1 stream, vs ZooKeeper (from the write's send)";
  if (zk.missing !== undefined) {
    return {
      scenario,
      baseline: { label: zk.missing, value: Number.NaN, unit: "" },
      result: { label: "Register sent → Watch event, p50", value: sb.fromSend.p50, unit: "ms", ...pick(sb.fromSend) },
      ratio: Number.NaN,
      usage: { result: usage },
    };
  }
  return {
    scenario,
    baseline: {
      label: `ZooKeeper create sent → children notification, p50 (${zk.fromAck.p50} ms from its answer)`,
      value: zk.fromStart.p50,
      unit: "ms",
      ...pick(zk.fromStart),
    },
    result: { label: "Register sent → Watch event, p50", value: sb.fromSend.p50, unit: "ms", ...pick(sb.fromSend) },
    ratio: ratio(sb.fromSend.p50, zk.fromStart.p50),
    usage: { baseline: zk.usage, result: usage },
    details: {
      zookeeper: { fromStart: zk.fromStart, fromAck: zk.fromAck },
      switchboard: { fromSend: sb.fromSend, fromAck: sb.fromAck },
    },
  };
}

const pick = (l: LatencySummary) => ({ p50: l.p50, p99: l.p99, max: l.max });
