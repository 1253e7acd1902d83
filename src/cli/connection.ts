/**
 * The control-plane connection of the client commands: which address(es), from
 * where (--address, $SWITCHBOARD_ADDRESS or the default), and failures that
 * say which address was tried, what is wrong there and how to choose another.
 *
 *   return withClient(values, context.env, async (client) => { ... });
 */
import { ClientError, Status } from "nice-grpc-common";
import { createSwitchboardClient, DEFAULT_ADDRESS, SWITCHBOARD_ENV, UnavailableError } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { UsageError } from "./command.js";
import { tlsFrom } from "./commands/tls-flags.js";
import { diagnoseAddress, splitHostPort } from "./diagnose.js";

export interface ConnectionFlags {
  address?: string | undefined;
  timeout?: string | undefined;
  "ca-file"?: string | undefined;
  "cert-file"?: string | undefined;
  "key-file"?: string | undefined;
  token?: string | undefined;
  "token-file"?: string | undefined;
}

const ADDRESS_ENV = SWITCHBOARD_ENV.address;

export interface ConnectionTarget {
  addresses: string[];
  /** Where the addresses came from, for messages: "--address", "$SWITCHBOARD_ADDRESS" or "default". */
  source: string;
}

/** The hint every connection failure ends with. */
export const ADDRESS_HINT = `choose another address with --address HOST:PORT or ${ADDRESS_ENV}`;

/** Validated addresses by precedence: --address, $SWITCHBOARD_ADDRESS, localhost:7000. */
export function connectionTarget(flags: ConnectionFlags, env: NodeJS.ProcessEnv): ConnectionTarget {
  const [value, source] =
    flags.address !== undefined
      ? [flags.address, "--address"]
      : env[ADDRESS_ENV]?.trim()
        ? [env[ADDRESS_ENV], `$${ADDRESS_ENV}`]
        : [DEFAULT_ADDRESS, "default"];
  const addresses = value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const name = source === "default" ? "--address" : source.replace(/^\$/, "");
  if (addresses.length === 0) throw new UsageError(`${name}: expected HOST:PORT[,HOST:PORT], got "${value}"`);
  for (const address of addresses) {
    if (splitHostPort(address) === undefined) {
      throw new UsageError(`${name}: expected HOST:PORT with a port from 1 to 65535 (e.g. localhost:7000), got "${address}"`);
    }
  }
  return { addresses, source };
}

/** Timeout of each call from --timeout (default 10000 ms). */
export function callTimeout(flags: ConnectionFlags): number {
  const timeoutMs = flags.timeout === undefined ? 10_000 : Number(flags.timeout);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`--timeout: expected a positive integer of milliseconds, got "${flags.timeout}"`);
  }
  return timeoutMs;
}

export function openClient(flags: ConnectionFlags, env: NodeJS.ProcessEnv): SwitchboardClient {
  return clientFor(connectionTarget(flags, env), flags, env);
}

/** The client of a target, with the timeout, TLS and token the flags (or their variables) give. */
function clientFor(target: ConnectionTarget, flags: ConnectionFlags, env: NodeJS.ProcessEnv): SwitchboardClient {
  return createSwitchboardClient({
    addresses: target.addresses,
    defaultTimeoutMs: callTimeout(flags),
    tls: tlsFrom(flags, env),
    // Precedence (the SDK's): --token, --token-file, $SWITCHBOARD_TOKEN, $SWITCHBOARD_TOKEN_FILE.
    ...(flags.token === undefined ? {} : { token: flags.token }),
    ...(flags["token-file"] === undefined ? {} : { tokenFile: flags["token-file"] }),
    env,
  });
}

/** Opens a client, runs `run`, explains connection failures, closes the client. */
export async function withClient(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  run: (client: SwitchboardClient) => Promise<number>,
): Promise<number> {
  const target = connectionTarget(flags, env);
  const client = clientFor(target, flags, env);
  try {
    return await run(client);
  } catch (error) {
    throw await explainFailure(error, target);
  } finally {
    client.close();
  }
}

/** A failure whose message already says everything (printed as is, exit 1). */
export class ConnectionError extends Error {
  override name = "ConnectionError";
}

/** UNAVAILABLE or DEADLINE_EXCEEDED: the address may not be a working control plane. */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof UnavailableError) return true;
  return error instanceof ClientError && (error.code === Status.UNAVAILABLE || error.code === Status.DEADLINE_EXCEEDED);
}

/**
 * For a connection failure, probes every address; when none answers gRPC,
 * returns a ConnectionError naming each address and its problem. Anything
 * else (including UNAVAILABLE sent by a reachable server) is returned as is.
 */
export async function explainFailure(error: unknown, target: ConnectionTarget): Promise<unknown> {
  if (!isConnectionFailure(error)) return error;
  const problem = await describeUnreachable(target);
  return problem === undefined ? error : new ConnectionError(problem);
}

/**
 * "cannot reach the control plane at HOST:PORT (default): connection refused: …; choose another address …",
 * or undefined when some address answers gRPC.
 */
export async function describeUnreachable(target: ConnectionTarget): Promise<string | undefined> {
  const where = await unreachableAt(target);
  return where === undefined ? undefined : `cannot reach the control plane at ${where}; ${ADDRESS_HINT}`;
}

/** "HOST:PORT (default): connection refused: …" for every address, or undefined when some address answers gRPC. */
export async function unreachableAt(target: ConnectionTarget): Promise<string | undefined> {
  const problems = await Promise.all(target.addresses.map((address) => diagnoseAddress(address)));
  if (problems.some((problem) => problem === undefined)) return undefined;
  return target.addresses.length === 1
    ? `${target.addresses[0]} (${target.source}): ${problems[0]}`
    : `${target.addresses.map((address, i) => `${address} (${problems[i]})`).join(", ")} (${target.source})`;
}
