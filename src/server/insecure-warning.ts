import { isIP } from "node:net";
import { parseListenAddress } from "./listen-address.js";

export interface ExposureSettings {
  /** The gRPC listen address, host:port. */
  listen: string;
  /** Whether TLS is on. */
  tls: boolean;
  /** Whether callers must authenticate (serve --auth). */
  auth: boolean;
}

/**
 * The warning a server logs once at start when anyone on the network can use
 * it: listening beyond loopback with neither TLS nor authentication. Undefined
 * when there is nothing to warn about.
 */
export function insecureExposureWarning(settings: ExposureSettings): string | undefined {
  if (settings.tls || settings.auth) return undefined;
  const { host } = parseListenAddress(settings.listen, "listen");
  if (isLoopback(host)) return undefined;
  return (
    `listening on ${settings.listen} without TLS or authentication: anyone who can reach this address ` +
    "can read, register, deregister and rewrite everything; set --tls-cert-file/--tls-key-file and --auth, " +
    "or listen on 127.0.0.1"
  );
}

function isLoopback(host: string): boolean {
  const lower = host.toLowerCase();
  if (lower === "localhost" || lower.endsWith(".localhost")) return true;
  if (isIP(lower) === 4) return lower.startsWith("127.");
  if (isIP(lower) === 6) return lower === "::1" || lower.startsWith("::ffff:127.");
  return false;
}
