// Fault at scale: the etcd leader SIGKILLed every `killEveryMs` for
// `durationMs` on a 3-member cluster (each killed member restarted a few
// seconds later, so quorum comes back), while `writers` race compare-and-set
// on `keys` config keys through two Switchboard replicas and `watchers`
// WatchConfig streams (SDK watchConfig) follow the service's resolved view.
//
// Properties (the scenario throws, so the run prints FAILED, when one breaks):
// - no acknowledged write lost: every PutValue that answered is in GetHistory
//   with its value and revision;
// - history consecutive: per key, history revisions strictly increase and
//   every entry is an acknowledged write or one whose answer was lost in the
//   fault (UNAVAILABLE / deadline): nothing invented;
// - every WatchConfig stream monotonic (revisions only increase) with no
//   version missing: every history revision after its start was seen.
// Baseline (same run): the CAS write rate in the first kill-free interval;
// result: the rate over the whole run with kills.
import { ConflictError } from "../../src/errors.js";
import { createSwitchboardClient, watchConfig } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import type { BenchOptions } from "../lib/env.js";
import { startEtcdCluster } from "../lib/etcd-cluster.js";
import type { Row } from "../lib/report.js";
import { ratio } from "../lib/report.js";
import { startServerProcess } from "../lib/server.js";

export interface LeaderKillProfile {
  durationMs: number;
  killEveryMs: number;
  /** Delay before a killed member is started again. */
  restartAfterMs: number;
  writers: number;
  keys: number;
  watchers: number;
}

interface Attempt {
  key: string;
  value: string;
  /** Revision when acknowledged; undefined when the outcome is unknown. */
  revision: number | undefined;
}

