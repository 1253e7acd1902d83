import type { CompatServiceDefinition } from "nice-grpc";
import type { Logger } from "pino";
import {
  DEFAULT_CONFIG_WATCH_QUEUE_LIMIT,
  DEFAULT_HISTORY_LIMIT,
  DEFAULT_MAX_IMPORT_BYTES,
  DEFAULT_MAX_TXN_OPS,
} from "../config/index.js";
import { DEFAULT_REPLICA_TTL_SECONDS } from "../health/index.js";
import {
  DEFAULT_BOOKMARK_INTERVAL_MS,
  DEFAULT_PROTECTION_MIN_INSTANCES,
  DEFAULT_PROTECTION_THRESHOLD,
  DEFAULT_WATCH_QUEUE_LIMIT,
} from "../registry/index.js";
import type { Store } from "../store/index.js";
import type { Grant, SecretKey } from "../auth/index.js";
import { DEFAULT_MAX_STREAMS_PER_TOKEN, DEFAULT_REGISTRATIONS_PER_SECOND } from "../auth/index.js";
import type { CertificateIdentity } from "./auth-guard.js";
import type { ConfigServiceOptions } from "./config-service.js";
import type { ConnectionOptions } from "./connection-options.js";
import type { HealthServiceOptions } from "./health-service.js";
import type { RegistryServiceOptions } from "./registry-service.js";
import type { ServerTlsOptions } from "./tls.js";
import type { EtcdSecurityOptions } from "./etcd-security.js";

/**
 * Defaults shared by startServer and the `serve` command (and its help text).
 * The tuning defaults are the domain's own (RegistryOptions,
 * HealthMonitorOptions, ConfigManagerOptions), gathered here for the help.
 */
export const SERVER_DEFAULTS = {
  listen: "0.0.0.0:7000",
  httpListen: "0.0.0.0:7001",
  dataDir: ".data",
  prefix: "/switchboard/",
  logLevel: "info",
  protectionThreshold: DEFAULT_PROTECTION_THRESHOLD,
  protectionMinInstances: DEFAULT_PROTECTION_MIN_INSTANCES,
  /** Watch and WatchHealth queues count messages; WatchConfig queues count whole resolved views. */
  watchQueueLimit: {
    registry: DEFAULT_WATCH_QUEUE_LIMIT,
    health: DEFAULT_WATCH_QUEUE_LIMIT,
    config: DEFAULT_CONFIG_WATCH_QUEUE_LIMIT,
  },
  bookmarkIntervalMs: DEFAULT_BOOKMARK_INTERVAL_MS,
  replicaTtlSeconds: DEFAULT_REPLICA_TTL_SECONDS,
  configHistoryLimit: DEFAULT_HISTORY_LIMIT,
  configMaxTxnOps: DEFAULT_MAX_TXN_OPS,
  configMaxImportBytes: DEFAULT_MAX_IMPORT_BYTES,
  maxStreamsPerToken: DEFAULT_MAX_STREAMS_PER_TOKEN,
  registrationsPerSecondPerToken: DEFAULT_REGISTRATIONS_PER_SECOND,
} as const;

/** Largest request message accepted, in bytes (1 MiB). Larger ones get RESOURCE_EXHAUSTED. */
export const MAX_RECEIVE_MESSAGE_BYTES = 1024 * 1024;

