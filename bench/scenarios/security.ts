// 8. Security overhead: resolve (ListInstances) and register throughput on a
// secured server against a plaintext one, in the same run, on the same etcd.
// Two server processes run side by side (bench/server/main.ts, same code):
// one plaintext, one with the switches below. Rounds alternate plain and
// secured; the round with the median ratio is reported. Certificates are
// made with openssl at run time in a temporary directory (test/support/certs.ts).
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTestPki } from "../../test/support/certs.js";
import { cpuMicrosPerOp, withEnv, type BenchOptions, type PhaseUsage } from "../lib/env.js";
import { ratio, type Row } from "../lib/report.js";
import { startServerProcess } from "../lib/server.js";
import { medianRound } from "../lib/stats.js";
import type { LoadTls } from "../loadgen/common.js";
import type { Profile } from "../profile.js";

/** What the secured server turns on. */
export interface SecuritySwitches {
  /** TLS on the secured server's ports. */
  tls: boolean;
  /** Client certificates required (mTLS); only with tls. */
  clientCertificates: boolean;
  /**
   * Authentication on the secured server: its extra server flags (e.g. --auth
   * and a bootstrap token file) and the bearer token the load sends. Default
   * off. `pki.dir` is a temporary directory the flags may point into.
   */
  auth?: (pki: { dir: string }) => Promise<{ serverArgs: string[]; token: string }>;
}

/** The default secured server: TLS with client certificates. */
export const DEFAULT_SECURITY: SecuritySwitches = { tls: true, clientCertificates: true };

/**
 * TLS (server certificate only, as most token users run it) and --auth: every
 * call carries a bearer token the server authenticates and authorizes. The
 * token is the bootstrap admin token, so grants never deny; the Register quota
 * is raised far above the load (the token bucket still runs on every call) so
 * the figure is the cost of checking, not the quota's refusals.
 */
export const TLS_AUTH_SECURITY: SecuritySwitches = {
  tls: true,
  clientCertificates: false,
  auth: async ({ dir }) => {
    const token = `${randomBytes(8).toString("hex")}.${randomBytes(32).toString("base64url")}`;
    const file = join(dir, "bench-admin.token");
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    return {
      serverArgs: ["--auth", "--auth-bootstrap-token-file", file, "--auth-registrations-per-second", "1000000"],
      token,
    };
  },
};

interface Throughput {
  ops: number;
  opsPerSecond: number;
  latency: { p50: number; p99: number; max: number };
  errors: number;
  firstError?: string;
}
type Measured = { value: Throughput; usage: PhaseUsage };

