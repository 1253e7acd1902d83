// 1. Register throughput, 64 in flight: Switchboard Register vs raw etcd3
// lease grant + put (of the same Instance bytes) from a Node process. Rounds
// alternate both; the round with the median ratio is reported.
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

export async function registerScenario(options: BenchOptions, profile: Profile["register"]): Promise<Row[]> {
  return withEnv(options, async (env) => {
    const [loadgen] = await env.loadgen(1);
    const rounds: Array<{ raw: { value: Throughput; usage: PhaseUsage }; sb: { value: Throughput; usage: PhaseUsage } }> = [];
    // Rounds alternate baseline and Switchboard so that both see the same background noise.
    for (let round = 0; round < profile.rounds; round++) {
      const raw = await env.measure(() =>
        loadgen!.call("rawRegister", {
          endpoint: env.etcd.endpoint,
          count: profile.count,
          concurrency: profile.concurrency,
          ttlSeconds: 60,
          service: `raw-${round}`,
        }),
      );
      options.log(`  register round ${round + 1}: raw etcd3 ${raw.value.opsPerSecond.toFixed(0)}/s`);
      const sb = await env.measure(() =>
        loadgen!.call("sbRegister", {
          address: env.address,
          count: profile.count,
          concurrency: profile.concurrency,
          channels: 1,
          ttlSeconds: 60,
          service: `reg-${round}`,
          idPrefix: "i",
        }),
      );
      options.log(
        `  register round ${round + 1}: Switchboard ${sb.value.opsPerSecond.toFixed(0)}/s (${sb.value.errors} errors${sb.value.firstError ? `: ${sb.value.firstError}` : ""})`,
      );
      if (sb.value.errors > 0 || raw.value.errors > 0) {
        throw new Error(
          `register errors: raw ${raw.value.errors} (${raw.value.firstError}), switchboard ${sb.value.errors} (${sb.value.firstError})`,
        );
      }
      rounds.push({ raw, sb });
    }
    const { raw, sb } = medianRound(rounds, (r) => r.sb.value.opsPerSecond / r.raw.value.opsPerSecond);
    // CPU per operation is steadier than throughput on a busy machine.
    const rawCpu = cpuMicrosPerOp(raw.usage, profile.count);
    const sbCpu = cpuMicrosPerOp(sb.usage, profile.count);
    options.log(
      `  register CPU µs/op: raw client ${rawCpu.loadgen}, etcd ${rawCpu.etcd}; Switchboard server ${sbCpu.server}, etcd ${sbCpu.etcd}, client ${sbCpu.loadgen}`,
    );
    return [
      {
        scenario: `1. Register, ${profile.concurrency} in flight`,
        baseline: { label: "raw etcd3 lease grant + put", value: raw.value.opsPerSecond, unit: "ops/s", ...raw.value.latency },
        result: {
          label: `Switchboard Register; server ${sbCpu.server} µs CPU/op, raw client ${rawCpu.loadgen}`,
          value: sb.value.opsPerSecond,
          unit: "ops/s",
          ...sb.value.latency,
        },
        ratio: ratio(sb.value.opsPerSecond, raw.value.opsPerSecond),
        target: { text: "≥ 0.75× raw etcd3", met: sb.value.opsPerSecond >= 0.75 * raw.value.opsPerSecond },
        usage: { baseline: raw.usage, result: sb.usage },
        details: {
          count: profile.count,
          cpuMicrosPerOp: { baseline: rawCpu, result: sbCpu },
          rounds: rounds.map((r) => ({ raw: r.raw.value.opsPerSecond, switchboard: r.sb.value.opsPerSecond })),
        },
      },
    ];
  });
}
