// Soak (`npm run bench -- --only soak [--duration SECONDS]`, 30 minutes by
// default): `instances` instances heartbeating (unary Heartbeat every TTL/3)
// over `services` services, `watchers` SDK Watch streams on those services,
// and `changesPerSecond` changes (UpdateInstance of a heartbeating instance's
// weight; every tenth change registers or deregisters a churn instance).
//
// Properties (the scenario throws, so the run prints FAILED, when one breaks):
// - server RSS growth after warm-up ≤ 10 % (mean of the last three samples
//   against the mean of the first three after warm-up; samples every 10 s);
// - 0 false removals: no watcher ever sees a heartbeating instance REMOVED;
// - every watcher's final list equals ListInstances of its service.
// Baseline (same run): the server RSS right after warm-up. The warm-up must
// outlast the filling of the server's history rings (10,000 revisions of
// instance changes: about 200 s at 50 changes/s), or the RSS check measures
// the fill.
import { createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import type { BenchOptions } from "../lib/env.js";
import { startEtcd } from "../lib/etcd.js";
import { rssBytes } from "../lib/proc.js";
import type { Row } from "../lib/report.js";
import { ratio } from "../lib/report.js";
import { startServerProcess } from "../lib/server.js";
import { startWatchers, type WatcherProcess } from "./replica-kill.js";

export interface SoakProfile {
  durationMs: number;
  warmupMs: number;
  instances: number;
  services: number;
  watchers: number;
  watcherProcesses: number;
  changesPerSecond: number;
  ttlSeconds: number;
}

export async function soakScenario(options: BenchOptions, profile: SoakProfile): Promise<Row[]> {
  const etcd = await startEtcd();
  const server = await startServerProcess({
    etcdEndpoint: etcd.endpoint,
    fromDist: options.fromDist,
    logLevel: options.serverLogLevel,
  });
  const clients: SwitchboardClient[] = [];
  const stopLoad = new AbortController();
  const cleanup: Array<() => void> = [];
  const services = Array.from({ length: profile.services }, (_, i) => `soak-${i}`);
  try {
    const driver = createSwitchboardClient({ address: server.grpcAddress, defaultTimeoutMs: 30_000 });
    clients.push(driver);
    const leases = new Map<string, { service: string; leaseId: string; weight: number }>();
    // Heartbeats: every lease every TTL/3, spread over the interval; they start with the
    // registrations, so no lease waits for the others to be registered.
    let heartbeatFailures = 0;
    let firstHeartbeatError: unknown;
    const heartbeats = (async () => {
      const periodMs = (profile.ttlSeconds * 1000) / 3;
      while (!stopLoad.signal.aborted) {
        const all = [...leases.values()];
        const roundStart = performance.now();
        for (let i = 0; i < all.length && !stopLoad.signal.aborted; i++) {
          const target = roundStart + (periodMs * i) / all.length;
          const wait = target - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          driver.registry.heartbeat({ leaseId: all[i]!.leaseId }).catch((error: unknown) => {
            heartbeatFailures++;
            firstHeartbeatError ??= error;
          });
        }
        const rest = roundStart + periodMs - performance.now();
        if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      }
    })();
    for (let next = 0; next < profile.instances;) {
      await Promise.all(
        Array.from({ length: Math.min(20, profile.instances - next) }, async () => {
          const i = next++;
          const service = services[i % services.length]!;
          const answer = await driver.registry.register({
            instance: { service, instanceId: `i${i}`, address: "127.0.0.1", port: 10_000 + (i % 50_000), weight: 100 },
            ttlSeconds: profile.ttlSeconds,
          });
          leases.set(`i${i}`, { service, leaseId: answer.leaseId, weight: 100 });
        }),
      );
    }
    options.log(`soak: ${profile.instances} instances registered`);

    // Watchers: SDK streams in separate processes (bench/loadgen/resume-watchers.ts), one
    // connection per 100 streams, so this process (heartbeats, changes) is not starved by them.
    const procs: WatcherProcess[] = [];
    const per = Math.ceil(profile.watchers / profile.watcherProcesses);
    for (let left = profile.watchers; left > 0; left -= per) {
      procs.push(
        startWatchers([server.grpcAddress], services.join(","), Math.min(per, left), 100, {
          REMOVAL_WATCH: "^i\\d+$",
          NO_EVENT_LOG: "1",
        }),
      );
    }
    cleanup.push(() => procs.forEach((p) => p.child.kill("SIGKILL")));
    await Promise.all(procs.map((p) => p.ready));
    options.log(`soak: ${profile.watchers} watchers ready in ${procs.length} processes`);

    // Changes.
    let changes = 0;
    let changeFailures = 0;
    let firstChangeError: unknown;
    const churn: Array<{ service: string; id: string }> = [];
    const ids = [...leases.keys()];
    let inFlight = 0;
    const changer = (async () => {
      const started = performance.now();
      while (!stopLoad.signal.aborted) {
        const target = started + (changes * 1000) / profile.changesPerSecond;
        const wait = target - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const n = changes++;
        // Changes are issued on schedule, not one after the other: at most 64 in flight.
        while (inFlight >= 64 && !stopLoad.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight++;
        void change(n).finally(() => inFlight--);
      }
      while (inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    })();

    async function change(n: number): Promise<void> {
      try {
        if (n % 10 === 0) {
          if (churn.length > 0 && n % 20 === 0) {
            const gone = churn.shift()!;
            await driver.registry.deregister({ namespace: "", service: gone.service, instanceId: gone.id });
          } else {
            const service = services[n % services.length]!;
            const id = `churn-${n}`;
            await driver.registry.register({
              instance: { service, instanceId: id, address: "127.0.0.1", port: 9 },
              ttlSeconds: 300,
            });
            churn.push({ service, id });
          }
        } else {
          const id = ids[n % ids.length]!;
          const lease = leases.get(id)!;
          lease.weight = lease.weight === 100 ? 101 : 100;
          await driver.registry.updateInstance({ namespace: "", service: lease.service, instanceId: id, weight: lease.weight });
        }
      } catch (error) {
        changeFailures++;
        firstChangeError ??= error;
      }
    }

    // RSS samples every 10 s.
    const samples: Array<{ at: number; rss: number }> = [];
    const started = performance.now();
    while (performance.now() - started < profile.durationMs) {
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      const rss = rssBytes(server.pid);
      if (rss !== undefined) samples.push({ at: performance.now() - started, rss });
      options.log(
        `soak: ${((performance.now() - started) / 1000).toFixed(0)} s, ${changes} changes, server RSS ${((rss ?? 0) / 2 ** 20).toFixed(0)} MiB`,
      );
    }
    stopLoad.abort();
    await Promise.all([heartbeats, changer]);

    // Final states: every watcher equals the store once it has caught up with the last write.
    const expected = new Map<string, string>();
    let lastRevision = 0;
    for (const service of services) {
      const listed = await driver.registry.listInstances({ service });
      expected.set(service, JSON.stringify(listed.instances.map((i) => i.instanceId).sort()));
      lastRevision = Math.max(lastRevision, Number(listed.revision));
    }
    const settle = performance.now();
    while (procs.some((p) => p.min < lastRevision) && performance.now() - settle < 60_000)
      await new Promise((resolve) => setTimeout(resolve, 200));
    const entries = (await Promise.all(procs.map((p) => p.report()))).flat();
    const wrongFinal = entries.filter((e) => JSON.stringify([...e.last].sort()) !== expected.get(e.service)).length;
    const falseRemovals = entries.reduce((sum, e) => sum + e.watchedRemovals, 0);

    const afterWarmup = samples.filter((s) => s.at >= profile.warmupMs);
    if (afterWarmup.length < 6)
      throw new Error(`soak too short for the RSS check: ${afterWarmup.length} samples after warm-up (need 6)`);
    const mean = (xs: Array<{ rss: number }>) => xs.reduce((a, s) => a + s.rss, 0) / xs.length;
    const baseRss = mean(afterWarmup.slice(0, 3));
    const endRss = mean(afterWarmup.slice(-3));
    const growth = endRss / baseRss - 1;
    options.log(
      `soak: RSS ${(baseRss / 2 ** 20).toFixed(0)} → ${(endRss / 2 ** 20).toFixed(0)} MiB (${(growth * 100).toFixed(1)} %), ${changes} changes (${changeFailures} failed), heartbeat failures ${heartbeatFailures}${firstHeartbeatError ? ` (first: ${String(firstHeartbeatError)})` : ""}${firstChangeError ? `, first change error: ${String(firstChangeError)}` : ""}, false removals ${falseRemovals}, wrong final states ${wrongFinal}`,
    );
    const met = growth <= 0.1 && falseRemovals === 0 && wrongFinal === 0;
    const row: Row = {
      scenario: `Soak ${(profile.durationMs / 60_000).toFixed(0)} min: ${profile.instances.toLocaleString("en-US")} instances heartbeating, ${profile.watchers.toLocaleString("en-US")} watchers, ${profile.changesPerSecond} changes/s`,
      baseline: { label: "server RSS after warm-up", value: baseRss / 2 ** 20, unit: "MiB" },
      result: {
        label: `server RSS at the end (${(growth * 100).toFixed(1)} %); false removals ${falseRemovals}, wrong final states ${wrongFinal}`,
        value: endRss / 2 ** 20,
        unit: "MiB",
      },
      ratio: ratio(endRss, baseRss),
      target: { text: "RSS growth after warm-up ≤ 10 %, 0 false removals, every watcher = store", met },
      usage: {},
      details: { samples, changes, changeFailures, heartbeatFailures, falseRemovals, wrongFinal, growth },
    };
    if (!met)
      throw new Error(
        `FAIL soak: RSS growth ${(growth * 100).toFixed(1)} %, false removals ${falseRemovals}, wrong final ${wrongFinal}`,
      );
    return [row];
  } finally {
    stopLoad.abort();
    for (const run of cleanup) run();
    for (const client of clients) client.close();
    await server.stop();
    await etcd.stop();
  }
}
