// 9. Joins through the SDK agent, each with its own connection, 64 in flight:
// createSwitchboardClient + createAgent().start() (connection, Register; the
// KeepAlive stream opens in the background) against two raw etcd3 baselines:
// lease grant + put from one warm client (the baseline) and from a new
// etcd3 client with its own connection per instance (the same shape as a join).
// Both own-connection arms are spread over the same load generator processes,
// so neither is held back by one process hosting every client. The agents'
// stop (Deregister) is a phase of its own, after the timed join. Also fresh
// clients making one ListServices call each: what a connection costs alone.
// Rounds alternate; the round with the median ratio is reported.
import { cpuMicrosPerOp, withEnv, type BenchOptions, type PhaseUsage } from "../lib/env.js";
import type { LoadGen } from "../lib/loadgen.js";
import { ratio, type Row } from "../lib/report.js";
import { medianRound, summarize } from "../lib/stats.js";
import type { Profile } from "../profile.js";

interface Throughput {
  opsPerSecond: number;
  latency: { p50: number; p99: number; max: number };
  errors: number;
  firstError?: string;
}
type Measured = { value: Throughput; usage: PhaseUsage };
interface Spread {
  seconds: number;
  samples: number[];
  errors: number;
  firstError?: string;
}

/** Runs one task on every load generator at once, each with its share of the count and concurrency. */
async function spread(
  loadgens: LoadGen[],
  count: number,
  concurrency: number,
  call: (loadgen: LoadGen, share: { count: number; concurrency: number; first: number }) => Promise<Spread>,
): Promise<Throughput> {
  const n = loadgens.length;
  const started = performance.now();
  const parts = await Promise.all(
    loadgens.map((loadgen, k) => {
      const first = Math.floor((count * k) / n);
      const share = Math.floor((count * (k + 1)) / n) - first;
      return call(loadgen, { count: share, concurrency: Math.max(1, Math.round(concurrency / n)), first });
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const samples = parts.flatMap((p) => p.samples);
  return {
    opsPerSecond: count / seconds,
    latency: summarize(samples),
    errors: parts.reduce((sum, p) => sum + p.errors, 0),
    firstError: parts.find((p) => p.firstError !== undefined)?.firstError,
  };
}

/** CPU µs per op with every load generator summed as "client". */
function cpuPerOp(usage: PhaseUsage, ops: number): { etcd: number; server: number; client: number } {
  const each = cpuMicrosPerOp(usage, ops);
  const client = Object.entries(each)
    .filter(([label]) => label.startsWith("loadgen"))
    .reduce((sum, [, v]) => sum + v, 0);
  return { etcd: each.etcd ?? Number.NaN, server: each.server ?? Number.NaN, client };
}

export async function joinScenario(options: BenchOptions, profile: Profile["join"]): Promise<Row[]> {
  const processes = Number(process.env.BENCH_JOIN_LOADGENS ?? profile.loadgens);
  return withEnv(options, async (env) => {
    const loadgens = await env.loadgen(processes);
    const rounds: Array<{ raw: Measured; rawOwn: Measured; join: Measured; leave: Measured; connect: Measured }> = [];
    const params = (round: number, service: string) => ({
      address: env.address,
      count: profile.count,
      concurrency: profile.concurrency,
      ttlSeconds: 60,
      service: `${service}-${round}`,
    });
    for (let round = 0; round < profile.rounds; round++) {
      const raw = await env.measure(() =>
        loadgens[0]!.call("rawRegister", { ...params(round, "raw-join"), endpoint: env.etcd.endpoint }),
      );
      const rawOwn = await env.measure(() =>
        spread(loadgens, profile.count, profile.concurrency, (l, share) =>
          l.call("rawJoin", { ...params(round, "raw-own"), ...share, endpoint: env.etcd.endpoint }),
        ),
      );
      await Promise.all(loadgens.map((l) => l.call("rawLeave", { service: `raw-own-${round}` })));
      const join = await env.measure(() =>
        spread(loadgens, profile.count, profile.concurrency, (l, share) =>
          l.call("sdkJoin", { ...params(round, "join"), ...share }),
        ),
      );
      const leave = await env.measure(async () => {
        const started = performance.now();
        const parts = await Promise.all(
          loadgens.map((l) =>
            l.call("sdkLeave", {
              service: `join-${round}`,
              concurrency: Math.max(1, Math.round(profile.concurrency / loadgens.length)),
            }),
          ),
        );
        const errors = parts.reduce((sum, p) => sum + p.errors, 0);
        const firstError = parts.find((p) => p.firstError !== undefined)?.firstError;
        const seconds = (performance.now() - started) / 1000;
        const latency = { p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
        return { opsPerSecond: profile.count / seconds, latency, errors, firstError } as Throughput;
      });
      const connect = await env.measure(() =>
        spread(loadgens, profile.count, profile.concurrency, (l, share) =>
          l.call("sdkConnect", { ...params(round, "connect"), ...share }),
        ),
      );
      options.log(
        `  join round ${round + 1}: raw etcd3 warm client ${raw.value.opsPerSecond.toFixed(0)}/s, raw etcd3 own client each ${rawOwn.value.opsPerSecond.toFixed(0)}/s, SDK agent joins ${join.value.opsPerSecond.toFixed(0)}/s (p50 ${join.value.latency.p50.toFixed(0)} ms), leaves ${leave.value.opsPerSecond.toFixed(0)}/s, fresh connections + 1 call ${connect.value.opsPerSecond.toFixed(0)}/s`,
      );
      // A stop whose Deregister fails (e.g. its 10 s deadline on a saturated machine) leaves the lease to
      // expire: reported, but the joins were measured all the same.
      if (leave.value.errors > 0)
        options.log(`  join round ${round + 1}: ${leave.value.errors} agent stops failed (${leave.value.firstError})`);
      for (const [name, m] of [
        ["raw", raw],
        ["raw own connection", rawOwn],
        ["join", join],
        ["connect", connect],
      ] as const) {
        if (m.value.errors > 0) throw new Error(`join scenario: ${name} had ${m.value.errors} errors (${m.value.firstError})`);
      }
      rounds.push({ raw, rawOwn, join, leave, connect });
    }
    const { raw, rawOwn, join, leave, connect } = medianRound(
      rounds,
      (r) => r.join.value.opsPerSecond / r.raw.value.opsPerSecond,
    );
    const cpu = {
      raw: cpuPerOp(raw.usage, profile.count),
      rawOwn: cpuPerOp(rawOwn.usage, profile.count),
      join: cpuPerOp(join.usage, profile.count),
      leave: cpuPerOp(leave.usage, profile.count),
      connect: cpuPerOp(connect.usage, profile.count),
    };
    const fmt = (c: { etcd: number; server: number; client: number }) => `etcd ${c.etcd}, server ${c.server}, client ${c.client}`;
    options.log(
      `  join CPU µs/op (${processes} load generators): raw warm ${fmt(cpu.raw)}; raw own client ${fmt(cpu.rawOwn)}; agent join ${fmt(cpu.join)}; agent stop ${fmt(cpu.leave)}; fresh connection + 1 call ${fmt(cpu.connect)}`,
    );
    const ownRatio = ratio(join.value.opsPerSecond, rawOwn.value.opsPerSecond);
    return [
      {
        scenario: `9. SDK agent joins, own connection each, ${profile.concurrency} in flight over ${processes} load generators`,
        baseline: {
          label: "raw etcd3 lease grant + put, one warm client",
          value: raw.value.opsPerSecond,
          unit: "ops/s",
          ...raw.value.latency,
        },
        result: {
          label: `createSwitchboardClient + createAgent().start(); server ${cpu.join.server} µs CPU/join, client ${cpu.join.client}; against raw etcd3 with its own client and connection per instance (${rawOwn.value.opsPerSecond.toFixed(0)}/s, p50 ${rawOwn.value.latency.p50.toFixed(1)} ms): ${ownRatio}×; a fresh connection + 1 call alone: ${connect.value.opsPerSecond.toFixed(0)}/s, p50 ${connect.value.latency.p50.toFixed(1)} ms, server ${cpu.connect.server} µs, client ${cpu.connect.client} µs`,
          value: join.value.opsPerSecond,
          unit: "ops/s",
          ...join.value.latency,
        },
        ratio: ratio(join.value.opsPerSecond, raw.value.opsPerSecond),
        target: { text: "≥ 0.6× raw etcd3", met: join.value.opsPerSecond >= 0.6 * raw.value.opsPerSecond },
        usage: { baseline: raw.usage, result: join.usage },
        details: {
          count: profile.count,
          loadgens: processes,
          cpuMicrosPerOp: cpu,
          rawOwnConnection: { ...rawOwn.value, ratio: ownRatio },
          leave: leave.value,
          connect: connect.value,
          rounds: rounds.map((r) => ({
            raw: r.raw.value.opsPerSecond,
            rawOwn: r.rawOwn.value.opsPerSecond,
            join: r.join.value.opsPerSecond,
            leave: r.leave.value.opsPerSecond,
            connect: r.connect.value.opsPerSecond,
          })),
        },
      },
    ];
  });
}
