// Starts the bench server (bench/server/main.ts: the real Switchboard server
// plus the bench-only echo service) as its own process.
import { fileURLToPath } from "node:url";
import { startProcess, stopProcess } from "./child.js";

const entry = fileURLToPath(new URL("../server/main.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface ServerProcess {
  pid: number;
  grpcAddress: string;
  httpAddress: string;
  stop(): Promise<void>;
  /** Raw Prometheus text from the server's GET /metrics. */
  metrics(): Promise<string>;
}

export interface ServerProcessOptions {
  etcdEndpoint: string;
  /** Load the compiled server from dist/ instead of src/ through tsx. */
  fromDist?: boolean;
  logLevel?: string;
  /** Write a V8 CPU profile of the server (node --cpu-prof) into this directory when it exits. */
  cpuProfileDir?: string;
  /** More flags for node itself (e.g. --heapsnapshot-signal=SIGUSR2). */
  nodeArgs?: string[];
  /** More flags for bench/server/main.ts (e.g. --tls-cert-file). */
  args?: string[];
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const started = startProcess(
    process.execPath,
    [
      // --expose-gc lets the memory scenario measure live heap after a full collection.
      "--expose-gc",
      "--max-old-space-size=4096",
      ...(options.cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir] : []),
      ...(options.nodeArgs ?? []),
      // Node flags for every bench server (e.g. V8 heap settings under test).
      ...(process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
      "--import",
      "tsx",
      entry,
      "--listen",
      "127.0.0.1:0",
      "--http-listen",
      "127.0.0.1:0",
      "--etcd-endpoints",
      options.etcdEndpoint,
      "--log-level",
      options.logLevel ?? "warn",
      ...(options.args ?? []),
    ],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        // NAME=value pairs for the server process only (e.g. glibc malloc tunables under test).
        ...Object.fromEntries(
          (process.env.BENCH_SERVER_ENV?.split(" ").filter(Boolean) ?? []).map((pair) => [
            pair.slice(0, pair.indexOf("=")),
            pair.slice(pair.indexOf("=") + 1),
          ]),
        ),
        BENCH_SERVER_FROM: options.fromDist ? "dist" : "src",
      },
    },
  );
  const ready = await new Promise<{ grpcAddress: string; httpAddress: string }>((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`bench server did not start within 60 s\n${started.tail()}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString("utf8");
      for (const line of buffered.split("\n")) {
        if (!line.startsWith('{"benchServer"')) continue;
        clearTimeout(timer);
        started.child.stdout?.off("data", onData);
        resolve((JSON.parse(line) as { benchServer: { grpcAddress: string; httpAddress: string } }).benchServer);
        return;
      }
    };
    started.child.stdout?.on("data", onData);
    started.child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`bench server exited (code ${code}, signal ${signal})\n${started.tail()}`));
    });
  });
  return {
    pid: started.pid,
    grpcAddress: ready.grpcAddress,
    httpAddress: ready.httpAddress,
    stop: () => stopProcess(started.child, 15_000),
    metrics: async () => (await fetch(`http://${ready.httpAddress}/metrics`)).text(),
  };
}
