// Fault at scale: kill -9 of a replica holding N Watch streams (issue 16).
//
// Two server replicas on one etcd. N SDK watchers (`watchService`, in this
// process), spread over many connections (one SDK client per 100 streams, each
// its own connection), all start on replica A with B as their second address.
// A writer registers an instance every `writeIntervalMs` through B the whole
// time. Replica A is SIGKILLed; every watcher must resume on B from its last
// revision: its event revisions strictly increasing (no duplicate), every
// write acknowledged after its snapshot seen exactly once (no gap), and its
// final list equal to the store. Reported: time from the kill until every
// watcher has seen the first write acknowledged after the kill (all resumed),
// against a same-run baseline: the same watchers' propagation time for a
// write before the kill. Fails (throws, so the run prints FAILED) when a
// property breaks.
import { createSwitchboardClient, watchService } from "../../src/client/index.js";
import type { SwitchboardClient } from "../../src/client/index.js";
import type { BenchOptions } from "../lib/env.js";
import { startEtcd } from "../lib/etcd.js";
import type { Row } from "../lib/report.js";
import { ratio } from "../lib/report.js";
import { startServerProcess } from "../lib/server.js";
import { summarize } from "../lib/stats.js";

export interface ReplicaKillProfile {
  watchers: number;
  streamsPerConnection: number;
  writeIntervalMs: number;
  /** Writes after the kill before the run stops writing. */
  writesAfterKill: number;
}

interface Watcher {
  revisions: number[];
  ids: Set<string>;
  snapshotRevision: number;
  last: string[];
  duplicates: number;
  /** mono ms when each watched revision arrived. */
  arrivals: Map<number, number>;
}

