/**
 * `switchboard serve` as a child process (the real CLI, from source), for
 * tests of what its flags and environment variables wire up. Resolves once the
 * server logged "switchboard serving", with the addresses it bound.
 *
 *   const serve = await startServeProcess(["--auth", "--data-dir", dir], { SWITCHBOARD_TLS_CERT_FILE: … });
 *   … serve.grpcAddress …
 *   await serve.stop();
 */
import { startSwitchboard } from "./cli.js";
import type { StartedCli } from "./cli.js";

export interface ServeProcess {
  readonly grpcAddress: string;
  readonly httpAddress: string;
  readonly cli: StartedCli;
  /** SIGTERM, then SIGKILL after 15 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

const SERVING = /"msg":"switchboard serving"/;

/** `switchboard serve --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 ...args` with env added. */
export async function startServeProcess(args: readonly string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const cli = startSwitchboard(["serve", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", ...args], { env });
  const stop = async () => {
    cli.kill("SIGTERM");
    const timer = setTimeout(() => cli.kill("SIGKILL"), 15_000);
    try {
      await cli.exited;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    await cli.waitFor(SERVING, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const line = cli
    .stdout()
    .split("\n")
    .find((l) => SERVING.test(l))!;
  const { grpcAddress, httpAddress } = JSON.parse(line) as { grpcAddress: string; httpAddress: string };
  return { grpcAddress, httpAddress, cli, stop };
}
