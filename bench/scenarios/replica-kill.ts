// Fault at scale: kill -9 of a replica holding N Watch streams (issue 16).
//
// Two server replicas on one etcd. N SDK watchers (`watchService`) in
// `watcherProcesses` separate processes (bench/loadgen/resume-watchers.ts),
// one SDK client (connection) per `streamsPerConnection` streams, all start on
// replica A with B as their second address. A writer (this process) registers
// an instance every `writeIntervalMs` through B. Replica A is SIGKILLed;
// every watcher must resume on B from its last revision: event revisions
// strictly increasing (no duplicate), every write acknowledged after its
// snapshot seen (no gap), no reset, and its final list equal to the store.
// Reported: time from the kill until every watcher has seen the first write
// acknowledged after the kill (all resumed), against a same-run baseline: the
// time for a write before the kill to reach every watcher. Throws (the run
// prints FAILED) when a property breaks.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createSwitchboardClient } from "@switchboard/client";
import type { BenchOptions } from "../lib/env.js";
import { startEtcd } from "../lib/etcd.js";
import type { Row } from "../lib/report.js";
import { ratio } from "../lib/report.js";
import { startServerProcess } from "../lib/server.js";
import { summarize } from "../lib/stats.js";

export interface ReplicaKillProfile {
  watchers: number;
  watcherProcesses: number;
  streamsPerConnection: number;
  writeIntervalMs: number;
  /** Writes after the kill. */
  writesAfterKill: number;
}

export interface Entry {
  snapshotRevision: number;
  resets: number;
  duplicates: number;
  errors: number;
  events: Array<[number, number]>;
  watchedRemovals: number;
  service: string;
  last: string[];
  lastRevision: number;
  retries: number;
  lastRetryError: string;
}

export interface WatcherProcess {
  child: ChildProcess;
  ready: Promise<void>;
  min: number;
  /** Lowest revision reached per service (streams of a service see only its revisions). */
  byService: Record<string, number>;
  /** Event-loop delay of the watcher process over its life (set with the report). */
  loop?: { maxMs: number; p99Ms: number };
  report(): Promise<Entry[]>;
}

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Starts bench/loadgen/resume-watchers.ts; services comma-separated; env e.g. REMOVAL_WATCH. */
export function startWatchers(
  addresses: string[],
  service: string,
  count: number,
  perConnection: number,
  env: Record<string, string> = {},
): WatcherProcess {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "bench/loadgen/resume-watchers.ts", addresses.join(","), service, String(count), String(perConnection)],
    { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, ...env } },
  );
  let onReport: ((entries: Entry[]) => void) | undefined;
  let markReady: () => void = () => {};
  const proc: WatcherProcess = {
    child,
    ready: new Promise<void>((resolve, reject) => {
      markReady = resolve;
      child.once("exit", (code) => reject(new Error(`watcher process exited (${code})`)));
    }),
    min: 0,
    byService: {},
    report: () =>
      new Promise<Entry[]>((resolve) => {
        onReport = resolve;
        child.stdin!.write("report\n");
      }),
  };
  proc.ready.catch(() => undefined);
  createInterface({ input: child.stdout! }).on("line", (line) => {
    let message: {
      ready?: boolean;
      min?: number;
      byService?: Record<string, number>;
      report?: Entry[];
      loop?: { maxMs: number; p99Ms: number };
    };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      console.error(`watcher process: unreadable line (${line.length} characters): ${line.slice(0, 200)}`);
      return;
    }
    if (message.ready) markReady();
    if (message.min !== undefined) proc.min = message.min;
    if (message.byService !== undefined) proc.byService = message.byService;
    if (message.loop) proc.loop = message.loop;
    if (message.report) onReport?.(message.report);
  });
  return proc;
}

