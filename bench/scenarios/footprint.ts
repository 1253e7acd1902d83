// 10. Footprint (issue 15): 10,000 registered instances and 1,000 watch
// streams, the same load against three systems in one run, each on its own
// fresh processes:
//   - Switchboard: Register (own lease each, 64 in flight) then Watch streams
//     (100 per connection); measured: its server + its etcd;
//   - raw etcd3: lease grant + put per instance, then watchers that list the
//     service's keys and watch its prefix (100 per client); measured: etcd;
//   - ZooKeeper (Debian's 3.8): a session + ephemeral znode per instance, as
//     Curator would, then re-armed children watches (100 per session);
//     measured: the ZooKeeper JVM.
// The load phase is registration followed by opening the watchers: its CPU
// seconds and peak RSS are read from /proc, then the RSS once things have
// settled. For Switchboard's server the RSS is broken down (process.memoryUsage()
// before and after a full GC, V8 heap spaces, /proc/PID/smaps_rollup) so a miss
// says where the memory is.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { withEnv, type BenchEnv, type BenchOptions, type PhaseUsage } from "../lib/env.js";
import type { LoadGen } from "../lib/loadgen.js";
import { rssBytes } from "../lib/proc.js";
import { ratio, type Row } from "../lib/report.js";
import { startZooKeeper, zooKeeperMissing } from "../lib/zookeeper.js";
import type { Profile } from "../profile.js";

export interface FootprintProfile {
  instances: number;
  /** Instances and watchers are spread evenly over this many services. */
  services: number;
  watchers: number;
  /** Pause after the load phase before the settled RSS is read. */
  settleMs: number;
}

const STREAMS_PER_CONNECTION = 100;
const MiB = 2 ** 20;

interface Measured {
  /** Labels of the processes that make up the system (e.g. server + etcd). */
  labels: string[];
  usage: PhaseUsage;
  cpuSeconds: number;
  /** Sum of the processes' peak RSS during the load phase. */
  peakRss: number;
  /** Sum of the processes' RSS after the pause. */
  settledRss: number;
  loadSeconds: number;
  details: Record<string, unknown>;
}

function summarizeUsage(env: BenchEnv, labels: string[], usage: PhaseUsage): Omit<Measured, "details" | "loadSeconds"> {
  const pids = env.pids();
  let cpuSeconds = 0;
  let peakRss = 0;
  let settledRss = 0;
  for (const label of labels) {
    cpuSeconds += usage.processes[label]?.cpuSeconds ?? Number.NaN;
    peakRss += usage.processes[label]?.peakRssBytes ?? Number.NaN;
    settledRss += rssBytes(pids.get(label) ?? -1) ?? Number.NaN;
  }
  return { labels, usage, cpuSeconds: Math.round(cpuSeconds * 100) / 100, peakRss, settledRss };
}

/** The kernel's view of a process's memory: resident anonymous vs file-backed pages and more (kB fields as bytes). */
function smapsRollup(pid: number): Record<string, number> {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const fields: Record<string, number> = {};
    for (const match of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) fields[match[1]!] = Number(match[2]) * 1024;
    return fields;
  } catch {
    return {};
  }
}

function share(total: number, parts: number, i: number): number {
  return Math.floor(total / parts) + (i < total % parts ? 1 : 0);
}

function check(what: string, result: { errors: number; firstError?: string }): void {
  if (result.errors > 0) throw new Error(`${what}: ${result.errors} errors (${result.firstError})`);
}

