// Spawning and stopping the processes a benchmark runs, always by PID.
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

export interface Started {
  child: ChildProcess;
  pid: number;
  /** The last lines the process wrote to stdout and stderr, for error messages. */
  tail(): string;
}

const live = new Set<ChildProcess>();

/** Spawns a process, keeps the last few KiB of its output, and registers it for cleanup on exit. */
export function startProcess(command: string, args: string[], options: SpawnOptions = {}): Started {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  live.add(child);
  child.once("exit", () => live.delete(child));
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-8192);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { child, pid: child.pid, tail: () => output };
}

/** Sends SIGTERM, then SIGKILL after graceMs, and waits for the exit. */
export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills every process started here that is still running (on error or Ctrl-C). */
export function killAllStarted(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/** Polls check() until it returns true or timeoutMs passes. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  tail?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${tail ? `\n--- output ---\n${tail()}` : ""}`);
    await sleep(100);
  }
}
