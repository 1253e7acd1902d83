// Orchestrator side of a load generator process (bench/loadgen/main.ts).
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TaskReply, TaskRequest } from "./ipc.js";
import type { Tasks } from "../loadgen/main.js";
import { stopProcess } from "./child.js";

/** Unsolicited message from a load generator: heartbeats acknowledged at `at` (ms, CLOCK_MONOTONIC). */
export interface LoadGenEvent {
  event: "heartbeats";
  at: number;
  leases: string[];
}

const entry = fileURLToPath(new URL("../loadgen/main.ts", import.meta.url));

export class LoadGen {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exitError: Error | undefined;
  private readonly listeners = new Set<(event: LoadGenEvent) => void>();

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    child.on("message", (message: TaskReply | LoadGenEvent) => {
      if ("event" in message) {
        for (const listener of this.listeners) listener(message);
        return;
      }
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`${label}: ${message.error}`));
    });
    child.once("exit", (code, signal) => {
      this.exitError = new Error(`${label} exited (code ${code}, signal ${signal})`);
      for (const waiter of this.pending.values()) waiter.reject(this.exitError);
      this.pending.clear();
    });
  }

  /** Forks a load generator process running under tsx; with cpuProfileDir it writes a V8 CPU profile there when it exits. */
  static async start(label: string, cpuProfileDir?: string): Promise<LoadGen> {
    const child = fork(entry, [], {
      execArgv: [
        "--import",
        "tsx",
        "--max-old-space-size=4096",
        // One directory per label: the profiles of the main thread and tsx's loader thread share it.
        ...(cpuProfileDir ? ["--cpu-prof", "--cpu-prof-dir", join(cpuProfileDir, label)] : []),
      ],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const loadgen = new LoadGen(label, child);
    await loadgen.call("ping", {});
    return loadgen;
  }

  /** Unsolicited messages from the process (e.g. heartbeat acknowledgements). */
  onEvent(listener: (event: LoadGenEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** SIGKILL, as a crashing instance would die. */
  kill(): void {
    this.child.kill("SIGKILL");
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  call<K extends keyof Tasks>(task: K, params: Parameters<Tasks[K]>[0]): Promise<Awaited<ReturnType<Tasks[K]>>> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    const request: TaskRequest = { id, task, params };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send(request);
    });
  }

  async stop(): Promise<void> {
    await stopProcess(this.child, 3000);
  }
}

/** Starts n load generators labelled loadgen, loadgen-2, ... */
export async function startLoadGens(n: number, prefix = "loadgen", first = 0, cpuProfileDir?: string): Promise<LoadGen[]> {
  return Promise.all(
    Array.from({ length: n }, (_, k) => {
      const i = first + k;
      return LoadGen.start(i === 0 ? prefix : `${prefix}-${i + 1}`, cpuProfileDir);
    }),
  );
}
