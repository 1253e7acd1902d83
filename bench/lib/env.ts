// The processes of one scenario: a fresh etcd, a fresh Switchboard server and
// load generators, each a separate process; their CPU and peak RSS are read
// around every measured phase.
import { startEtcd, type EtcdProcess } from "./etcd.js";
import type { LoadGen } from "./loadgen.js";
import { startLoadGens } from "./loadgen.js";
import { startServerProcess, type ServerProcess } from "./server.js";
import { UsageMeter, type ProcessUsage } from "./proc.js";

export interface BenchOptions {
  quick: boolean;
  fromDist: boolean;
  serverLogLevel: string;
  /** When set, every server process writes a CPU profile here (bench --profile). */
  cpuProfileDir?: string;
  log: (line: string) => void;
}

export interface PhaseUsage {
  wallSeconds: number;
  processes: Record<string, ProcessUsage>;
}

export class BenchEnv {
  etcd!: EtcdProcess;
  server: ServerProcess | undefined;
  readonly loadgens: LoadGen[] = [];
  /** Other processes to meter (label → pid), e.g. instance hosts. */
  readonly extra = new Map<string, number>();
  readonly meter = new UsageMeter(() => this.pids());

  constructor(
    readonly options: BenchOptions,
    /** More flags for every server this environment starts. */
    readonly serverArgs: string[] = [],
  ) {}

  static async start(
    options: BenchOptions,
    { server = true, serverArgs = [] }: { server?: boolean; serverArgs?: string[] } = {},
  ): Promise<BenchEnv> {
    const env = new BenchEnv(options, serverArgs);
    try {
      env.etcd = await startEtcd();
      if (server) await env.restartServer();
      return env;
    } catch (error) {
      await env.stop();
      throw error;
    }
  }

  get address(): string {
    if (!this.server) throw new Error("no server running");
    return this.server.grpcAddress;
  }

  /** Stops the server (if any) and starts a fresh one on the same etcd. */
  async restartServer(): Promise<ServerProcess> {
    await this.server?.stop();
    this.server = undefined;
    this.server = await startServerProcess({
      etcdEndpoint: this.etcd.endpoint,
      fromDist: this.options.fromDist,
      logLevel: this.options.serverLogLevel,
      cpuProfileDir: this.options.cpuProfileDir,
      args: this.serverArgs,
    });
    return this.server;
  }

  /** Makes sure at least n load generators run; returns the first n. */
  async loadgen(n = 1): Promise<LoadGen[]> {
    if (this.loadgens.length < n) {
      const more = await startLoadGens(n - this.loadgens.length, "loadgen", this.loadgens.length, this.options.cpuProfileDir);
      this.loadgens.push(...more);
    }
    return this.loadgens.slice(0, n);
  }

  pids(): Map<string, number> {
    const pids = new Map<string, number>();
    if (this.etcd) pids.set("etcd", this.etcd.pid);
    if (this.server) pids.set("server", this.server.pid);
    for (const loadgen of this.loadgens) pids.set(loadgen.label, loadgen.pid);
    for (const [label, pid] of this.extra) pids.set(label, pid);
    return pids;
  }

  /** Runs fn as a measured phase: CPU seconds and peak RSS of every process during it. */
  async measure<T>(fn: () => Promise<T>): Promise<{ value: T; usage: PhaseUsage }> {
    this.meter.begin();
    const value = await fn();
    return { value, usage: this.meter.end() };
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.loadgens.map((l) => l.stop()));
    this.loadgens.length = 0;
    await this.server?.stop().catch(() => undefined);
    this.server = undefined;
    await this.etcd?.stop().catch(() => undefined);
  }
}

/** Runs fn with a fresh environment and always stops it. */
export async function withEnv<T>(
  options: BenchOptions,
  fn: (env: BenchEnv) => Promise<T>,
  opts?: { server?: boolean; serverArgs?: string[] },
): Promise<T> {
  const env = await BenchEnv.start(options, opts);
  try {
    return await fn(env);
  } finally {
    await env.stop();
  }
}

/** CPU microseconds per operation of each process during a phase. */
export function cpuMicrosPerOp(usage: PhaseUsage, ops: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(usage.processes).map(([label, u]) => [label, ops > 0 ? Math.round((u.cpuSeconds * 1e6) / ops) : Number.NaN]),
  );
}
