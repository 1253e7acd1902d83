// 3. Watch propagation and 7. config push: time from a write's
// acknowledgement (Register / PutValue answered) to its arrival at every one
// of N concurrent streams, vs raw etcd put → watch event with one watcher.
//
// Watch streams live in their own load generator processes (at most 100
// streams per connection); the writer is another process. All times are
// CLOCK_MONOTONIC, which every process on the machine shares.
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchEnv, BenchOptions, PhaseUsage } from "../lib/env.js";
import type { LoadGen } from "../lib/loadgen.js";
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
  /** UpdateInstance → Watch event (1 stream only). */
  update?: { fromAck: LatencySummary; fromSend: LatencySummary; missing: number; writeErrors: number; firstError?: string };
  expected: number;
  missing: number;
  streamErrors: number;
  writeErrors: number;
  openSeconds: number;
  firstError?: string;
}

type Writes = { keys: string[]; sent: number[]; acked: number[] };
type Closed = { streams: number; arrivals: Record<string, Float64Array | undefined> };

/** Waits until every stream has an event for each key (or gives up after 30 s). */
async function untilDelivered(watchers: LoadGen[], keys: string[]): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const progress = await Promise.all(watchers.map((w) => w.call("streamProgress", { name: "w", keys })));
    if (progress.every((p) => p.complete === keys.length) || performance.now() > deadline) return;
    await sleep(100);
  }
}

/** Each arrival's delay after its write's answer and after its write was sent; missing arrivals counted. */
function delays(writes: Writes, closed: Closed[]): { fromAck: number[]; fromSend: number[]; missing: number } {
  const fromAck: number[] = [];
  const fromSend: number[] = [];
  let missing = 0;
  writes.keys.forEach((k, j) => {
    const acked = writes.acked[j]!;
    const sent = writes.sent[j]!;
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
  return { fromAck, fromSend, missing };
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
    await untilDelivered(watchers, writes.keys);
    return writes;
  });
  // At 1 stream, also a single-transaction write of an existing instance (UpdateInstance), the
  // Switchboard counterpart of one raw put, on the same stream and the instances just registered.
  const update =
    kind === "watch" && level.watchers === 1
      ? await env.measure(async () => {
          const writes = await writer.call("sbUpdateSequential", {
            address: env.address,
            count: level.events,
            intervalMs: level.intervalMs,
            service,
            idPrefix: "e",
          });
          await untilDelivered(watchers, writes.keys);
          return writes;
        })
      : undefined;
  const closed = await Promise.all(watchers.map((w) => w.call("closeStreams", { name: "w" })));
  const { fromAck, fromSend, missing } = delays(measured.value, closed);
  const updated = update && {
    ...delays(update.value, closed),
    writeErrors: update.value.errors,
    firstError: update.value.firstError,
  };
  const result: LevelResult = {
    level,
    fromAck: summarize(fromAck),
    fromSend: summarize(fromSend),
    update: updated && {
      fromAck: summarize(updated.fromAck),
      fromSend: summarize(updated.fromSend),
      missing: updated.missing,
      writeErrors: updated.writeErrors,
      firstError: updated.firstError,
    },
    expected: level.watchers * level.events,
    missing,
    streamErrors: closed.reduce((n, c) => n + c.errors, 0),
    writeErrors: measured.value.errors,
    openSeconds,
    firstError: measured.value.firstError ?? closed.find((c) => c.firstError)?.firstError,
  };
  return { result, usage: measured.usage, updateUsage: update?.usage };
}

function targetFor(kind: Kind, watchers: number, rawP99: number, p99: number, complete: boolean): { text: string; met: boolean } {
  const limit = watchers <= 1 ? rawP99 + 5 : watchers <= 1_000 ? 50 : 250;
  const text = watchers <= 1 ? "p99 ≤ raw etcd p99 + 5 ms" : `p99 ≤ ${limit} ms`;
  const prefix = kind === "config" ? "(as watch) " : "";
  return { text: `${prefix}${text}${complete ? "" : "; writes FAILED or events LOST"}`, met: complete && p99 <= limit };
}

