// 5. Failure detection: instances registered (TTL 3 s) and kept alive from
// separate host processes (KeepAlive every TTL/3, one stream per instance);
// the hosts are SIGKILLed at once and a watcher (another process) times each
// REMOVED event. Reported as a ratio to the TTL, measured from the kill (the
// target), and from each instance's last acknowledged heartbeat: an upper
// bound, since a renewal sent just before the kill may have reached etcd
// without its acknowledgement reaching the host.
//
// Reference, same run: the same number of raw etcd leases (one key each),
// renewed every TTL/3 from killed host processes, timed at a raw etcd watcher
// (delete events): what etcd's lease expiry alone costs.
//
// The server runs with --expiry-hold 0: hundreds of instances whose leases
// expire in the same second are an expiry burst, which the expiry hold keeps
// routable on purpose (rule on Instance.held_until); this scenario measures
// failure detection itself. A single failure is never a burst (see
// test/registry-store-stall.test.ts for both, with the hold on).
import { setTimeout as sleep } from "node:timers/promises";
import { withEnv, type BenchEnv, type BenchOptions, type PhaseUsage } from "../lib/env.js";
import { LoadGen } from "../lib/loadgen.js";
import { ratio, type Row } from "../lib/report.js";
import { monoMs, summarize, type LatencySummary } from "../lib/stats.js";
import type { Profile } from "../profile.js";

interface Level {
  instances: number;
  hosts: number;
}

interface Detection {
  fromKill: LatencySummary;
  fromLastHeartbeat: LatencySummary;
  missing: number;
  /** Up to 10 items never reported removed. */
  missingItems: string[];
  usage: PhaseUsage;
}

const split = (total: number, parts: number) =>
  Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));

/**
 * Starts host processes, lets `setUp` register and keep alive their share
 * (returning lease → item name), waits a TTL, SIGKILLs all hosts at once and
 * waits until `removedAt` reports every item.
 */
async function killHosts(
  env: BenchEnv,
  level: Level,
  ttlMs: number,
  setUp: (host: LoadGen, index: number, count: number) => Promise<Map<string, string>>,
  removedAt: (items: string[], final: boolean) => Promise<Map<string, number>>,
): Promise<Detection> {
  const hosts = await Promise.all(Array.from({ length: level.hosts }, (_, h) => LoadGen.start(`host-${h + 1}`)));
  const lastBeat = new Map<string, number>();
  const unsubscribe = hosts.map((host) =>
    host.onEvent((event) => event.leases.forEach((lease) => lastBeat.set(lease, event.at))),
  );
  try {
    const itemOf = new Map<string, string>();
    const shares = split(level.instances, level.hosts);
    const maps = await Promise.all(hosts.map((host, h) => setUp(host, h, shares[h]!)));
    for (const m of maps) for (const [lease, item] of m) itemOf.set(lease, item);
    const items = [...itemOf.values()];
    for (const host of hosts) env.extra.set(host.label, host.pid);
    // Let the renewals run a full TTL so the lease phases are spread as in steady state.
    await sleep(Math.max(ttlMs, 1000));
    const early = (await removedAt(items, false)).size;
    if (early > 0)
      throw new Error(`${early} of ${items.length} were removed before the kill (renewals too late on a busy machine?)`);
    const measured = await env.measure(async () => {
      const killedAt = monoMs();
      for (const host of hosts) host.kill();
      const deadline = performance.now() + ttlMs + 20_000;
      while ((await removedAt(items, false)).size < items.length && performance.now() < deadline) await sleep(50);
      return killedAt;
    });
    const removed = await removedAt(items, true);
    const beatOf = new Map<string, number>();
    for (const [lease, at] of lastBeat) {
      const item = itemOf.get(lease);
      if (item !== undefined) beatOf.set(item, at);
    }
    const fromKill: number[] = [];
    const fromBeat: number[] = [];
    let missing = 0;
    const missingItems: string[] = [];
    for (const item of items) {
      const t = removed.get(item);
      if (t === undefined) {
        if (missing++ < 10) missingItems.push(item);
        continue;
      }
      fromKill.push(t - measured.value);
      const beat = beatOf.get(item);
      if (beat !== undefined) fromBeat.push(t - beat);
    }
    return {
      fromKill: summarize(fromKill),
      fromLastHeartbeat: summarize(fromBeat),
      missing,
      missingItems,
      usage: measured.usage,
    };
  } finally {
    for (const off of unsubscribe) off();
    for (const host of hosts) {
      host.kill();
      env.extra.delete(host.label);
    }
  }
}

