/**
 * Why the server could not start, in one sentence, with the setting to change.
 * `switchboard serve` prints the message and names the setting's flag and
 * environment variable; the original error stays in `cause` (logged at debug).
 */
import { createServer } from "node:net";
import { DataDirLockedError } from "../store/index.js";
import { formatAddress } from "./listen-address.js";
import type { ListenAddress } from "./listen-address.js";

/** The server options a start failure can be fixed with (the `serve` flag names). */
export type StartupSetting = "listen" | "http-listen" | "data-dir" | "etcd-endpoints";

export class StartupError extends Error {
  override name = "StartupError";
  constructor(
    message: string,
    /** The setting to change. */
    readonly setting: StartupSetting,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const LISTEN_REASONS: Readonly<Record<string, (port: number) => string>> = {
  EADDRINUSE: () => "the port is already in use by another process",
  EACCES: (port) => `no permission to listen on port ${port} (ports below 1024 need privileges)`,
  EADDRNOTAVAIL: () => "the host is not an address of this machine",
  ENOTFOUND: () => "the host was not found",
  EAI_AGAIN: () => "the host could not be resolved",
};

/** A listen failure as a StartupError; `what` is "gRPC" or "HTTP". */
export function listenError(what: string, address: ListenAddress, setting: StartupSetting, error: unknown): StartupError {
  const text = formatAddress(address.host, address.port);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason = code !== undefined ? LISTEN_REASONS[code]?.(address.port) : undefined;
  return new StartupError(`cannot listen for ${what} on ${text}: ${reason ?? "the address cannot be bound"}`, setting, {
    cause: error,
  });
}

/**
 * Binds and releases `address` once, before anything else starts, so a port in
 * use fails the start with a clear reason (grpc-js reports bind errors only as
 * text) and before the store is opened. Port 0 always works and is skipped.
 */
export async function checkCanListen(what: string, address: ListenAddress, setting: StartupSetting): Promise<void> {
  if (address.port === 0) return;
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.listen({ host: address.host, port: address.port, exclusive: true }, () => resolve());
    });
  } catch (error) {
    throw listenError(what, address, setting, error);
  } finally {
    await new Promise<void>((resolve) => (probe.listening ? probe.close(() => resolve()) : resolve()));
  }
}

/** A store that could not be opened, as a StartupError naming data-dir or etcd-endpoints. */
export function openStoreError(error: unknown, etcdEndpoints: readonly string[] | undefined, dataDir: string): StartupError {
  if (etcdEndpoints) {
    return new StartupError(`cannot connect to etcd at ${etcdEndpoints.join(",")}`, "etcd-endpoints", { cause: error });
  }
  if (error instanceof DataDirLockedError) {
    return new StartupError(
      `data directory ${dataDir} is in use by another switchboard (process ${error.ownerPid}); the embedded store is for one process`,
      "data-dir",
      { cause: error },
    );
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === "EACCES" || code === "EPERM"
      ? "permission denied"
      : code === "ENOTDIR"
        ? "not a directory"
        : "it cannot be read or written";
  return new StartupError(`cannot open the data directory ${dataDir}: ${reason}`, "data-dir", { cause: error });
}

/** The cache did not load in time: the store was not reachable (or, embedded, not readable). */
export function storeTimeoutError(timeoutMs: number, etcdEndpoints: readonly string[] | undefined): StartupError {
  const seconds = Math.round(timeoutMs / 100) / 10;
  return etcdEndpoints
    ? new StartupError(
        `could not reach etcd at ${etcdEndpoints.join(",")} within ${seconds} s; is etcd running there?`,
        "etcd-endpoints",
      )
    : new StartupError(`could not load the embedded store within ${seconds} s`, "data-dir");
}