export async function replicaKillScenario(options: BenchOptions, profile: ReplicaKillProfile): Promise<Row[]> {
  const etcd = await startEtcd();
  const serverOptions = { etcdEndpoint: etcd.endpoint, fromDist: options.fromDist, logLevel: options.serverLogLevel };
  const victim = await startServerProcess(serverOptions);
  const survivor = await startServerProcess(serverOptions);
  const writer = createSwitchboardClient({ address: survivor.grpcAddress, defaultTimeoutMs: 30_000 });
  const service = "replica-kill";
  const procs: WatcherProcess[] = [];
  try {
    await writer.registry.register({ instance: { service, instanceId: "seed", address: "127.0.0.1", port: 1 }, ttlSeconds: 300 });
    const started = performance.now();
    const per = Math.ceil(profile.watchers / profile.watcherProcesses);
    for (let left = profile.watchers; left > 0; left -= per) {
      procs.push(
        startWatchers([victim.grpcAddress, survivor.grpcAddress], service, Math.min(per, left), profile.streamsPerConnection),
      );
    }
    await Promise.all(procs.map((p) => p.ready));
    options.log(
      `replica-kill: ${profile.watchers} watchers in ${procs.length} processes on replica A in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );

    let n = 0;
    const write = async (): Promise<{ revision: number; ackedAt: number }> => {
      const instanceId = `w${n++}`;
      for (let attempt = 1; ; attempt++) {
        try {
          const { revision } = await writer.registry.register({
            instance: { service, instanceId, address: "127.0.0.1", port: 2, owner: "bench-writer" },
            ttlSeconds: 300,
          });
          return { revision: Number(revision), ackedAt: Date.now() };
        } catch (error) {
          // Register by the same owner is idempotent: retrying cannot duplicate the instance.
          if (attempt >= 5) throw error;
          options.log(`replica-kill: write ${instanceId} failed (${String(error)}); retrying`);
        }
      }
    };
    const reachedAll = async (revision: number, timeoutMs: number): Promise<boolean> => {
      const t = performance.now();
      while (procs.some((p) => p.min < revision)) {
        if (performance.now() - t > timeoutMs) {
          options.log(
            `replica-kill: not every watcher reached revision ${revision} within ${timeoutMs} ms (lowest per process: ${procs.map((p) => p.min).join(", ")})`,
          );
          return false;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return true;
    };
    const written: Array<{ revision: number; ackedAt: number }> = [];
    for (let i = 0; i < 5; i++) {
      written.push(await write());
      if (!(await reachedAll(written.at(-1)!.revision, 120_000)))
        throw new Error("FAIL replica-kill: watchers did not follow writes before the kill");
      await new Promise((resolve) => setTimeout(resolve, profile.writeIntervalMs));
    }
    const killedAt = Date.now();
    process.kill(victim.pid, "SIGKILL");
    options.log("replica-kill: replica A killed");
    const firstAfter = await write();
    written.push(firstAfter);
    for (let i = 1; i < profile.writesAfterKill; i++) {
      await new Promise((resolve) => setTimeout(resolve, profile.writeIntervalMs));
      written.push(await write());
    }
    const caughtUp = await reachedAll(written.at(-1)!.revision, 300_000);

    const entries = (await Promise.all(procs.map((p) => p.report()))).flat();
    const listed = await writer.registry.listInstances({ service });
    const storeIds = JSON.stringify(listed.instances.map((i) => i.instanceId).sort());
    let gaps = 0;
    let duplicates = 0;
    let wrongFinal = 0;
    let resets = 0;
    let errors = 0;
    const before: number[] = [];
    const resumedMs: number[] = [];
    let notResumed = 0;
    for (const e of entries) {
      if (e.lastRevision < written.at(-1)!.revision) notResumed++;
      duplicates += e.duplicates;
      resets += e.resets;
      errors += e.errors;
      const arrivals = new Map(e.events);
      for (const w of written) if (w.revision > e.snapshotRevision && !arrivals.has(w.revision)) gaps++;
      if (JSON.stringify([...e.last].sort()) !== storeIds) wrongFinal++;
      for (const w of written.slice(0, 5)) if (arrivals.has(w.revision)) before.push(arrivals.get(w.revision)! - w.ackedAt);
      const resumed = arrivals.get(firstAfter.revision);
      if (resumed !== undefined) resumedMs.push(resumed - killedAt);
    }
    if (notResumed > 0) {
      // Where the streams that did not catch up stand: their last revision, retries and last retry error.
      const behind = entries.filter((e) => e.lastRevision < written.at(-1)!.revision);
      const byRevision = new Map<number, number>();
      for (const e of behind) byRevision.set(e.lastRevision, (byRevision.get(e.lastRevision) ?? 0) + 1);
      const errorsSeen = new Map<string, number>();
      for (const e of behind) errorsSeen.set(e.lastRetryError, (errorsSeen.get(e.lastRetryError) ?? 0) + 1);
      options.log(
        `replica-kill: ${behind.length} not caught up; by last revision ${JSON.stringify([...byRevision].sort((a, b) => a[0] - b[0]))}; retries ${behind.reduce((a, e) => a + e.retries, 0)}; last retry errors ${JSON.stringify([...errorsSeen].slice(0, 5))}`,
      );
    }
    const summary = summarize(resumedMs);
    const baseline = summarize(before);
    options.log(
      `replica-kill: all ${entries.length} resumed ${summary.max.toFixed(0)} ms after the kill (p50 ${summary.p50.toFixed(0)}); before the kill a write reached all in ${baseline.max.toFixed(0)} ms; gaps ${gaps}, duplicates ${duplicates}, resets ${resets}, final state wrong ${wrongFinal}, stream errors ${errors}, not caught up ${notResumed}`,
    );
    const met =
      caughtUp &&
      notResumed === 0 &&
      gaps === 0 &&
      duplicates === 0 &&
      resets === 0 &&
      wrongFinal === 0 &&
      errors === 0 &&
      resumedMs.length === entries.length;
    const row: Row = {
      scenario: `Replica SIGKILL, ${profile.watchers.toLocaleString("en-US")} Watch streams over ${Math.ceil(profile.watchers / profile.streamsPerConnection)} connections`,
      baseline: {
        label: "write → every watcher, before the kill (5 writes)",
        value: baseline.max,
        unit: "ms",
        p50: baseline.p50,
        p99: baseline.p99,
        max: baseline.max,
      },
      result: {
        label: `kill → every watcher resumed on the other replica (first write after the kill seen); gaps ${gaps}, duplicates ${duplicates}, resets ${resets}, wrong final ${wrongFinal}`,
        value: summary.max,
        unit: "ms",
        p50: summary.p50,
        p99: summary.p99,
        max: summary.max,
      },
      ratio: ratio(summary.max, baseline.max),
      target: { text: "every stream resumes with no gap, no duplicate, final state = store", met },
      usage: {},
      details: {
        notResumed,
        gaps,
        duplicates,
        resets,
        wrongFinal,
        errors,
        writes: written.length,
        resumedMs: summary,
        beforeMs: baseline,
      },
    };
    if (!met)
      throw new Error(
        `FAIL replica-kill: not caught up ${notResumed}, gaps ${gaps}, duplicates ${duplicates}, resets ${resets}, wrong final ${wrongFinal}, errors ${errors}`,
      );
    return [row];
  } finally {
    for (const p of procs) p.child.kill("SIGKILL");
    writer.close();
    await survivor.stop();
    await victim.stop().catch(() => undefined);
    await etcd.stop();
  }
}
