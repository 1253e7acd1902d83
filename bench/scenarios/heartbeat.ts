// 4. Heartbeat capacity: N instances with TTL 10 s kept alive through
// Switchboard (one KeepAlive stream per instance, as N separate agents would
// hold, renewing every TTL/3), vs the same N leases renewed by a raw etcd3
// client over ONE LeaseKeepAlive stream. Reported: CPU of the process doing
// the renewing (server vs raw client) and the keepalive messages etcd
// receives, counted from etcd's own /metrics.
import { setTimeout as sleep } from "node:timers/promises";
import { sumMetric } from "../lib/etcd.js";
import { withEnv, type BenchEnv, type BenchOptions } from "../lib/env.js";
import { ratio, type Row } from "../lib/report.js";
import type { Profile } from "../profile.js";

const STREAMS_PER_CHANNEL = 100;

async function etcdKeepAlives(env: BenchEnv) {
  const text = await env.etcd.metrics();
  const labels = { grpc_method: "LeaseKeepAlive" };
  return {
    messages: sumMetric(text, "grpc_server_msg_received_total", labels),
    streams: sumMetric(text, "grpc_server_started_total", labels),
  };
}

export async function heartbeatScenario(options: BenchOptions, profile: Profile["heartbeat"]): Promise<Row[]> {
  const intervalMs = Math.round((profile.ttlSeconds * 1000) / 3);
  // A whole number of renewal intervals, so that every lease is renewed the same number of times in the window
  // whatever its phase.
  const windowMs = Math.max(1, Math.round((profile.windowSeconds * 1000) / intervalMs)) * intervalMs;
  return withEnv(options, async (env) => {
    const [loadgen] = await env.loadgen(1);
    const window = async () => {
      const before = await etcdKeepAlives(env);
      const measured = await env.measure(() => sleep(windowMs));
      const after = await etcdKeepAlives(env);
      return {
        usage: measured.usage,
        etcdMessages: after.messages - before.messages,
        etcdStreamsOpened: after.streams - before.streams,
        etcdStreamsTotal: after.streams,
      };
    };

    // Baseline: raw etcd3, one stream.
    const rawStart = await loadgen!.call("rawAgentsStart", {
      endpoint: env.etcd.endpoint,
      count: profile.instances,
      concurrency: 64,
      ttlSeconds: profile.ttlSeconds,
      intervalMs,
    });
    if (rawStart.renewedOnce !== profile.instances)
      throw new Error(`raw keepalive renewed ${rawStart.renewedOnce} of ${profile.instances} (${rawStart.expired} expired)`);
    const rawBefore = await loadgen!.call("rawAgentsCounters", {});
    const raw = await window();
    const rawAfter = await loadgen!.call("rawAgentsCounters", {});
    await loadgen!.call("rawAgentsStop", { endpoint: env.etcd.endpoint });
    const rawClientCores = (raw.usage.processes.loadgen?.cpuSeconds ?? 0) / raw.usage.wallSeconds;
    options.log(
      `  raw keepalive: granted in ${rawStart.grantSeconds.toFixed(1)} s; ${(raw.etcdMessages / raw.usage.wallSeconds).toFixed(0)} msgs/s at etcd, client ${rawClientCores.toFixed(3)} cores`,
    );

    // Switchboard: the same number of agents, each with its own KeepAlive stream.
    const started = await loadgen!.call("sbAgentsStart", {
      name: "hb",
      address: env.address,
      count: profile.instances,
      concurrency: 64,
      ttlSeconds: profile.ttlSeconds,
      services: profile.services,
      service: "hb",
      idPrefix: "h",
      intervalMs,
      streams: profile.instances,
      channels: Math.ceil(profile.instances / STREAMS_PER_CHANNEL),
    });
    // A server that cannot keep up is a result, not a crash of the bench: measure the window anyway.
    const setupProblem =
      started.registerErrors || started.renewedOnce !== profile.instances
        ? `registered ${started.registered} of ${profile.instances} (${started.registerErrors} errors: ${started.firstRegisterError ?? "-"}), renewed ${started.renewedOnce} once, ${started.expired} expired answers, ${started.errors} stream errors (${started.firstError ?? "-"})`
        : undefined;
    if (setupProblem) options.log(`  Switchboard could not set up every agent: ${setupProblem}`);
    const sbBefore = await loadgen!.call("sbAgentsCounters", { name: "hb" });
    const sb = await window();
    const sbAfter = await loadgen!.call("sbAgentsCounters", { name: "hb" });
    const alive = await loadgen!.call("sbCountInstances", { address: env.address, service: "hb", services: profile.services });
    await loadgen!.call("sbAgentsStop", { name: "hb" });
    const serverCores = (sb.usage.processes.server?.cpuSeconds ?? 0) / sb.usage.wallSeconds;
    const clientHeartbeats = sbAfter.responses - sbBefore.responses;
    options.log(
      `  Switchboard: registered in ${started.registerSeconds.toFixed(1)} s; server ${serverCores.toFixed(3)} cores; etcd got ${(sb.etcdMessages / sb.usage.wallSeconds).toFixed(0)} keepalive msgs/s on ${sb.etcdStreamsTotal} stream(s) for ${(clientHeartbeats / sb.usage.wallSeconds).toFixed(0)} client heartbeats/s; ${alive.instances} of ${profile.instances} alive; expired answers ${sbAfter.expired - sbBefore.expired}`,
    );
    const allAlive =
      !setupProblem && alive.instances === profile.instances && sbAfter.expired === sbBefore.expired && sbAfter.errors === 0;
    const details = {
      instances: profile.instances,
      ttlSeconds: profile.ttlSeconds,
      renewIntervalMs: intervalMs,
      windowSeconds: windowMs / 1000,
      raw: { clientSent: rawAfter.sent - rawBefore.sent, etcdMessages: raw.etcdMessages, clientCores: rawClientCores },
      switchboard: {
        setupProblem,
        registerSeconds: started.registerSeconds,
        clientHeartbeats,
        expiredAnswersInWindow: sbAfter.expired - sbBefore.expired,
        streamErrors: sbAfter.errors,
        firstError: sbAfter.firstError,
        etcdMessages: sb.etcdMessages,
        etcdKeepAliveStreamsOpenedInWindow: sb.etcdStreamsOpened,
        etcdKeepAliveStreamsTotal: sb.etcdStreamsTotal,
        instancesAliveAfter: alive.instances,
        serverCores,
      },
    };
    return [
      {
        scenario: `4. Heartbeats, ${profile.instances.toLocaleString("en-US")} instances TTL ${profile.ttlSeconds} s: CPU`,
        baseline: { label: "raw etcd3 client renewing over 1 stream", value: rawClientCores, unit: "cores" },
        result: { label: "Switchboard server", value: serverCores, unit: "cores" },
        ratio: ratio(serverCores, rawClientCores),
        target: {
          text: `server < 0.5 core${allAlive ? "" : ", every instance kept alive: NOT SO (see details)"}`,
          met: serverCores < 0.5 && allAlive,
        },
        usage: { baseline: raw.usage, result: sb.usage },
        details,
      },
      {
        scenario: `4. Heartbeats, ${profile.instances.toLocaleString("en-US")} instances TTL ${profile.ttlSeconds} s: etcd keepalive msgs`,
        baseline: { label: "raw keepalives over 1 stream", value: raw.etcdMessages / raw.usage.wallSeconds, unit: "msg/s" },
        result: {
          label: `made by the server (${sb.etcdStreamsTotal} stream(s) opened)`,
          value: sb.etcdMessages / sb.usage.wallSeconds,
          unit: "msg/s",
        },
        ratio: ratio(sb.etcdMessages / sb.usage.wallSeconds, raw.etcdMessages / raw.usage.wallSeconds),
        usage: { baseline: raw.usage, result: sb.usage },
      },
    ];
  });
}
