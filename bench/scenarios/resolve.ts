// 2. Resolve: ListInstances of a 10-instance service, served from the
// server's cache, vs a null unary echo RPC on the same server process. Rounds
// alternate both; the round with the median ratio is reported.
import { cpuMicrosPerOp, withEnv, type BenchOptions } from "../lib/env.js";
import { ratio, type Row } from "../lib/report.js";
import { medianRound } from "../lib/stats.js";
import type { Profile } from "../profile.js";

export async function resolveScenario(options: BenchOptions, profile: Profile["resolve"]): Promise<Row[]> {
  return withEnv(options, async (env) => {
    const [loadgen] = await env.loadgen(1);
    const service = "resolve";
    const seeded = await loadgen!.call("sbRegister", {
      address: env.address,
      count: profile.instances,
      concurrency: 8,
      channels: 1,
      ttlSeconds: 300,
      service,
      idPrefix: "r",
    });
    if (seeded.errors) throw new Error(`seeding failed: ${seeded.firstError}`);
    const params = {
      address: env.address,
      durationMs: profile.durationMs,
      warmupMs: profile.warmupMs,
      concurrency: profile.concurrency,
      channels: profile.channels,
      service,
    };
    type Run = Awaited<ReturnType<typeof measureEcho>>;
    const measureEcho = () => env.measure(() => loadgen!.call("sbEcho", params));
    const echoRuns: Run[] = [];
    const resolveRuns: Run[] = [];
    for (let round = 0; round < profile.rounds; round++) {
      const echo = await measureEcho();
      options.log(`  resolve round ${round + 1}: null echo ${echo.value.opsPerSecond.toFixed(0)}/s`);
      const resolve = await env.measure(() => loadgen!.call("sbResolve", params));
      options.log(
        `  resolve round ${round + 1}: ListInstances ${resolve.value.opsPerSecond.toFixed(0)}/s (${resolve.value.errors} errors${resolve.value.firstError ? `: ${resolve.value.firstError}` : ""})`,
      );
      if (echo.value.errors || resolve.value.errors)
        throw new Error(`resolve errors: ${echo.value.firstError ?? resolve.value.firstError}`);
      echoRuns.push(echo);
      resolveRuns.push(resolve);
    }
    const pairs = echoRuns.map((echo, i) => ({ echo, resolve: resolveRuns[i]! }));
    const { echo, resolve } = medianRound(pairs, (p) => p.resolve.value.opsPerSecond / p.echo.value.opsPerSecond);
    // Server CPU per call is steadier than throughput on a busy machine.
    const echoCpu = cpuMicrosPerOp(echo.usage, echo.value.ops);
    const resolveCpu = cpuMicrosPerOp(resolve.usage, resolve.value.ops);
    options.log(
      `  server CPU µs/call: echo ${echoCpu.server}, ListInstances ${resolveCpu.server}; client ${echoCpu.loadgen} / ${resolveCpu.loadgen}`,
    );
    return [
      {
        scenario: `2. Resolve (ListInstances, ${profile.instances} instances), ${profile.concurrency} in flight`,
        baseline: {
          label: `null echo RPC, same server; server ${echoCpu.server} µs CPU/call`,
          value: echo.value.opsPerSecond,
          unit: "ops/s",
          ...echo.value.latency,
        },
        result: {
          label: `ListInstances; server ${resolveCpu.server} µs CPU/call`,
          value: resolve.value.opsPerSecond,
          unit: "ops/s",
          ...resolve.value.latency,
        },
        ratio: ratio(resolve.value.opsPerSecond, echo.value.opsPerSecond),
        target: { text: "≥ 0.9× null echo", met: resolve.value.opsPerSecond >= 0.9 * echo.value.opsPerSecond },
        usage: { baseline: echo.usage, result: resolve.usage },
        details: {
          cpuMicrosPerOp: { baseline: echoCpu, result: resolveCpu },
          channels: profile.channels,
          seconds: profile.durationMs / 1000,
          rounds: echoRuns.map((e, i) => ({ echo: e.value.opsPerSecond, resolve: resolveRuns[i]?.value.opsPerSecond })),
        },
      },
    ];
  });
}
