/**
 * Switchboard servers for integration tests, on 127.0.0.1 with free ports.
 *
 * In-process (fast; shares the test's event loop):
 *
 *   const server = await startTestServer();                 // embedded store in a temp dir
 *   const server = await startTestServer({ etcdEndpoints }); // or a real etcd (see ./etcd.ts)
 *   const channel = createChannel(server.grpcAddress);
 *   ...
 *   channel.close();
 *   await server.close();                                   // also removes the temp dir
 *
 * As a child process (`switchboard serve`, run from source through tsx), for
 * tests that kill servers or need several replicas:
 *
 *   const child = await spawnServer({ etcdEndpoints });
 *   child.grpcAddress; child.kill("SIGKILL");
 *   const { code } = await child.stop(); // SIGTERM, waits for exit
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { startServer } from "../../src/server/index.js";
import type { RunningServer, ServerOptions } from "../../src/server/index.js";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Log level of servers started by these helpers: SWITCHBOARD_TEST_LOG_LEVEL, default "silent". */
const TEST_LOG_LEVEL = process.env.SWITCHBOARD_TEST_LOG_LEVEL ?? "silent";

export interface TestServer extends RunningServer {
  /** Data directory of the embedded store, when the helper created one. */
  readonly dataDir: string | undefined;
}

/**
 * Starts a server in this process on 127.0.0.1:0 (gRPC and HTTP). Without
 * etcdEndpoints, store or dataDir it uses the embedded store in a fresh
 * temporary directory, removed by close().
 */
export async function startTestServer(options: Omit<ServerOptions, "listen" | "httpListen"> = {}): Promise<TestServer> {
  const useTempDir = !options.etcdEndpoints?.length && !options.store && options.dataDir === undefined;
  const dataDir = useTempDir ? await mkdtemp(join(tmpdir(), "switchboard-test-")) : options.dataDir;
  try {
    const server = await startServer({
      logger: pino({ level: TEST_LOG_LEVEL }),
      shutdownTimeoutMs: 5_000,
      startupTimeoutMs: 20_000,
      ...options,
      dataDir,
      listen: "127.0.0.1:0",
      httpListen: "127.0.0.1:0",
    });
    return {
      grpcAddress: server.grpcAddress,
      httpAddress: server.httpAddress,
      replicaId: server.replicaId,
      reloadCertificates: () => server.reloadCertificates(),
      dataDir,
      async close() {
        await server.close();
        if (useTempDir && dataDir) await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (useTempDir && dataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface SpawnServerOptions {
  /** Passed as --etcd-endpoints. Without it the child uses the embedded store in a temp dir. */
  etcdEndpoints?: string[];
  /** Extra `serve` flags, after the helper's own (so they win). */
  args?: string[];
  /** Extra environment for the child (on top of this process's). */
  env?: Record<string, string>;
  /** How long to wait for "switchboard serving". Default 30,000 ms. */
  startTimeoutMs?: number;
  /** The command to run instead of `node --import tsx src/cli/main.ts`, e.g. ["dist/switchboard"]. */
  command?: readonly [string, ...string[]];
  /** Working directory of the child. Default: the repository root. */
  cwd?: string;
  /** Start the child with only `env`, not this process's environment too. Default false. */
  cleanEnv?: boolean;
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedServer {
  readonly pid: number;
  readonly grpcAddress: string;
  readonly httpAddress: string;
  /** Every line the child wrote to stdout and stderr so far (pino JSON, mostly). */
  readonly output: string[];
  /** Resolves when the child has exited. */
  readonly exited: Promise<ExitResult>;
  /** Sends a signal (by PID) without waiting. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after timeoutMs (default 15,000); resolves with the exit status. Removes the temp dir. */
  stop(timeoutMs?: number): Promise<ExitResult>;
}

/** Runs `switchboard serve` as a child process on 127.0.0.1:0 and waits until it serves. */
export async function spawnServer(options: SpawnServerOptions = {}): Promise<SpawnedServer> {
  const dataDir = options.etcdEndpoints?.length ? undefined : await mkdtemp(join(tmpdir(), "switchboard-child-"));
  const flags = [
    "serve",
    "--listen=127.0.0.1:0",
    "--http-listen=127.0.0.1:0",
    `--log-level=${TEST_LOG_LEVEL === "silent" ? "info" : TEST_LOG_LEVEL}`,
    ...(options.etcdEndpoints?.length ? [`--etcd-endpoints=${options.etcdEndpoints.join(",")}`] : []),
    ...(dataDir ? [`--data-dir=${dataDir}`] : []),
    ...(options.args ?? []),
  ];
  const [file, ...prefixArgs] = options.command ?? [process.execPath, "--import", "tsx", "src/cli/main.ts"];
  const child = spawn(file, [...prefixArgs, ...flags], {
    cwd: options.cwd ?? REPO_ROOT,
    env: options.cleanEnv ? { ...options.env } : { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const removeDir = () => (dataDir ? rm(dataDir, { recursive: true, force: true }) : Promise.resolve());
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<ExitResult>((resolve) => {
    child.once("exit", (code, signal) => {
      process.off("exit", killOnExit);
      resolve({ code, signal });
    });
  });
  const output: string[] = [];
  try {
    const serving = await waitForServing(child, output, exited, options.startTimeoutMs ?? 30_000);
    return {
      pid: child.pid!,
      ...serving,
      output,
      exited,
      kill: (signal = "SIGTERM") => void (child.exitCode === null && child.signalCode === null && child.kill(signal)),
      async stop(timeoutMs = 15_000) {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
          await removeDir();
        }
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    await removeDir();
    throw error;
  }
}

/** Collects output lines and resolves with the addresses from the "switchboard serving" log line. */
function waitForServing(
  child: ChildProcess,
  output: string[],
  exited: Promise<ExitResult>,
  timeoutMs: number,
): Promise<{ grpcAddress: string; httpAddress: string }> {
  return new Promise((resolve, reject) => {
    const tail = () => output.slice(-20).join("\n");
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms:\n${tail()}`)), timeoutMs);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${code}, signal ${signal}) before serving:\n${tail()}`));
    });
    const onLine = (line: string) => {
      output.push(line);
      const entry = parseJson(line);
      if (
        entry?.msg === "switchboard serving" &&
        typeof entry.grpcAddress === "string" &&
        typeof entry.httpAddress === "string"
      ) {
        clearTimeout(timer);
        resolve({ grpcAddress: entry.grpcAddress, httpAddress: entry.httpAddress });
      }
    };
    splitLines(child.stdout!, onLine);
    splitLines(child.stderr!, onLine);
  });
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      onLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
    }
  });
  stream.on("end", () => buffered && onLine(buffered));
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
