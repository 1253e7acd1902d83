// The bench's server process: the real Switchboard server, composed by the
// same startServer() that `switchboard serve` uses, plus the bench-only echo
// service on the same gRPC server (so the null-echo baseline pays for the same
// process, connection handling and middleware as the real RPCs).
//
//   node --expose-gc --import tsx bench/server/main.ts \
//     --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --etcd-endpoints http://127.0.0.1:2379
//
// With BENCH_SERVER_FROM=dist it loads the compiled server from dist/ (run
// `npm run build` first) instead of src/ through tsx. It prints one JSON line
// {"benchServer":{"grpcAddress":…,"httpAddress":…,"pid":…}} when serving, and
// shuts down gracefully on SIGTERM. BENCH_SERVER_MODULE=/abs/path/src/server/index.ts
// loads the server from elsewhere (an A/B run against a patched copy).
import { readFileSync } from "node:fs";
import { pino } from "pino";
import type * as ServerModule from "../../src/server/index.js";
import { createEchoServiceImpl, EchoServiceDefinition } from "./echo.js";

function optionalFlag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  return value ?? fallback;
}

// BENCH_SERVER_MODULE benchmarks another build of the server (e.g. a patched copy of src/ for an A/B run).
const from =
  process.env.BENCH_SERVER_MODULE ??
  (process.env.BENCH_SERVER_FROM === "dist" ? "../../dist/src/server/index.js" : "../../src/server/index.js");
const { startServer } = (await import(from)) as typeof ServerModule;

const etcdEndpoints = flag("etcd-endpoints", "")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
const logger = pino({ level: flag("log-level", "warn") });

const server = await startServer({
  listen: flag("listen", "127.0.0.1:0"),
  httpListen: flag("http-listen", "127.0.0.1:0"),
  etcdEndpoints,
  dataDir: flag("data-dir", ".data-bench"),
  logger,
  extraServices: [{ definition: EchoServiceDefinition, implementation: createEchoServiceImpl() }],
  // As `serve --expiry-hold SECONDS` (the failure scenario turns the hold off).
  ...(optionalFlag("expiry-hold") !== undefined && { registry: { expiryHoldMs: Number(optionalFlag("expiry-hold")) * 1000 } }),
  // The security scenario's secured server: same flags as `serve`.
  ...(optionalFlag("tls-cert-file") && {
    tls: {
      certFile: optionalFlag("tls-cert-file")!,
      keyFile: optionalFlag("tls-key-file") ?? "",
      ...(optionalFlag("tls-client-ca-file") && { clientCaFile: optionalFlag("tls-client-ca-file")! }),
    },
  }),
  ...(process.argv.includes("--auth") && {
    auth: {
      ...(optionalFlag("auth-bootstrap-token-file") && {
        bootstrapToken: readFileSync(optionalFlag("auth-bootstrap-token-file")!, "utf8").trim(),
      }),
      ...(optionalFlag("auth-registrations-per-second") && {
        registrationsPerSecondPerToken: Number(optionalFlag("auth-registrations-per-second")),
      }),
    },
  }),
});

process.stdout.write(
  `${JSON.stringify({ benchServer: { grpcAddress: server.grpcAddress, httpAddress: server.httpAddress, pid: process.pid, from } })}\n`,
);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
