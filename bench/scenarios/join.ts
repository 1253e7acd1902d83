// 9. Joins through the SDK agent, each with its own connection, 64 in flight:
// createSwitchboardClient + createAgent().start() (connection, Register, KeepAlive stream)
// vs raw etcd3 lease grant + put from one warm client; and, to say what the
// connection itself costs, fresh clients making one ListServices call each.
// Rounds alternate; the round with the median ratio is reported.
import { cpuMicrosPerOp, withEnv, type BenchOptions, type PhaseUsage } from "../lib/env.js";
import { ratio, type Row } from "../lib/report.js";
import { medianRound } from "../lib/stats.js";
import type { Profile } from "../profile.js";

interface Throughput {
  opsPerSecond: number;
  latency: { p50: number; p99: number; max: number };
  errors: number;
  firstError?: string;
}
type Measured = { value: Throughput; usage: PhaseUsage };

export async function joinScenario(options: BenchOptions, profile: Profile["join"]): Promise<Row[]> {
  return withEnv(options, async (env) => {
    const [loadgen] = await env.loadgen(1);
    const rounds: Array<{ raw: Measured; join: Measured; connect: Measured }> = [];
    const params = (round: number, service: string) => ({
      address: env.address,
      count: profile.count,
      concurrency: profile.concurrency,
      ttlSeconds: 60,
      service: `${service}-${round}`,
    });
    for (let round = 0; round < profile.rounds; round++) {
      const raw = await env.measure(() =>
        loadgen!.call("rawRegister", { ...params(round, "raw-join"), endpoint: env.etcd.endpoint }),
      );
      const join = await env.measure(() => loadgen!.call("sdkJoin", params(round, "join")));
      const connect = await env.measure(() => loadgen!.call("sdkConnect", params(round, "connect")));
      options.log(
        `  join round ${round + 1}: raw etcd3 ${raw.value.opsPerSecond.toFixed(0)}/s, SDK agent joins ${join.value.opsPerSecond.toFixed(0)}/s, fresh connections + 1 call ${connect.value.opsPerSecond.toFixed(0)}/s`,
      );
      for (const [name, m] of [
        ["raw", raw],
        ["join", join],
        ["connect", connect],
      ] as const) {
        if (m.value.errors > 0) throw new Error(`join scenario: ${name} had ${m.value.errors} errors (${m.value.firstError})`);
      }
      rounds.push({ raw, join, connect });
    }
    const { raw, join, connect } = medianRound(rounds, (r) => r.join.value.opsPerSecond / r.raw.value.opsPerSecond);
    const joinCpu = cpuMicrosPerOp(join.usage, profile.count);
    const connectCpu = cpuMicrosPerOp(connect.usage, profile.count);
    options.log(
      `  join CPU µs/op: agent join server ${joinCpu.server}, client ${joinCpu.loadgen}; fresh connection + 1 call server ${connectCpu.server}, client ${connectCpu.loadgen}`,
    );
    return [
      {
        scenario: `9. SDK agent joins, own connection each, ${profile.concurrency} in flight`,
        baseline: { label: "raw etcd3 lease grant + put", value: raw.value.opsPerSecond, unit: "ops/s", ...raw.value.latency },
        result: {
          label: `createSwitchboardClient + createAgent().start(); server ${joinCpu.server} µs CPU/join, client ${joinCpu.loadgen}; a fresh connection + 1 call alone: ${connect.value.opsPerSecond.toFixed(0)}/s, p50 ${connect.value.latency.p50.toFixed(1)} ms, server ${connectCpu.server} µs, client ${connectCpu.loadgen} µs`,
          value: join.value.opsPerSecond,
          unit: "ops/s",
          ...join.value.latency,
        },
        ratio: ratio(join.value.opsPerSecond, raw.value.opsPerSecond),
        target: { text: "≥ 0.6× raw etcd3", met: join.value.opsPerSecond >= 0.6 * raw.value.opsPerSecond },
        usage: { baseline: raw.usage, result: join.usage },
        details: {
          count: profile.count,
          cpuMicrosPerOp: { baseline: cpuMicrosPerOp(raw.usage, profile.count), join: joinCpu, connect: connectCpu },
          connect: connect.value,
          rounds: rounds.map((r) => ({
            raw: r.raw.value.opsPerSecond,
            join: r.join.value.opsPerSecond,
            connect: r.connect.value.opsPerSecond,
          })),
        },
      },
    ];
  });
}