export async function leaderKillScenario(options: BenchOptions, profile: LeaderKillProfile): Promise<Row[]> {
  const cluster = await startEtcdCluster(3);
  const serverOptions = {
    etcdEndpoint: cluster.endpoints.join(","),
    fromDist: options.fromDist,
    logLevel: options.serverLogLevel,
  };
  const replicas = [await startServerProcess(serverOptions), await startServerProcess(serverOptions)];
  const addresses = replicas.map((r) => r.grpcAddress);
  const clients: SwitchboardClient[] = [];
  const abort = new AbortController(); // watchers
  const stopWriters = new AbortController();
  const scope = { namespace: "default", service: "leader-kill", profile: "" };
  const keys = Array.from({ length: profile.keys }, (_, i) => `k${i}`);
  try {
    const admin = createSwitchboardClient({ addresses, defaultTimeoutMs: 10_000 });
    clients.push(admin);
    for (const key of keys) await admin.config.putValue({ scope, key, value: "init", author: "setup" });

    // Watchers, each with its own client (connection), half starting on each replica.
    const seen: Array<{
      revisions: number[];
      byKey: Map<string, Map<number, string>>;
      start: number;
      nonMonotonic: number;
      resets: number;
    }> = [];
    const watchLoops: Promise<void>[] = [];
    for (let i = 0; i < profile.watchers; i++) {
      const client = createSwitchboardClient({
        addresses: i % 2 ? addresses : [...addresses].reverse(),
        channelOptions: { "grpc.use_local_subchannel_pool": 1 },
      });
      clients.push(client);
      const record = {
        revisions: [] as number[],
        byKey: new Map<string, Map<number, string>>(),
        start: 0,
        nonMonotonic: 0,
        resets: 0,
      };
      seen.push(record);
      watchLoops.push(
        (async () => {
          for await (const update of watchConfig(
            client,
            { service: scope.service, backoff: { initialMs: 100, maxMs: 1_000 } },
            abort.signal,
          )) {
            if (update.type !== "view") continue;
            if (record.start === 0) record.start = update.revision;
            else if (update.reset) record.resets++;
            if (record.revisions.length > 0 && update.revision <= record.revisions.at(-1)!) record.nonMonotonic++;
            record.revisions.push(update.revision);
            for (const entry of update.entries) {
              let versions = record.byKey.get(entry.key);
              if (versions === undefined) record.byKey.set(entry.key, (versions = new Map()));
              versions.set(Number(entry.revision), entry.value);
            }
          }
        })(),
      );
    }
    while (seen.some((s) => s.start === 0)) await new Promise((resolve) => setTimeout(resolve, 50));

    // Writers racing compare-and-set.
    const attempts: Attempt[] = [];
    let acked = 0;
    const ackTimes: number[] = [];
    const writerLoops = Array.from({ length: profile.writers }, async (_, w) => {
      const client = createSwitchboardClient({
        addresses: w % 2 ? addresses : [...addresses].reverse(),
        defaultTimeoutMs: 5_000,
      });
      clients.push(client);
      const known = new Map<string, number>();
      let seq = 0;
      while (!stopWriters.signal.aborted) {
        const key = keys[(w + seq) % keys.length]!;
        const value = `w${w}-${seq++}`;
        try {
          let expected = known.get(key);
          if (expected === undefined) {
            expected = Number((await client.config.getValue({ scope, key })).value!.revision);
          }
          const answer = await client.config.putValue({ scope, key, value, expectedRevision: String(expected), author: `w${w}` });
          const revision = Number(answer.revision);
          known.set(key, revision);
          attempts.push({ key, value, revision });
          acked++;
          ackTimes.push(performance.now());
        } catch (error) {
          if (error instanceof ConflictError) {
            known.set(key, error.currentRevision);
          } else {
            // Answer lost in the fault: the write may or may not have happened.
            attempts.push({ key, value, revision: undefined });
            known.delete(key);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      }
    });

    const started = performance.now();
    let kills = 0;
    // Kills on a fixed schedule (every killEveryMs from the start); each killed member restarts
    // restartAfterMs later, and is healthy again before the next leader is looked for.
    let restarted: Promise<void> = Promise.resolve();
    for (let k = 1; k * profile.killEveryMs < profile.durationMs; k++) {
      const wait = started + k * profile.killEveryMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await restarted;
      const leader = await cluster.leader();
      await leader.kill();
      kills++;
      options.log(`leader-kill: killed etcd leader ${leader.name} (${kills}), ${acked} writes acknowledged so far`);
      restarted = new Promise((resolve) => setTimeout(resolve, profile.restartAfterMs)).then(() => leader.restart());
    }
    await restarted;
    const remaining = profile.durationMs - (performance.now() - started);
    if (remaining > 0) await new Promise((resolve) => setTimeout(resolve, remaining));
    stopWriters.abort();
    await Promise.all(writerLoops);
    const elapsedMs = performance.now() - started;

    // Let every watcher catch up with the last write, then check.
    const histories = new Map<string, Array<{ value: string; revision: number; deleted: boolean }>>();
    for (const key of keys) {
      const history = await admin.config.getHistory({ scope, key, limit: 1000 });
      histories.set(
        key,
        history.versions.map((v) => ({ value: v.value, revision: Number(v.revision), deleted: v.deleted })).reverse(),
      );
    }
    const lastRevision = Math.max(...[...histories.values()].map((h) => h.at(-1)!.revision));
    // Every watcher must reach the last write (its resumption after the faults included).
    const caughtUp = performance.now();
    while (seen.some((s) => (s.revisions.at(-1) ?? 0) < lastRevision) && performance.now() - caughtUp < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    abort.abort();
    await Promise.all(watchLoops);

    // History keeps the last --config-history-limit versions per key (default 100): acknowledged
    // writes are checked against that window and, all of them, against what every watcher saw.
    let lost = 0;
    let invented = 0;
    let nonConsecutive = 0;
    for (const key of keys) {
      const history = histories.get(key)!;
      for (let i = 1; i < history.length; i++) if (history[i]!.revision <= history[i - 1]!.revision) nonConsecutive++;
      const byValue = new Map(history.map((h) => [h.value, h.revision]));
      const oldest = history[0]?.revision ?? 0;
      const keyAttempts = attempts.filter((a) => a.key === key);
      for (const attempt of keyAttempts) {
        if (attempt.revision === undefined) continue;
        if (attempt.revision >= oldest && byValue.get(attempt.value) !== attempt.revision) lost++;
        else if (seen.some((s) => attempt.revision! > s.start && s.byKey.get(key)?.get(attempt.revision!) !== attempt.value))
          lost++;
      }
      const attempted = new Set(keyAttempts.map((a) => a.value));
      for (const h of history) if (h.value !== "init" && !attempted.has(h.value)) invented++;
      // Between two kept versions no acknowledged write may fall (consecutive history).
      const kept = new Set(history.map((h) => h.revision));
      for (const attempt of keyAttempts)
        if (attempt.revision !== undefined && attempt.revision >= oldest && !kept.has(attempt.revision)) nonConsecutive++;
    }
    let missing = 0;
    let nonMonotonic = 0;
    let resets = 0;
    let behind = 0;
    for (const s of seen) {
      nonMonotonic += s.nonMonotonic;
      resets += s.resets;
      if ((s.revisions.at(-1) ?? 0) < lastRevision) behind++;
      for (const key of keys) {
        const got = s.byKey.get(key) ?? new Map<number, string>();
        for (const h of histories.get(key)!) if (h.revision > s.start && !got.has(h.revision)) missing++;
      }
    }
    const ackedCount = attempts.filter((a) => a.revision !== undefined).length;
    const unknown = attempts.length - ackedCount;
    options.log(
      `leader-kill: ${kills} leader kills in ${(elapsedMs / 1000).toFixed(0)} s; ${ackedCount} CAS writes acknowledged, ${unknown} unknown; lost ${lost}, invented ${invented}, non-consecutive ${nonConsecutive}; watchers: missing ${missing}, non-monotonic ${nonMonotonic}, resets ${resets}, behind ${behind}`,
    );
    // Baseline: the write rate before the first kill.
    const firstKillWindow = ackTimes.filter((t) => t - started < profile.killEveryMs).length / (profile.killEveryMs / 1000);
    const overall = ackedCount / (elapsedMs / 1000);
    const met =
      lost === 0 && invented === 0 && nonConsecutive === 0 && missing === 0 && nonMonotonic === 0 && behind === 0 && kills > 0;
    const row: Row = {
      scenario: `etcd leader SIGKILLed every ${profile.killEveryMs / 1000} s for ${(profile.durationMs / 1000).toFixed(0)} s (3 members), ${profile.writers} CAS writers, ${profile.watchers} WatchConfig`,
      baseline: { label: "CAS writes/s before the first kill", value: firstKillWindow, unit: "writes/s" },
      result: {
        label: `CAS writes/s over the run (${kills} kills); lost ${lost}, invented ${invented}, watcher versions missing ${missing}, non-monotonic ${nonMonotonic}`,
        value: overall,
        unit: "writes/s",
      },
      ratio: ratio(overall, firstKillWindow),
      target: {
        text: "no acknowledged write lost, history consecutive, every WatchConfig monotonic with no version missing",
        met,
      },
      usage: {},
      details: { kills, acked: ackedCount, unknown, lost, invented, nonConsecutive, missing, nonMonotonic, resets, behind },
    };
    if (!met) {
      throw new Error(
        `FAIL leader-kill: lost ${lost}, invented ${invented}, non-consecutive ${nonConsecutive}, missing ${missing}, non-monotonic ${nonMonotonic}, behind ${behind}, kills ${kills}`,
      );
    }
    return [row];
  } finally {
    stopWriters.abort();
    abort.abort();
    for (const client of clients) client.close();
    await Promise.all(replicas.map((r) => r.stop()));
    await cluster.stop();
  }
}