async function switchboardFootprint(options: BenchOptions, profile: FootprintProfile): Promise<Measured> {
  return withEnv(options, async (env) => {
    const [registrar, watcher] = (await env.loadgen(2)) as [LoadGen, LoadGen];
    await sleep(1000);
    const started = performance.now();
    const phase = await env.measure(async () => {
      const registered = await registrar.call("sbRegister", {
        address: env.address,
        count: profile.instances,
        concurrency: 64,
        channels: 1,
        ttlSeconds: 300,
        services: profile.services,
        service: "fp",
        idPrefix: "f",
      });
      check("switchboard register", registered);
      const opened = await Promise.all(
        Array.from({ length: profile.services }, (_, s) => {
          const count = share(profile.watchers, profile.services, s);
          return watcher.call("sbOpenWatchers", {
            name: `fp-${s}`,
            address: env.address,
            count,
            channels: Math.ceil(count / STREAMS_PER_CONNECTION),
            service: `fp-${s}`,
            timeoutMs: 180_000,
          });
        }),
      );
      const n = opened.reduce((acc, o) => acc + o.opened, 0);
      if (n !== profile.watchers)
        throw new Error(
          `switchboard watchers: opened ${n} of ${profile.watchers} (${opened.find((o) => o.firstError)?.firstError})`,
        );
      return registered;
    });
    const loadSeconds = (performance.now() - started) / 1000;
    await sleep(profile.settleMs);
    const measured = summarizeUsage(env, ["server", "etcd"], phase.usage);
    const server = env.server!;
    const serverRss = rssBytes(server.pid) ?? Number.NaN;
    const etcdRss = rssBytes(env.etcd.pid) ?? Number.NaN;
    const smaps = smapsRollup(server.pid);
    const memory = await registrar.call("serverMemory", { address: env.address });
    options.log(
      `  Switchboard: server RSS ${(serverRss / MiB).toFixed(0)} MiB + etcd ${(etcdRss / MiB).toFixed(0)} MiB; heap used ${(memory.beforeGc.heapUsed / MiB).toFixed(0)} → ${(memory.heapUsed / MiB).toFixed(0)} MiB after GC (heap total ${(memory.heapTotal / MiB).toFixed(0)}, external ${(memory.external / MiB).toFixed(0)}, array buffers ${(memory.arrayBuffers / MiB).toFixed(0)}); anon ${((smaps.Anonymous ?? 0) / MiB).toFixed(0)} MiB, file ${(((smaps.Rss ?? 0) - (smaps.Anonymous ?? 0)) / MiB).toFixed(0)} MiB`,
    );
    await Promise.all(Array.from({ length: profile.services }, (_, s) => watcher.call("closeStreams", { name: `fp-${s}` })));
    // What the watch streams held: the same reading once they are closed (the instances stay).
    await sleep(1000);
    const withoutWatchers = await registrar.call("serverMemory", { address: env.address });
    options.log(
      `  Switchboard after closing the watchers: RSS ${(withoutWatchers.rss / MiB).toFixed(0)} MiB, heap used ${(withoutWatchers.heapUsed / MiB).toFixed(0)} MiB, array buffers ${(withoutWatchers.arrayBuffers / MiB).toFixed(0)} MiB`,
    );
    return {
      ...measured,
      loadSeconds,
      details: {
        registerOpsPerSecond: phase.value.opsPerSecond,
        serverRss,
        etcdRss,
        serverSmapsRollup: smaps,
        serverMemory: memory,
        serverMemoryWithoutWatchers: withoutWatchers,
        serverEnv: process.env.BENCH_SERVER_ENV ?? "",
        serverNodeArgs: process.env.BENCH_SERVER_NODE_ARGS ?? "",
      },
    };
  });
}

async function rawEtcdFootprint(env: BenchEnv, loadgens: [LoadGen, LoadGen], profile: FootprintProfile): Promise<Measured> {
  const [registrar, watcher] = loadgens;
  const started = performance.now();
  const phase = await env.measure(async () => {
    const registered = await registrar.call("rawRegister", {
      endpoint: env.etcd.endpoint,
      count: profile.instances,
      concurrency: 64,
      ttlSeconds: 300,
      service: "fp",
      services: profile.services,
    });
    check("raw etcd register", registered);
    const opened = await watcher.call("rawOpenWatchers", {
      name: "fp",
      endpoint: env.etcd.endpoint,
      perService: profile.watchers / profile.services,
      service: "fp",
      services: profile.services,
      watchersPerClient: STREAMS_PER_CONNECTION,
    });
    check("raw etcd watchers", opened);
    return opened;
  });
  const loadSeconds = (performance.now() - started) / 1000;
  await sleep(profile.settleMs);
  const measured = summarizeUsage(env, ["etcd"], phase.usage);
  env.options.log(`  raw etcd3: etcd RSS ${(measured.settledRss / MiB).toFixed(0)} MiB, CPU ${measured.cpuSeconds} s`);
  await watcher.call("rawCloseWatchers", { name: "fp" });
  return { ...measured, loadSeconds, details: { keysListed: phase.value.keys } };
}

async function zooKeeperFootprint(env: BenchEnv, loadgens: [LoadGen, LoadGen], profile: FootprintProfile): Promise<Measured> {
  const [registrar, watcher] = loadgens;
  const zk = await startZooKeeper();
  env.extra.set("zookeeper", zk.pid);
  try {
    await sleep(1000);
    const started = performance.now();
    const phase = await env.measure(async () => {
      const registered = await registrar.call("zkRegister", {
        name: "fp",
        connectString: zk.connectString,
        count: profile.instances,
        concurrency: 64,
        service: "fp",
        services: profile.services,
      });
      check("zookeeper register", registered);
      const opened = await watcher.call("zkOpenWatchers", {
        name: "fp",
        connectString: zk.connectString,
        perService: profile.watchers / profile.services,
        service: "fp",
        services: profile.services,
        watchersPerSession: STREAMS_PER_CONNECTION,
      });
      check("zookeeper watchers", opened);
      return opened;
    });
    const loadSeconds = (performance.now() - started) / 1000;
    await sleep(profile.settleMs);
    const measured = summarizeUsage(env, ["zookeeper"], phase.usage);
    env.options.log(`  ZooKeeper: JVM RSS ${(measured.settledRss / MiB).toFixed(0)} MiB, CPU ${measured.cpuSeconds} s`);
    await watcher.call("zkCloseWatchers", { name: "fp" });
    await registrar.call("zkCloseSessions", { name: "fp" });
    return {
      ...measured,
      loadSeconds,
      details: { childrenListed: phase.value.children, jvmFlags: process.env.BENCH_ZK_JVMFLAGS ?? "-Xmx1000m" },
    };
  } finally {
    env.extra.delete("zookeeper");
    await zk.stop();
  }
}