export interface ServerOptions {
  /** gRPC listen address, host:port. Default "0.0.0.0:7000"; port 0 picks a free port. */
  listen?: string;
  /**
   * HTTP listen address for /metrics, /healthz, the HTTP/JSON API and the
   * dashboard. Default "0.0.0.0:7001".
   */
  httpListen?: string;
  /** Serve the dashboard at `/` on the HTTP port. Default true. */
  ui?: boolean;
  /** etcd endpoints (e.g. "http://127.0.0.1:2379"). Empty or undefined: the embedded store. */
  etcdEndpoints?: string[];
  /** Data directory of the embedded store. Default ".data" (relative to the working directory). */
  dataDir?: string;
  /** Root key prefix, ending with "/". Default "/switchboard/". */
  prefix?: string;
  /** Unique id of this replica. Default: hostname plus a random suffix. */
  replicaId?: string;
  /** Default: pino at level "info" on stdout. */
  logger?: Logger;
  /**
   * A store to use instead of building one from etcdEndpoints / dataDir.
   * The caller owns it: close() does not close it.
   */
  store?: Store;
  /** Time between store pings for grpc.health.v1 and /healthz. Default 1,000 ms. */
  healthCheckIntervalMs?: number;
  /** How long start waits for the store to load the cache. Default 30,000 ms. */
  startupTimeoutMs?: number;
  /** How long close() lets open calls finish before cancelling them. Default 10,000 ms. */
  shutdownTimeoutMs?: number;
  /**
   * RegistryService tuning (defaults on RegistryOptions): Watch queue limit
   * and bookmark interval, read timeouts, and the protection settings of
   * the instance view that RegistryService and HealthService share
   * (protectionThreshold, protectionMinInstances). Watches resume from the
   * cache's one history window (10,000 revisions of any key).
   */
  registry?: Omit<RegistryServiceOptions, "view">;
  /**
   * HealthService tuning (defaults on HealthMonitorOptions): replica lease
   * TTL, WatchHealth limits. Protection is set once, in `registry`.
   */
  health?: Omit<HealthServiceOptions, "view" | "protectionThreshold" | "protectionMinInstances">;
  /** ConfigService tuning (defaults on ConfigManagerOptions): history, import and WatchConfig limits. */
  config?: ConfigServiceOptions;
  /** HTTP/2 keepalive pings and maximum connection age of the gRPC port (defaults on ConnectionOptions). */
  connection?: ConnectionOptions;
  /** Descriptor set for reflection. Default: generated/switchboard.binpb read from disk. */
  descriptorSet?: Uint8Array;
  /**
   * More gRPC services on the same server, behind the same middleware; not
   * listed by reflection. Default none; `switchboard serve` adds none. Used by
   * bench/ for its null-echo baseline on the same process.
   */
  extraServices?: ReadonlyArray<ExtraService>;
  /**
   * TLS on the gRPC and HTTP ports, optionally requiring client certificates
   * (mTLS). Default: unset, plaintext. Certificates are re-read when their files change.
   */
  tls?: ServerTlsOptions;
  /** TLS (CA, client certificate) and user/password for etcd, as files. Default: none. */
  etcdSecurity?: EtcdSecurityOptions;
  /** Authentication and authorization (README, "Authentication and authorization"). Default: off, every RPC open. */
  auth?: AuthOptions;
  /** One audit line per write and per auth failure. Default: no audit. */
  auditLog?: Logger;
  /**
   * Keys for secret config values (AES-256-GCM), oldest first: the last
   * seals, all open. Default none: PutValue/ImportValues with secret are
   * rejected, and stored secrets are answered redacted.
   */
  secretKeys?: readonly SecretKey[];
}

/** ServerOptions.auth: present means `--auth` (default deny for every Switchboard RPC). */
export interface AuthOptions {
  /**
   * A token (`<id>.<secret>`) that becomes the first admin token when the
   * store has had none bootstrapped yet (one compare-and-set across replicas).
   * Default none.
   */
  bootstrapToken?: string;
  /** Require a token for reflection too. Default false: reflection stays open. */
  protectReflection?: boolean;
  /** With mTLS: names a call's verified client certificate (URI SAN or CN). Default none. */
  certificateIdentity?: CertificateIdentity;
  /** Grants of certificate identities. Default none. */
  certificateGrants?: ReadonlyMap<string, readonly Grant[]>;
  /**
   * A JSON file of certificate grants (`serve --auth-cert-grants`), used instead of
   * certificateGrants: re-read when it changes and on reloadCertificates(); an
   * unusable file fails the start, and later keeps the grants loaded last. Default none.
   */
  certificateGrantsFile?: string;
  /** Most open streams per token on one replica. Default 1,000; 0: no limit. */
  maxStreamsPerToken?: number;
  /** Register calls per second per token on one replica. Default 100; 0: no limit. */
  registrationsPerSecondPerToken?: number;
}

/** A service to serve next to Switchboard's (see ServerOptions.extraServices). */
export interface ExtraService {
  definition: CompatServiceDefinition;
  /** A nice-grpc implementation of definition. */
  implementation: object;
}

/** A started server. */
export interface RunningServer {
  /** gRPC address as host:port with the bound port, e.g. "127.0.0.1:41234". */
  readonly grpcAddress: string;
  /** HTTP address as host:port with the bound port. */
  readonly httpAddress: string;
  readonly replicaId: string;
  /**
   * Re-reads the TLS certificate files and the certificate grants file now (`serve` calls it on SIGHUP); new
   * connections get the new certificates, open ones keep theirs; new grants apply from the next call.
   * Resolves true when new certificates or grants were installed; false without either, when the
   * files did not change, or when they are unusable (the old ones stay, with a warning or error logged).
   */
  reloadCertificates(): Promise<boolean>;
  /**
   * Graceful shutdown: NOT_SERVING, stop accepting calls, end open streams,
   * wait up to shutdownTimeoutMs, then cancel what is left; close HTTP, cache
   * and (owned) store. Idempotent.
   */
  close(): Promise<void>;
}