export async function failureScenario(options: BenchOptions, profile: Profile["failure"]): Promise<Row[]> {
  const ttlMs = profile.ttlSeconds * 1000;
  const intervalMs = Math.round(ttlMs / 3);
  const withHoldOff = <T>(fn: (env: BenchEnv) => Promise<T>) => withEnv(options, fn, { serverArgs: ["--expiry-hold", "0"] });
  return withHoldOff(async (env) => {
    const [watcher] = await env.loadgen(1);
    const rows: Row[] = [];
    for (const level of profile.levels) {
      // Reference: raw etcd leases.
      const rawPrefix = `/raw-fail-${level.instances}/`;
      await watcher!.call("rawOpenWatcher", { name: rawPrefix, endpoint: env.etcd.endpoint, prefix: rawPrefix });
      const raw = await killHosts(
        env,
        level,
        ttlMs,
        async (host, h, count) => {
          const started = await host.call("rawAgentsStart", {
            endpoint: env.etcd.endpoint,
            count,
            concurrency: 16,
            ttlSeconds: profile.ttlSeconds,
            intervalMs,
            keyPrefix: `${rawPrefix}h${h}-`,
            reportHeartbeats: true,
          });
          if (started.renewedOnce !== count)
            throw new Error(`raw host renewed ${started.renewedOnce} of ${count} (${started.expired} expired)`);
          return new Map(started.leases.map((lease, i) => [lease, started.keys[i]!]));
        },
        async (items, final) => {
          const { deletes } = await watcher!.call("rawWatcherDeletes", { name: rawPrefix, close: final });
          return new Map(items.filter((k) => deletes[k] !== undefined).map((k) => [k, deletes[k]!]));
        },
      );
      options.log(
        `  raw etcd, kill ${level.instances}: deleted after p50 ${raw.fromKill.p50.toFixed(0)} / max ${raw.fromKill.max.toFixed(0)} ms from the kill, max ${raw.fromLastHeartbeat.max.toFixed(0)} ms from the last keepalive`,
      );

      // Switchboard.
      const service = `fail-${level.instances}`;
      const opened = await watcher!.call("sbOpenWatchers", {
        name: "f",
        address: env.address,
        count: 1,
        channels: 1,
        service,
        timeoutMs: 30_000,
      });
      if (opened.opened !== 1) throw new Error(`watch did not open: ${opened.firstError}`);
      const sb = await killHosts(
        env,
        level,
        ttlMs,
        async (host, h, count) => {
          const idPrefix = `host${h + 1}`;
          const started = await host.call("sbAgentsStart", {
            name: "mine",
            address: env.address,
            count,
            concurrency: 16,
            ttlSeconds: profile.ttlSeconds,
            service,
            idPrefix,
            intervalMs,
            streams: count,
            channels: Math.ceil(count / 100),
            reportHeartbeats: true,
          });
          if (started.registerErrors) throw new Error(`host register failed: ${started.firstRegisterError}`);
          if (started.renewedOnce !== count)
            throw new Error(
              `host keepalive renewed ${started.renewedOnce} of ${count} (${started.expired} expired): ${started.firstError}`,
            );
          return new Map(started.leases.map((lease, i) => [lease, `${idPrefix}-${i}`]));
        },
        async (items, final) => {
          const keys = items.map((id) => `REMOVED:${id}`);
          if (!final) {
            const progress = await watcher!.call("streamProgress", { name: "f", keys });
            // Only the count matters while waiting.
            return new Map(Array.from({ length: progress.complete }, (_, i) => [String(i), 0]));
          }
          const closed = await watcher!.call("closeStreams", { name: "f" });
          const out = new Map<string, number>();
          for (const id of items) {
            const t = closed.arrivals[`REMOVED:${id}`]?.[0];
            if (t !== undefined && !Number.isNaN(t)) out.set(id, t);
          }
          return out;
        },
      );
      options.log(
        `  Switchboard, kill ${level.instances}: REMOVED after p50 ${sb.fromKill.p50.toFixed(0)} / max ${sb.fromKill.max.toFixed(0)} ms from the kill, max ${sb.fromLastHeartbeat.max.toFixed(0)} ms from the last heartbeat; missing ${sb.missing} ${sb.missingItems.join(" ")}`,
      );
      const limitMs = ttlMs + 1000;
      rows.push({
        scenario: `5. Failure detection, SIGKILL ${level.instances.toLocaleString("en-US")} instance${level.instances > 1 ? "s" : ""}, TTL ${profile.ttlSeconds} s`,
        baseline: {
          label: `TTL; raw etcd lease expiry max ${raw.fromKill.max.toFixed(0)} ms from kill`,
          value: ttlMs,
          unit: "ms",
          p50: raw.fromKill.p50,
          p99: raw.fromKill.p99,
          max: raw.fromKill.max,
        },
        result: {
          label: "kill → REMOVED at watcher, max",
          value: sb.fromKill.max,
          unit: "ms",
          p50: sb.fromKill.p50,
          p99: sb.fromKill.p99,
          max: sb.fromKill.max,
        },
        ratio: ratio(sb.fromKill.max, ttlMs),
        target: {
          text: `≤ TTL + 1 s from the kill (from the last acknowledged heartbeat, an upper bound: max ${sb.fromLastHeartbeat.max.toFixed(0)} ms, raw etcd ${raw.fromLastHeartbeat.max.toFixed(0)} ms)${sb.missing ? `; ${sb.missing} never REMOVED` : ""}`,
          met: sb.missing === 0 && sb.fromKill.max <= limitMs,
        },
        usage: { baseline: raw.usage, result: sb.usage },
        details: { ...level, heartbeatIntervalMs: intervalMs, switchboard: sb, rawEtcd: raw },
      });
    }
    return rows;
  });
}