const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;

export async function footprintScenario(options: BenchOptions, profile: Profile["footprint"]): Promise<Row[]> {
  if (profile.watchers % profile.services !== 0) throw new Error("footprint: watchers must be a multiple of services");
  // The baselines share one environment (its etcd is the raw-etcd baseline; ZooKeeper gets its own loadgens).
  const { raw, zk } = await withEnv(
    options,
    async (env) => {
      const loadgens = (await env.loadgen(4)) as LoadGen[];
      await sleep(1000);
      const raw = await rawEtcdFootprint(env, [loadgens[0]!, loadgens[1]!], profile);
      const missing = zooKeeperMissing();
      const zk = missing ?? (await zooKeeperFootprint(env, [loadgens[2]!, loadgens[3]!], profile));
      return { raw, zk };
    },
    { server: false },
  );
  const sb = await switchboardFootprint(options, profile);
  const what = `${profile.instances.toLocaleString("en-US")} instances + ${profile.watchers.toLocaleString("en-US")} watchers`;
  const sbLabel = `Switchboard server + etcd (peak ${mib(sb.peakRss)} MiB; server ${mib(sb.details.serverRss as number)} + etcd ${mib(sb.details.etcdRss as number)})`;
  const details = (m: Measured) => ({
    processes: m.labels,
    cpuSeconds: m.cpuSeconds,
    peakRssMiB: mib(m.peakRss),
    settledRssMiB: mib(m.settledRss),
    loadSeconds: Math.round(m.loadSeconds * 10) / 10,
    ...m.details,
  });
  const rows: Row[] = [];
  if (typeof zk === "string") {
    for (const measure of ["RSS", "CPU in the load phase"]) {
      rows.push({
        scenario: `10. Footprint, ${what}: ${measure} vs ZooKeeper`,
        baseline: { label: zk, value: Number.NaN, unit: "" },
        result:
          measure === "RSS"
            ? { label: sbLabel, value: mib(sb.settledRss), unit: "MiB" }
            : { label: "Switchboard server + etcd", value: sb.cpuSeconds, unit: "CPU s" },
        ratio: Number.NaN,
        usage: { result: sb.usage },
      });
    }
  } else {
    rows.push(
      {
        scenario: `10. Footprint, ${what}: RSS vs ZooKeeper`,
        baseline: { label: `ZooKeeper 3.8 JVM (peak ${mib(zk.peakRss)} MiB)`, value: mib(zk.settledRss), unit: "MiB" },
        result: { label: sbLabel, value: mib(sb.settledRss), unit: "MiB" },
        ratio: ratio(sb.settledRss, zk.settledRss),
        target: { text: "≤ ZooKeeper's RSS", met: sb.settledRss <= zk.settledRss },
        usage: { baseline: zk.usage, result: sb.usage },
        details: { zookeeper: details(zk), switchboard: details(sb) },
      },
      {
        scenario: `10. Footprint, ${what}: CPU in the load phase vs ZooKeeper`,
        baseline: { label: `ZooKeeper JVM (load phase ${zk.loadSeconds.toFixed(1)} s)`, value: zk.cpuSeconds, unit: "CPU s" },
        result: {
          label: `Switchboard server + etcd (load phase ${sb.loadSeconds.toFixed(1)} s)`,
          value: sb.cpuSeconds,
          unit: "CPU s",
        },
        ratio: ratio(sb.cpuSeconds, zk.cpuSeconds),
        target: { text: "≤ 2× ZooKeeper's CPU", met: sb.cpuSeconds <= 2 * zk.cpuSeconds },
        usage: { baseline: zk.usage, result: sb.usage },
      },
    );
  }
  rows.push({
    scenario: `10. Footprint, ${what}: RSS vs raw etcd3`,
    baseline: {
      label: `raw etcd3 leases + watchers, etcd (peak ${mib(raw.peakRss)} MiB; CPU ${raw.cpuSeconds} s in ${raw.loadSeconds.toFixed(1)} s)`,
      value: mib(raw.settledRss),
      unit: "MiB",
    },
    result: {
      label: `Switchboard server + etcd (CPU ${sb.cpuSeconds} s in ${sb.loadSeconds.toFixed(1)} s)`,
      value: mib(sb.settledRss),
      unit: "MiB",
    },
    ratio: ratio(sb.settledRss, raw.settledRss),
    usage: { baseline: raw.usage, result: sb.usage },
    details: { rawEtcd: details(raw), switchboard: details(sb) },
  });
  return rows;
}