export async function replicaKillScenario(options: BenchOptions, profile: ReplicaKillProfile): Promise<Row[]> {
  const etcd = await startEtcd();
  const serverOptions = { etcdEndpoint: etcd.endpoint, fromDist: options.fromDist, logLevel: options.serverLogLevel };
  const victim = await startServerProcess(serverOptions);
  const survivor = await startServerProcess(serverOptions);
  const clients: SwitchboardClient[] = [];
  const abort = new AbortController();
  const writer = createSwitchboardClient({ address: survivor.grpcAddress, defaultTimeoutMs: 30_000 });
  const service = "replica-kill";
  try {
    // Something to list from the start.
    await writer.registry.register({ instance: { service, instanceId: "seed", address: "127.0.0.1", port: 1 }, ttlSeconds: 300 });
    const watchers: Watcher[] = [];
    const loops: Promise<void>[] = [];
    let errors = 0;
    for (let i = 0; i < profile.watchers; i++) {
      if (i % profile.streamsPerConnection === 0) {
        clients.push(
          createSwitchboardClient({
            addresses: [victim.grpcAddress, survivor.grpcAddress],
            // A pool per client: one connection per client instead of one shared by all.
            channelOptions: { "grpc.use_local_subchannel_pool": 1 },
          }),
        );
      }
      const client = clients.at(-1)!;
      const w: Watcher = { revisions: [], ids: new Set(), snapshotRevision: 0, last: [], duplicates: 0, arrivals: new Map() };
      watchers.push(w);
      loops.push(
        (async () => {
          for await (const update of watchService(client, { service, backoff: { initialMs: 100, maxMs: 1_000 } }, abort.signal)) {
            const now = performance.now();
            if (update.type === "snapshot") {
              if (w.snapshotRevision === 0) w.snapshotRevision = update.revision;
              else if (update.reset) errors++;
            } else if (update.type === "event") {
              const id = update.event!.instance.instanceId;
              if (w.revisions.length > 0 && update.revision <= w.revisions.at(-1)!) w.duplicates++;
              if (update.event!.kind === "added" && w.ids.has(id)) w.duplicates++;
              w.ids.add(id);
              w.revisions.push(update.revision);
              w.arrivals.set(update.revision, now);
            }
            w.last = update.instances.map((x) => x.instanceId);
          }
        })().catch(() => {
          errors++;
        }),
      );
    }
    const started = performance.now();
    while (watchers.some((w) => w.snapshotRevision === 0)) {
      if (performance.now() - started > 120_000) throw new Error("watchers did not all get their snapshot within 120 s");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    options.log(`replica-kill: ${profile.watchers} watchers on replica A in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    let n = 0;
    // The writer shares this process with every watcher, whose mass reconnect can hold up its answer:
    // it retries (Register by the same owner is idempotent) instead of failing the run.
    const write = async (): Promise<{ revision: number; ackedAt: number }> => {
      const instanceId = `w${n++}`;
      for (let attempt = 1; ; attempt++) {
        try {
          const { revision } = await writer.registry.register({
            instance: { service, instanceId, address: "127.0.0.1", port: 2, owner: "bench-writer" },
            ttlSeconds: 300,
          });
          return { revision: Number(revision), ackedAt: performance.now() };
        } catch (error) {
          if (attempt >= 5) throw error;
          options.log(`replica-kill: write ${instanceId} failed (${String(error)}); retrying`);
        }
      }
    };
    const written: number[] = [];
    // Baseline: propagation of writes to every watcher before the kill.
    const before: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { revision, ackedAt } = await write();
      written.push(revision);
      await waitAll(watchers, revision, 60_000);
      before.push(Math.max(...watchers.map((w) => w.arrivals.get(revision)! - ackedAt)));
      await new Promise((resolve) => setTimeout(resolve, profile.writeIntervalMs));
    }

    const killedAt = performance.now();
    process.kill(victim.pid, "SIGKILL");
    options.log("replica-kill: replica A killed");
    const firstAfter = await write();
    written.push(firstAfter.revision);
    for (let i = 1; i < profile.writesAfterKill; i++) {
      await new Promise((resolve) => setTimeout(resolve, profile.writeIntervalMs));
      written.push((await write()).revision);
    }
    await waitAll(watchers, written.at(-1)!, 120_000);
    const resumedMs = watchers.map((w) => w.arrivals.get(firstAfter.revision)! - killedAt);
    const allResumedMs = Math.max(...resumedMs);

    // The properties.
    const listed = await writer.registry.listInstances({ service });
    const storeIds = listed.instances.map((i) => i.instanceId).sort();
    let gaps = 0;
    let duplicates = 0;
    let wrongFinal = 0;
    for (const w of watchers) {
      duplicates += w.duplicates;
      const expected = written.filter((r) => r > w.snapshotRevision);
      const seen = new Set(w.revisions);
      gaps += expected.filter((r) => !seen.has(r)).length;
      if (JSON.stringify([...w.last].sort()) !== JSON.stringify(storeIds)) wrongFinal++;
    }
    const summary = summarize(resumedMs);
    options.log(
      `replica-kill: all ${profile.watchers} resumed ${allResumedMs.toFixed(0)} ms after the kill (p50 ${summary.p50.toFixed(0)}); gaps ${gaps}, duplicates ${duplicates}, final state wrong ${wrongFinal}, stream errors ${errors}`,
    );
    const baselineMs = Math.max(...before);
    const met = gaps === 0 && duplicates === 0 && wrongFinal === 0 && errors === 0;
    const row: Row = {
      scenario: `Replica SIGKILL, ${profile.watchers.toLocaleString("en-US")} Watch streams over ${clients.length} connections`,
      baseline: { label: "write → every watcher, before the kill (max of 5)", value: baselineMs, unit: "ms" },
      result: {
        label: `kill → every watcher resumed on the other replica (first write after the kill seen); gaps ${gaps}, duplicates ${duplicates}, wrong final ${wrongFinal}`,
        value: allResumedMs,
        unit: "ms",
        p50: summary.p50,
        p99: summary.p99,
        max: summary.max,
      },
      ratio: ratio(allResumedMs, baselineMs),
      target: { text: "every stream resumes with no gap, no duplicate, final state = store", met },
      usage: {},
      details: { gaps, duplicates, wrongFinal, errors, writes: written.length, resumedMs: summary },
    };
    if (!met) throw new Error(`FAIL replica-kill: gaps ${gaps}, duplicates ${duplicates}, wrong final ${wrongFinal}, errors ${errors}`);
    return [row];
  } finally {
    abort.abort();
    for (const client of clients) client.close();
    writer.close();
    await survivor.stop();
    await victim.stop().catch(() => undefined);
    await etcd.stop();
  }
}

async function waitAll(watchers: Watcher[], revision: number, timeoutMs: number): Promise<void> {
  const started = performance.now();
  while (watchers.some((w) => !w.arrivals.has(revision))) {
    if (performance.now() - started > timeoutMs) {
      const missing = watchers.filter((w) => !w.arrivals.has(revision)).length;
      throw new Error(`FAIL: ${missing} watchers did not see revision ${revision} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
