import { ChannelCredentials, ClientError, createChannel, createClient, Status } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { createClientCredentials } from "@switchboard/client";
import type { CliContext, Command } from "../command.js";
import { EXIT, UsageError } from "../command.js";
import { diagnoseAddress } from "../diagnose.js";
import { parseFlags as parseCommandFlags } from "../flags.js";
import { TLS_FLAGS, TLS_USAGE, tlsFrom } from "./tls-flags.js";

const DEFAULT_ADDRESS = "127.0.0.1:7000";
const DEFAULT_TIMEOUT_MS = 2000;
/** grpc.health.v1 HealthCheckResponse.ServingStatus by number (the package does not export the enum). */
const STATUS_NAMES: readonly string[] = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
const SERVING = 1;

/**
 * `switchboard health-check`: one grpc.health.v1.Health/Check call, exit 0 only on SERVING.
 * The binary is its own container probe (the runtime image has no shell, curl or grpcurl):
 *
 *   HEALTHCHECK CMD ["/usr/local/bin/switchboard", "health-check", "--address", "127.0.0.1:7000"]
 */
export const healthCheckCommand: Command = {
  name: "health-check",
  summary: "probe a gRPC server's grpc.health.v1 status (exit 0 when SERVING)",
  usage: [
    "Usage: switchboard health-check [--address host:port] [--service name] [--timeout ms] [TLS flags]",
    "",
    "Calls grpc.health.v1.Health/Check once and prints the status. Exit 0 when",
    "SERVING, 1 otherwise (NOT_SERVING, unreachable, timeout, unknown service).",
    "Works against any gRPC server that implements the standard health service.",
    "",
    `  --address  host:port to probe (default ${DEFAULT_ADDRESS})`,
    '  --service  service name to ask about (default "": the whole server)',
    `  --timeout  deadline in milliseconds (default ${DEFAULT_TIMEOUT_MS})`,
    "",
    TLS_USAGE,
  ].join("\n"),
  run: healthCheck,
};

async function healthCheck(context: CliContext): Promise<number> {
  const { address, service, timeoutMs, tls } = parseFlags(context.argv, context.env);
  let credentials: ChannelCredentials;
  try {
    credentials = tls ? createClientCredentials(tls) : ChannelCredentials.createInsecure();
  } catch (error) {
    context.stderr.write(`${address}: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failure;
  }
  const channel = createChannel(address, credentials);
  try {
    const client = createClient(HealthDefinition, channel);
    const { status } = await client.check({ service }, { signal: AbortSignal.timeout(timeoutMs) });
    context.stdout.write(`${address}: ${STATUS_NAMES[status] ?? status}\n`);
    return status === SERVING ? EXIT.ok : EXIT.failure;
  } catch (error) {
    // Not connected: say why in words (refused, HTTP/1 port, ...) rather than grpc-js's text.
    const unreachable =
      error instanceof ClientError && error.code === Status.UNAVAILABLE ? await diagnoseAddress(address) : undefined;
    const reason =
      unreachable ??
      (error instanceof ClientError
        ? error.details
        : error instanceof Error && error.name === "AbortError"
          ? `no answer within ${timeoutMs} ms`
          : String(error));
    context.stderr.write(`${address}: unhealthy: ${reason}\n`);
    return EXIT.failure;
  } finally {
    channel.close();
  }
}

function parseFlags(
  argv: string[],
  env: NodeJS.ProcessEnv,
): { address: string; service: string; timeoutMs: number; tls: ReturnType<typeof tlsFrom> } {
  const { values, positionals } = parseCommandFlags(argv, {
    address: { type: "string" },
    service: { type: "string" },
    timeout: { type: "string" },
    ...TLS_FLAGS,
  } as const);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const timeoutMs = Number(values.timeout ?? DEFAULT_TIMEOUT_MS);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new UsageError(`--timeout: expected a positive integer, got "${values.timeout}"`);
  const address = values.address ?? DEFAULT_ADDRESS;
  if (!/^[^\s:]+:\d+$|^\[[0-9a-fA-F:]+\]:\d+$/.test(address))
    throw new UsageError(`--address: expected host:port, got "${address}"`);
  return { address, service: values.service ?? "", timeoutMs, tls: tlsFrom(values, env) };
}
