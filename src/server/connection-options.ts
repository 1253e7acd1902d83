/**
 * HTTP/2 connection liveness and lifetime of the gRPC port, as grpc-js server
 * options.
 *
 * Keepalive: the server pings every client connection every `keepaliveTimeMs`
 * and destroys a connection whose ping is not answered within
 * `keepaliveTimeoutMs`. That ends every call on it (their signals abort), so a
 * client that hangs (SIGSTOP, a vanished host, a black-holed network) releases
 * its Watch streams and their queues within time + timeout instead of when the
 * OS gives up on the socket.
 *
 * Ping policy: grpc-js 1.14.7's server enforces none. It answers every client
 * ping and never sends GOAWAY `too_many_pings` (it reads neither
 * `grpc.http2.min_ping_interval_without_data_ms` nor
 * `grpc.keepalive_permit_without_calls` nor `grpc.http2.max_ping_strikes`), so
 * the SDK's 30 s pings and grpc's usual client settings (Python/Go/Java
 * keepalive 10 s, with or without calls) are all accepted.
 *
 * Max connection age: a connection older than `maxConnectionAgeMs` (±10 %
 * jitter) gets GOAWAY; new calls go to a new connection (after DNS or the
 * SDK's address list, possibly another replica), calls in flight get
 * `maxConnectionAgeGraceMs` to finish and are then cut. Long-lived streams are
 * cut at the end of the grace; clients resume them (the SDK from its last
 * revision), which spreads them over replicas added since they connected.
 */
export interface ConnectionOptions {
  /** Time between the server's HTTP/2 pings on each connection. Default 30,000 ms; 0 disables pings. */
  keepaliveTimeMs?: number;
  /**
   * How long a ping may go unanswered before the connection and its calls are dropped. Default 10,000 ms.
   * Why not grpc's usual 20 s: a client answers pings from its event loop, and the longest stalls
   * measured in loaded client processes (bench soak at load average 22–28, 2026-12-07) were 5.8 s,
   * well inside 10 s; 10 s releases a frozen client's streams within 40 s instead of 50 s.
   */
  keepaliveTimeoutMs?: number;
  /** Age after which a connection gets GOAWAY. Default 1,800,000 ms (30 min); 0: unlimited. */
  maxConnectionAgeMs?: number;
  /** Time calls still open on a connection past its age get before they are cut. Default 30,000 ms. */
  maxConnectionAgeGraceMs?: number;
}

export const CONNECTION_DEFAULTS = {
  keepaliveTimeMs: 30_000,
  keepaliveTimeoutMs: 10_000,
  maxConnectionAgeMs: 30 * 60_000,
  maxConnectionAgeGraceMs: 30_000,
} as const satisfies Required<ConnectionOptions>;

/** The grpc-js server options for `options` (defaults filled in). */
export function grpcConnectionOptions(options: ConnectionOptions = {}): Record<string, number> {
  const keepaliveTimeMs = options.keepaliveTimeMs ?? CONNECTION_DEFAULTS.keepaliveTimeMs;
  const maxConnectionAgeMs = options.maxConnectionAgeMs ?? CONNECTION_DEFAULTS.maxConnectionAgeMs;
  const grpcOptions: Record<string, number> = {
    "grpc.keepalive_timeout_ms": options.keepaliveTimeoutMs ?? CONNECTION_DEFAULTS.keepaliveTimeoutMs,
  };
  // grpc-js treats a missing keepalive time as "never ping"; 0 is its own "off" too but is not documented as such.
  if (keepaliveTimeMs > 0) grpcOptions["grpc.keepalive_time_ms"] = keepaliveTimeMs;
  if (maxConnectionAgeMs > 0) {
    grpcOptions["grpc.max_connection_age_ms"] = maxConnectionAgeMs;
    grpcOptions["grpc.max_connection_age_grace_ms"] =
      options.maxConnectionAgeGraceMs ?? CONNECTION_DEFAULTS.maxConnectionAgeGraceMs;
  }
  return grpcOptions;
}
