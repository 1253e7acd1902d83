/**
 * A child process driven one line at a time: each line written to its stdin
 * is answered by one JSON line on its stdout (test/fixtures/xds-client.ts and
 * xds_client.py speak this).
 *
 *   const child = startLineChild(process.execPath, ["--import", "tsx", "test/fixtures/xds-client.ts", target], { env });
 *   const answer = await child.ask("calls 10");
 *   await child.stop();
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface LineChild {
  readonly pid: number;
  /** Every stderr line so far (for failure messages). */
  readonly stderr: string[];
  /** Sends one command and resolves with the parsed answer; rejects when the child exits first or after timeoutMs. */
  ask<T = Record<string, unknown>>(command: string, timeoutMs?: number): Promise<T>;
  /** Closes stdin and sends SIGTERM, then SIGKILL after timeoutMs (default 5,000) if still running. */
  stop(timeoutMs?: number): Promise<void>;
}

export function startLineChild(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): LineChild {
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      process.off("exit", killOnExit);
      resolve();
    }),
  );
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => stderr.push(line));
  const waiting: Array<(line: string) => void> = [];
  createInterface({ input: child.stdout! }).on("line", (line) => waiting.shift()?.(line));

  return {
    pid: child.pid!,
    stderr,
    ask<T>(command: string, timeoutMs = 60_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no answer to "${command}" within ${timeoutMs} ms:\n${stderr.slice(-20).join("\n")}`)),
          timeoutMs,
        );
        const onExit = () => reject(new Error(`child exited before answering "${command}":\n${stderr.slice(-20).join("\n")}`));
        void exited.then(onExit);
        waiting.push((line) => {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(line) as T);
          } catch {
            reject(new Error(`not JSON: ${line}`));
          }
        });
        child.stdin!.write(`${command}\n`);
      });
    },
    async stop(timeoutMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin!.end();
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
