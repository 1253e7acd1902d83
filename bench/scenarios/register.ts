// 1. Register throughput, 64 in flight: Switchboard Register vs raw etcd3
// lease grant + put (of the same Instance bytes) from a Node process. Rounds
// alternate both; the round with the median ratio is reported. When Debian's
// zookeeper package is installed, every round also registers the same count
// in ZooKeeper as Curator-based discovery would (a session per instance, an
// ephemeral znode each): a second row compares Switchboard with that.
import { cpuMicrosPerOp, withEnv, type BenchOptions, type PhaseUsage } from "../lib/env.js";
import { ratio, type Row } from "../lib/report.js";
import { medianRound } from "../lib/stats.js";
import { startZooKeeper, zooKeeperMissing, type ZooKeeperProcess } from "../lib/zookeeper.js";
import type { Profile } from "../profile.js";

interface Throughput {
  opsPerSecond: number;
  latency: { p50: number; p99: number; max: number };
  errors: number;
  firstError?: string;
}

export async function registerScenario(options: BenchOptions, profile: Profile["register"]): Promise<Row[]> {
  const zkMissing = zooKeeperMissing();
  let zk: ZooKeeperProcess | undefined;
  return withEnv(options, async (env) => {
    const [loadgen] = await env.loadgen(1);
    const rounds: Array<{
      raw: { value: Throughput; usage: PhaseUsage };
      sb: { value: Throughput; usage: PhaseUsage };
      zk?: { value: Throughput; usage: PhaseUsage };
    }> = [];
    if (!zkMissing) {
      zk = await startZooKeeper();
      env.extra.set("zookeeper", zk.pid);
    }
    try {
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
        let zkRound: { value: Throughput; usage: PhaseUsage } | undefined;
        if (zk) {
          const connectString = zk.connectString;
          zkRound = await env.measure(() =>
            loadgen!.call("zkRegister", {
              name: "register",
              connectString,
              count: profile.count,
              concurrency: profile.concurrency,
              service: `zk-${round}`,
            }),
          );
          // The sessions (instances) stay up until the round is measured, then go: the next round starts clean.
          await loadgen!.call("zkCloseSessions", { name: "register" });
          options.log(
            `  register round ${round + 1}: ZooKeeper ${zkRound.value.opsPerSecond.toFixed(0)}/s (${zkRound.value.errors} errors${zkRound.value.firstError ? `: ${zkRound.value.firstError}` : ""})`,
          );
          if (zkRound.value.errors > 0)
            throw new Error(`zookeeper register errors: ${zkRound.value.errors} (${zkRound.value.firstError})`);
        }
        rounds.push({ raw, sb, ...(zkRound && { zk: zkRound }) });
      }
      const { raw, sb } = medianRound(rounds, (r) => r.sb.value.opsPerSecond / r.raw.value.opsPerSecond);
      const zkRow = zooKeeperRow(profile, zkMissing, rounds);
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
            rounds: rounds.map((r) => ({
              raw: r.raw.value.opsPerSecond,
              switchboard: r.sb.value.opsPerSecond,
              zookeeper: r.zk?.value.opsPerSecond,
            })),
          },
        },
        zkRow,
      ];
    } finally {
      env.extra.delete("zookeeper");
      await zk?.stop();
    }
  });
}

/** Switchboard against ZooKeeper (session + ephemeral znode per instance), from the round with the median ratio. */
function zooKeeperRow(
  profile: Profile["register"],
  missing: string | undefined,
  rounds: Array<{ sb: { value: Throughput; usage: PhaseUsage }; zk?: { value: Throughput; usage: PhaseUsage } }>,
): Row {
  const scenario = `1. Register, ${profile.concurrency} in flight, vs ZooKeeper`;
  const withZk = rounds.filter((r) => r.zk);
  if (missing || withZk.length === 0) {
    return {
      scenario,
      baseline: { label: missing ?? "ZooKeeper not measured", value: Number.NaN, unit: "" },
      result: { label: "Switchboard Register (see the row above)", value: Number.NaN, unit: "" },
      ratio: Number.NaN,
      usage: {},
    };
  }
  const { sb, zk } = medianRound(withZk, (r) => r.sb.value.opsPerSecond / r.zk!.value.opsPerSecond);
  const zkCpu = cpuMicrosPerOp(zk!.usage, profile.count);
  return {
    scenario,
    baseline: {
      label: `ZooKeeper 3.8, a session + ephemeral znode per instance; ZooKeeper ${zkCpu.zookeeper} µs CPU/op`,
      value: zk!.value.opsPerSecond,
      unit: "ops/s",
      ...zk!.value.latency,
    },
    result: { label: "Switchboard Register", value: sb.value.opsPerSecond, unit: "ops/s", ...sb.value.latency },
    ratio: ratio(sb.value.opsPerSecond, zk!.value.opsPerSecond),
    usage: { baseline: zk!.usage, result: sb.usage },
    details: {
      cpuMicrosPerOp: { baseline: zkCpu, result: cpuMicrosPerOp(sb.usage, profile.count) },
      rounds: withZk.map((r) => ({ zookeeper: r.zk!.value.opsPerSecond, switchboard: r.sb.value.opsPerSecond })),
    },
  };
}