type RawWatch = { value: { fromAck: LatencySummary; fromStart: LatencySummary }; usage: PhaseUsage };

/**
 * Watch at 1 stream, p50 measured from the moment the write was issued (and, beside it, from its
 * answer), each Switchboard write against the raw etcd3 writes it is made of: Register (lease grant +
 * put-if-absent) against a raw lease grant + put, UpdateInstance (one transaction) against a raw put,
 * and Register against a raw put (the issue's comparison, kept).
 */
function fromIssueRows(
  result: LevelResult,
  usage: PhaseUsage,
  updateUsage: PhaseUsage,
  raw: RawWatch,
  rawLease: RawWatch,
): Row[] {
  const update = result.update!;
  const row = (
    name: string,
    label: string,
    base: RawWatch,
    baseLabel: string,
    own: { fromAck: LatencySummary; fromSend: LatencySummary },
    ownUsage: PhaseUsage,
    complete: boolean,
  ): Row => ({
    scenario: `3${name}. Watch propagation, 1 stream, p50 from issue: ${label} vs ${baseLabel}`,
    baseline: {
      label: `raw etcd3 ${baseLabel} → watch, p50 from issue (from answer ${base.value.fromAck.p50} ms)`,
      value: base.value.fromStart.p50,
      unit: "ms",
      p50: base.value.fromStart.p50,
      p99: base.value.fromStart.p99,
      max: base.value.fromStart.max,
    },
    result: {
      label: `${label} → Watch event, p50 from issue (from answer ${own.fromAck.p50} ms)`,
      value: own.fromSend.p50,
      unit: "ms",
      p50: own.fromSend.p50,
      p99: own.fromSend.p99,
      max: own.fromSend.max,
    },
    ratio: ratio(own.fromSend.p50, base.value.fromStart.p50),
    target: {
      text: `p50 from issue ≤ 2× raw${complete ? "" : "; writes FAILED or events LOST"}`,
      met: complete && own.fromSend.p50 <= 2 * base.value.fromStart.p50,
    },
    usage: { baseline: base.usage, result: ownUsage },
    details: {
      fromAnswer: own.fromAck,
      fromIssue: own.fromSend,
      rawFromAnswer: base.value.fromAck,
      rawFromIssue: base.value.fromStart,
    },
  });
  const registered = result.missing === 0 && result.writeErrors === 0 && result.streamErrors === 0;
  const updated = update.missing === 0 && update.writeErrors === 0 && result.streamErrors === 0;
  return [
    row("a", "Register", raw, "put", result, usage, registered),
    row("b", "Register", rawLease, "lease grant + put", result, usage, registered),
    row("c", "UpdateInstance", raw, "put", update, updateUsage, updated),
  ];
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
      `  raw etcd put → watch event: p50 ${raw.value.fromAck.p50} ms, p99 ${raw.value.fromAck.p99} ms after the put's ack (p50 ${raw.value.fromStart.p50}, p99 ${raw.value.fromStart.p99} ms from its start)`,
    );
    const zk = kind === "watch" ? await zooKeeperWatch(env, profile) : undefined;
    // What a Register does in etcd (two raft writes), raw: the baseline of Register at 1 stream.
    const rawLease =
      kind === "watch" && levels.some((l) => l.watchers === 1)
        ? await env.measure(() =>
            baselineGen!.call("rawWatchLatency", {
              endpoint: env.etcd.endpoint,
              count: profile.rawWatch.count,
              intervalMs: profile.rawWatch.intervalMs,
              prefix: "/raw-watch-lease/",
              leaseTtlSeconds: 120,
            }),
          )
        : undefined;
    if (rawLease)
      options.log(
        `  raw etcd lease grant + put → watch event: p50 ${rawLease.value.fromStart.p50} ms from the grant's start, ${rawLease.value.fromAck.p50} ms after the put's ack`,
      );
    const rows: Row[] = [];
    for (const level of levels) {
      const { result, usage, updateUsage } = await runLevel(env, kind, level);
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
      if (result.update && rawLease && updateUsage) rows.push(...fromIssueRows(result, usage, updateUsage, raw, rawLease));
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
