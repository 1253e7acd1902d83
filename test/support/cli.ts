/**
 * The real `switchboard` CLI as a child process (run from source through tsx),
 * for tests of what a user sees: stdout, stderr and the exit code.
 *
 *   const { code, stderr } = await runSwitchboard(["services", "--bogus"]);
 *
 *   const cli = startSwitchboard(["register", "api", "127.0.0.1:9"]);
 *   await cli.waitFor(/waiting for the control plane/);
 *   cli.kill("SIGINT");
 *   const { code } = await cli.exited;
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { eventually } from "./eventually.js";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** `node --import tsx src/cli/main.ts`: what the tests run as `switchboard`. */
export const SWITCHBOARD_COMMAND: readonly string[] = [process.execPath, "--import", "tsx", "src/cli/main.ts"];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface StartedCli {
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout or stderr matches, fails after timeoutMs (default 30,000). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  readonly exited: Promise<CliResult>;
}

export interface CliOptions {
  /** Added to this process's environment, minus SWITCHBOARD_ADDRESS (tests choose it). */
  env?: Record<string, string>;
  cwd?: string;
}

export function startSwitchboard(args: readonly string[], options: CliOptions = {}): StartedCli {
  const { SWITCHBOARD_ADDRESS: _ignored, ...inherited } = process.env;
  const [file, ...prefix] = SWITCHBOARD_COMMAND as [string, ...string[]];
  const child = spawn(file, [...prefix, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...inherited, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<CliResult>((resolve) => {
    child.once("close", (code, signal) => {
      process.off("exit", killOnExit);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    async waitFor(pattern, timeoutMs = 30_000) {
      let ended = false;
      void exited.then(() => (ended = true));
      await eventually(
        () => {
          if (pattern.test(stdout) || pattern.test(stderr)) return true;
          if (ended) throw new Error(`switchboard exited before printing ${pattern}:\n${stdout}\n${stderr}`);
          return false;
        },
        timeoutMs,
        `output matching ${pattern}`,
      );
    },
    kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    exited,
  };
}

/** Runs `switchboard ARGS` to the end (killed after timeoutMs, default 60,000). */
export async function runSwitchboard(
  args: readonly string[],
  options: CliOptions & { timeoutMs?: number } = {},
): Promise<CliResult> {
  const cli = startSwitchboard(args, options);
  const timer = setTimeout(() => cli.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  try {
    return await cli.exited;
  } finally {
    clearTimeout(timer);
  }
}