export async function securityScenario(
  options: BenchOptions,
  profile: { register: Profile["register"]; resolve: Profile["resolve"] },
  switches: SecuritySwitches = DEFAULT_SECURITY,
): Promise<Row[]> {
  const pki = await createTestPki();
  try {
    return await withEnv(options, async (env) => {
      const auth = switches.auth ? await switches.auth(pki) : undefined;
      const serverArgs = [
        ...(switches.tls ? ["--tls-cert-file", pki.server.certFile, "--tls-key-file", pki.server.keyFile] : []),
        ...(switches.tls && switches.clientCertificates ? ["--tls-client-ca-file", pki.ca.certFile] : []),
        ...(auth?.serverArgs ?? []),
      ];
      const secured = await startServerProcess({
        etcdEndpoint: env.etcd.endpoint,
        fromDist: options.fromDist,
        logLevel: options.serverLogLevel,
        cpuProfileDir: options.cpuProfileDir,
        args: serverArgs,
      });
      env.extra.set("server-secured", secured.pid);
      try {
        const tls: LoadTls | undefined = switches.tls
          ? { ca: pki.ca.cert, ...(switches.clientCertificates && { cert: pki.client.cert, key: pki.client.key }) }
          : undefined;
        const plainSide = { address: env.address };
        const securedSide = { address: secured.grpcAddress, ...(tls && { tls }), ...(auth && { token: auth.token }) };
        const label = describe(switches);
        const [loadgen] = await env.loadgen(1);

        // Each side resolves a service registered through itself (read-your-writes on that replica).
        for (const [side, service] of [
          [plainSide, "sec-plain"],
          [securedSide, "sec-secured"],
        ] as const) {
          const seeded = await loadgen!.call("sbRegister", {
            ...side,
            count: profile.resolve.instances,
            concurrency: 8,
            channels: 1,
            ttlSeconds: 300,
            service,
            idPrefix: "r",
          });
          if (seeded.errors) throw new Error(`seeding ${service} failed: ${seeded.firstError}`);
        }
        const resolveParams = {
          durationMs: profile.resolve.durationMs,
          warmupMs: profile.resolve.warmupMs,
          concurrency: profile.resolve.concurrency,
          channels: profile.resolve.channels,
        };
        const resolveRounds: Array<{ plain: Measured; secured: Measured }> = [];
        const registerRounds: Array<{ plain: Measured; secured: Measured }> = [];
        const rounds = Math.max(profile.resolve.rounds, profile.register.rounds);
        for (let round = 0; round < rounds; round++) {
          const plainResolve = await env.measure(() =>
            loadgen!.call("sbResolve", { ...plainSide, ...resolveParams, service: "sec-plain" }),
          );
          const securedResolve = await env.measure(() =>
            loadgen!.call("sbResolve", { ...securedSide, ...resolveParams, service: "sec-secured" }),
          );
          check("resolve", plainResolve.value, securedResolve.value);
          options.log(
            `  security round ${round + 1}: resolve plaintext ${plainResolve.value.opsPerSecond.toFixed(0)}/s, ${label} ${securedResolve.value.opsPerSecond.toFixed(0)}/s`,
          );
          resolveRounds.push({ plain: plainResolve, secured: securedResolve });

          const registerParams = {
            count: profile.register.count,
            concurrency: profile.register.concurrency,
            channels: 1,
            ttlSeconds: 60,
            idPrefix: "i",
          };
          const plainRegister = await env.measure(() =>
            loadgen!.call("sbRegister", { ...plainSide, ...registerParams, service: `sec-reg-plain-${round}` }),
          );
          const securedRegister = await env.measure(() =>
            loadgen!.call("sbRegister", { ...securedSide, ...registerParams, service: `sec-reg-secured-${round}` }),
          );
          check("register", plainRegister.value, securedRegister.value);
          options.log(
            `  security round ${round + 1}: register plaintext ${plainRegister.value.opsPerSecond.toFixed(0)}/s, ${label} ${securedRegister.value.opsPerSecond.toFixed(0)}/s`,
          );
          registerRounds.push({ plain: plainRegister, secured: securedRegister });
        }
        return [
          row("resolve (ListInstances)", profile.resolve.concurrency, label, resolveRounds),
          row("register", profile.register.concurrency, label, registerRounds),
        ];
      } finally {
        env.extra.delete("server-secured");
        await secured.stop();
      }
    });
  } finally {
    await pki.remove();
  }
}

function describe(switches: SecuritySwitches): string {
  const parts = [
    switches.tls ? (switches.clientCertificates ? "mTLS" : "TLS") : undefined,
    switches.auth ? "auth" : undefined,
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(" + ") : "nothing on";
}

function check(what: string, plain: Throughput, secured: Throughput): void {
  if (plain.errors || secured.errors)
    throw new Error(`${what} errors: plaintext ${plain.firstError ?? 0}, secured ${secured.firstError ?? 0}`);
}

function row(what: string, concurrency: number, label: string, rounds: Array<{ plain: Measured; secured: Measured }>): Row {
  const { plain, secured } = medianRound(rounds, (r) => r.secured.value.opsPerSecond / r.plain.value.opsPerSecond);
  const plainCpu = cpuMicrosPerOp(plain.usage, plain.value.ops);
  const securedCpu = cpuMicrosPerOp(secured.usage, secured.value.ops);
  return {
    scenario: `8. Security: ${what} with ${label} vs plaintext, ${concurrency} in flight`,
    baseline: {
      label: `plaintext server; server ${plainCpu.server} µs CPU/op`,
      value: plain.value.opsPerSecond,
      unit: "ops/s",
      ...plain.value.latency,
    },
    result: {
      label: `${label} server; server ${securedCpu["server-secured"]} µs CPU/op`,
      value: secured.value.opsPerSecond,
      unit: "ops/s",
      ...secured.value.latency,
    },
    ratio: ratio(secured.value.opsPerSecond, plain.value.opsPerSecond),
    target: { text: "≥ 0.9× plaintext", met: secured.value.opsPerSecond >= 0.9 * plain.value.opsPerSecond },
    usage: { baseline: plain.usage, result: secured.usage },
    details: {
      cpuMicrosPerOp: { baseline: plainCpu, result: securedCpu },
      rounds: rounds.map((r) => ({ plaintext: r.plain.value.opsPerSecond, secured: r.secured.value.opsPerSecond })),
    },
  };
}
