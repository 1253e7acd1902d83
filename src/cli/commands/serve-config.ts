import type { ServerOptions } from "../../server/index.js";
import { CONNECTION_DEFAULTS, SERVER_DEFAULTS, parseListenAddress } from "../../server/index.js";
import { DEFAULT_EXPIRY_HOLD_MS } from "../../registry/index.js";
import { UsageError } from "../command.js";
import { parseFlags } from "../flags.js";

/** One `serve` setting: flag, environment variable, default and help text. Flag wins over env, env over default. */
export interface ServeSetting {
  flag: string;
  env: string;
  /** Parsed like a given value when neither flag nor env is set; "" means unset. */
  default: string;
  description: string;
  /** A switch: `--flag` alone means "true"; its variable takes true/false/1/0. */
  boolean?: true;
}

const QUEUE_DEFAULTS = SERVER_DEFAULTS.watchQueueLimit;

export const SERVE_SETTINGS = [
  { flag: "listen", env: "SWITCHBOARD_LISTEN", default: SERVER_DEFAULTS.listen, description: "gRPC listen address (host:port)" },
  {
    flag: "http-listen",
    env: "SWITCHBOARD_HTTP_LISTEN",
    default: SERVER_DEFAULTS.httpListen,
    description: "HTTP listen address for /metrics, /healthz, the HTTP/JSON API and the dashboard",
  },
  {
    flag: "ui",
    env: "SWITCHBOARD_UI",
    default: "true",
    description: "serve the web dashboard at / on the HTTP port (true or false)",
  },
  {
    flag: "etcd-endpoints",
    env: "SWITCHBOARD_ETCD_ENDPOINTS",
    default: "",
    description: "comma-separated etcd endpoints (http://host:port); unset: embedded store",
  },
  {
    flag: "data-dir",
    env: "SWITCHBOARD_DATA_DIR",
    default: SERVER_DEFAULTS.dataDir,
    description: "data directory of the embedded store (ignored with etcd)",
  },
  {
    flag: "prefix",
    env: "SWITCHBOARD_PREFIX",
    default: SERVER_DEFAULTS.prefix,
    description: "root key prefix in the store, ending with /",
  },
  {
    flag: "replica-id",
    env: "SWITCHBOARD_REPLICA_ID",
    default: "",
    description: "unique id of this replica; default: hostname-<random>",
  },
  {
    flag: "log-level",
    env: "SWITCHBOARD_LOG_LEVEL",
    default: SERVER_DEFAULTS.logLevel,
    description: "fatal, error, warn, info, debug, trace or silent",
  },
  {
    flag: "protection-threshold",
    env: "SWITCHBOARD_PROTECTION_THRESHOLD",
    default: String(SERVER_DEFAULTS.protectionThreshold),
    description:
      "share (0..1) of a service's UP instances that must be unhealthy before all stay routable (protection); 0 disables",
  },
  {
    flag: "protection-min-instances",
    env: "SWITCHBOARD_PROTECTION_MIN_INSTANCES",
    default: String(SERVER_DEFAULTS.protectionMinInstances),
    description:
      "UP instances a service needs before protection can apply; in smaller services unhealthy instances always leave routing (integer >= 1)",
  },
  {
    flag: "watch-queue-limit",
    env: "SWITCHBOARD_WATCH_QUEUE_LIMIT",
    default: "",
    description:
      "queue of one Watch, WatchHealth or WatchConfig stream; a consumer further behind is ended with RESOURCE_EXHAUSTED " +
      `(1..1000000; default ${QUEUE_DEFAULTS.registry} messages for Watch and WatchHealth, ${QUEUE_DEFAULTS.config} views for WatchConfig)`,
  },
  {
    flag: "bookmark-interval",
    env: "SWITCHBOARD_BOOKMARK_INTERVAL",
    default: String(SERVER_DEFAULTS.bookmarkIntervalMs),
    description: "milliseconds (100..3600000) before an idle Watch, WatchHealth or WatchConfig stream gets a bookmark",
  },
  {
    flag: "replica-ttl",
    env: "SWITCHBOARD_REPLICA_TTL",
    default: String(SERVER_DEFAULTS.replicaTtlSeconds),
    description: "seconds (2..300) of this replica's membership lease; a dead replica's health checks move within it",
  },
  {
    flag: "config-history-limit",
    env: "SWITCHBOARD_CONFIG_HISTORY_LIMIT",
    default: String(SERVER_DEFAULTS.configHistoryLimit),
    description: "versions kept per config key (1..10000)",
  },
  {
    flag: "config-max-txn-ops",
    env: "SWITCHBOARD_CONFIG_MAX_TXN_OPS",
    default: String(SERVER_DEFAULTS.configMaxTxnOps),
    description:
      "most operations in one ConfigService store transaction (2..100000; at most etcd's --max-txn-ops); one ImportValues changes at most half as many keys",
  },
  {
    flag: "config-max-import-bytes",
    env: "SWITCHBOARD_CONFIG_MAX_IMPORT_BYTES",
    default: String(SERVER_DEFAULTS.configMaxImportBytes),
    description:
      "bytes of changed values one ImportValues may write (1..1073741824; each is written twice: keep 2x below etcd's --max-request-bytes)",
  },
  {
    flag: "tls-cert-file",
    env: "SWITCHBOARD_TLS_CERT_FILE",
    default: "",
    description:
      "PEM certificate (chain) for TLS on the gRPC and HTTP ports; re-read when it changes or on SIGHUP; needs --tls-key-file",
  },
  { flag: "tls-key-file", env: "SWITCHBOARD_TLS_KEY_FILE", default: "", description: "PEM private key of --tls-cert-file" },
  {
    flag: "tls-client-ca-file",
    env: "SWITCHBOARD_TLS_CLIENT_CA_FILE",
    default: "",
    description: "PEM CA bundle: both ports then require client certificates signed by it (mTLS); needs --tls-cert-file",
  },
  {
    flag: "etcd-ca-file",
    env: "SWITCHBOARD_ETCD_CA_FILE",
    default: "",
    description: "PEM CA that signed etcd's server certificate (use https:// endpoints)",
  },
  {
    flag: "etcd-cert-file",
    env: "SWITCHBOARD_ETCD_CERT_FILE",
    default: "",
    description: "PEM client certificate for etcd (--client-cert-auth); needs --etcd-key-file",
  },
  { flag: "etcd-key-file", env: "SWITCHBOARD_ETCD_KEY_FILE", default: "", description: "PEM private key of --etcd-cert-file" },
  {
    flag: "etcd-username",
    env: "SWITCHBOARD_ETCD_USERNAME",
    default: "",
    description: "etcd user (etcd auth enabled); needs --etcd-password-file",
  },
  {
    flag: "etcd-password-file",
    env: "SWITCHBOARD_ETCD_PASSWORD_FILE",
    default: "",
    description: "file holding the password of --etcd-username",
  },
  // Authentication, authorization, audit and quotas (README, "Authentication and authorization").
  {
    flag: "auth",
    env: "SWITCHBOARD_AUTH",
    default: "false",
    boolean: true,
    description:
      "require bearer tokens: default deny for every Switchboard RPC (grpc.health.v1 and, unless --auth-reflection, reflection stay open)",
  },
  {
    flag: "auth-reflection",
    env: "SWITCHBOARD_AUTH_REFLECTION",
    default: "false",
    boolean: true,
    description: "with --auth, require a valid token for server reflection too",
  },
  {
    flag: "auth-bootstrap-token-file",
    env: "SWITCHBOARD_AUTH_BOOTSTRAP_TOKEN_FILE",
    default: "",
    description: "file holding a token (<id>.<secret>) that becomes the first admin token when none was bootstrapped yet",
  },
  {
    flag: "auth-cert-grants",
    env: "SWITCHBOARD_AUTH_CERT_GRANTS",
    default: "",
    description:
      'with --auth and --tls-client-ca-file, JSON file binding client-certificate identities (URI SAN, else CN) to grants, e.g. {"spiffe://shop/orders": ["register@shop/orders", "read@shop"]}; re-read when it changes or on SIGHUP (a file that does not parse keeps the previous grants, with an error logged)',
  },
  {
    flag: "auth-max-streams-per-token",
    env: "SWITCHBOARD_AUTH_MAX_STREAMS_PER_TOKEN",
    default: String(SERVER_DEFAULTS.maxStreamsPerToken),
    description: "most streams one token may hold open on a replica (0: no limit); over it RESOURCE_EXHAUSTED",
  },
  {
    flag: "auth-registrations-per-second",
    env: "SWITCHBOARD_AUTH_REGISTRATIONS_PER_SECOND",
    default: String(SERVER_DEFAULTS.registrationsPerSecondPerToken),
    description: "Register calls per second one token may make on a replica (0: no limit); over it RESOURCE_EXHAUSTED",
  },
  {
    flag: "secret-key-file",
    env: "SWITCHBOARD_SECRET_KEY_FILE",
    default: "",
    description:
      'keys for secret config values, one "<id> <base64 of 32 bytes>" per line, oldest first (the last encrypts, all decrypt); unset: secret values cannot be written',
  },
  {
    flag: "audit-log",
    env: "SWITCHBOARD_AUDIT_LOG",
    default: "",
    description: "file for audit lines (every write and every auth failure, JSON); unset: no audit",
  },
  {
    flag: "keepalive-time",
    env: "SWITCHBOARD_KEEPALIVE_TIME",
    default: String(CONNECTION_DEFAULTS.keepaliveTimeMs / 1000),
    description: "seconds (0..86400) between the server's HTTP/2 pings on each client connection; 0 disables them",
  },
  {
    flag: "keepalive-timeout",
    env: "SWITCHBOARD_KEEPALIVE_TIMEOUT",
    default: String(CONNECTION_DEFAULTS.keepaliveTimeoutMs / 1000),
    description: "seconds (1..3600) a ping may go unanswered before the connection and all its streams are dropped",
  },
  {
    flag: "max-connection-age",
    env: "SWITCHBOARD_MAX_CONNECTION_AGE",
    default: String(CONNECTION_DEFAULTS.maxConnectionAgeMs / 1000),
    description:
      "seconds (0..2592000, ±10 % jitter) after which a client connection gets GOAWAY so clients reconnect, spreading over new replicas; 0: unlimited",
  },
  {
    flag: "max-connection-age-grace",
    env: "SWITCHBOARD_MAX_CONNECTION_AGE_GRACE",
    default: String(CONNECTION_DEFAULTS.maxConnectionAgeGraceMs / 1000),
    description:
      "seconds (0..86400) calls still open on an aged connection get before they are cut (clients resume streams elsewhere)",
  },
  {
    flag: "expiry-hold",
    env: "SWITCHBOARD_EXPIRY_HOLD",
    default: String(DEFAULT_EXPIRY_HOLD_MS / 1000),
    description:
      "seconds (0..3600) instances whose leases expire soon after this replica saw the store unreachable, or in a burst of expiries, stay routable, marked held, so agents can register again without a REMOVED/ADDED flap; 0 disables",
  },
] as const satisfies readonly ServeSetting[];

type Flag = (typeof SERVE_SETTINGS)[number]["flag"];

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated configuration of `switchboard serve`. */
export interface ServeConfig extends Required<Pick<ServerOptions, "listen" | "httpListen" | "dataDir" | "prefix">> {
  etcdEndpoints: string[];
  replicaId: string | undefined;
  logLevel: LogLevel;
  protectionThreshold: number;
  protectionMinInstances: number;
  /** Undefined: each stream kind keeps its own default. */
  watchQueueLimit: number | undefined;
  bookmarkIntervalMs: number;
  replicaTtlSeconds: number;
  configHistoryLimit: number;
  configMaxTxnOps: number;
  configMaxImportBytes: number;
  /** Files of the serving certificate; undefined: plaintext. */
  tls: { certFile: string; keyFile: string; clientCaFile: string | undefined } | undefined;
  /** Files and user for etcd; each undefined when not set. */
  etcdSecurity: {
    caFile: string | undefined;
    certFile: string | undefined;
    keyFile: string | undefined;
    username: string | undefined;
    passwordFile: string | undefined;
  };
  ui: boolean;
  auth: boolean;
  authReflection: boolean;
  authBootstrapTokenFile: string | undefined;
  /** JSON file of certificate identity → grants (mTLS); undefined: tokens only. */
  authCertGrantsFile: string | undefined;
  authMaxStreamsPerToken: number;
  authRegistrationsPerSecond: number;
  auditLog: string | undefined;
  secretKeyFile: string | undefined;
  keepaliveTimeSeconds: number;
  keepaliveTimeoutSeconds: number;
  maxConnectionAgeSeconds: number;
  maxConnectionAgeGraceSeconds: number;
  expiryHoldSeconds: number;
}

/** Reads flags, then SWITCHBOARD_* env, then defaults; throws UsageError naming the setting at fault. */
export function parseServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  const options = Object.fromEntries(
    SERVE_SETTINGS.map((s) => [s.flag, { type: "boolean" in s ? ("boolean" as const) : ("string" as const) }]),
  );
  const { values, positionals } = parseFlags(argv, options);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const get = (flag: Flag): { value: string; source: string } => {
    const setting = SERVE_SETTINGS.find((s) => s.flag === flag)!;
    const fromFlag = values[flag];
    if (typeof fromFlag === "string") return { value: fromFlag, source: `--${flag}` };
    if (typeof fromFlag === "boolean") return { value: String(fromFlag), source: `--${flag}` };
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== "") return { value: fromEnv, source: setting.env };
    return { value: setting.default, source: `--${flag}` };
  };

  const listen = validate(get("listen"), (v, source) => (parseListenAddress(v, source), v));
  const httpListen = validate(get("http-listen"), (v, source) => (parseListenAddress(v, source), v));
  const grpcPort = parseListenAddress(listen, "listen").port;
  if (grpcPort !== 0 && grpcPort === parseListenAddress(httpListen, "http-listen").port) {
    throw new UsageError(`--listen and --http-listen must use different ports (both ${grpcPort})`);
  }
  const auth = validate(get("auth"), parseSwitch);
  if (!auth && get("auth-bootstrap-token-file").value !== "") throw new UsageError("--auth-bootstrap-token-file needs --auth");
  const authCertGrantsFile = optional(get("auth-cert-grants"));
  const tls = serveTls(optional(get("tls-cert-file")), optional(get("tls-key-file")), optional(get("tls-client-ca-file")));
  if (authCertGrantsFile !== undefined && (!auth || tls?.clientCaFile === undefined)) {
    throw new UsageError(
      "--auth-cert-grants needs --auth and --tls-client-ca-file (identities come from verified client certificates)",
    );
  }
  return {
    listen,
    httpListen,
    etcdEndpoints: validate(get("etcd-endpoints"), parseEndpoints),
    dataDir: validate(get("data-dir"), (v, source) => {
      if (v.trim() === "") throw new Error(`${source}: must not be empty`);
      return v;
    }),
    prefix: validate(get("prefix"), (v, source) => {
      if (!v.endsWith("/") || /[\s\0]/.test(v)) throw new Error(`${source}: must end with "/" and contain no spaces, got "${v}"`);
      return v;
    }),
    replicaId: validate(get("replica-id"), (v, source) => {
      if (v === "") return undefined;
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v)) {
        throw new Error(`${source}: letters, digits, ".", "_" and "-" only (at most 128), got "${v}"`);
      }
      return v;
    }),
    logLevel: validate(get("log-level"), (v, source) => {
      const level = LOG_LEVELS.find((l) => l === v.toLowerCase());
      if (!level) throw new Error(`${source}: expected one of ${LOG_LEVELS.join(", ")}, got "${v}"`);
      return level;
    }),
    protectionThreshold: validate(get("protection-threshold"), (v, source) => {
      const share = /^(\d+(\.\d*)?|\.\d+)$/.test(v.trim()) ? Number(v) : Number.NaN;
      if (!(share >= 0 && share <= 1)) throw new Error(`${source}: expected a share from 0 to 1 (e.g. 0.5), got "${v}"`);
      return share;
    }),
    protectionMinInstances: validate(get("protection-min-instances"), integerIn(1, 1_000_000)),
    watchQueueLimit: validate(get("watch-queue-limit"), (v, source) =>
      v === "" ? undefined : integerIn(1, 1_000_000)(v, source),
    ),
    bookmarkIntervalMs: validate(get("bookmark-interval"), integerIn(100, 3_600_000, "milliseconds")),
    replicaTtlSeconds: validate(get("replica-ttl"), integerIn(2, 300, "seconds")),
    configHistoryLimit: validate(get("config-history-limit"), integerIn(1, 10_000)),
    configMaxTxnOps: validate(get("config-max-txn-ops"), integerIn(2, 100_000)),
    configMaxImportBytes: validate(get("config-max-import-bytes"), integerIn(1, 1024 * 1024 * 1024)),
    tls,
    etcdSecurity: etcdSecurity({
      caFile: optional(get("etcd-ca-file")),
      certFile: optional(get("etcd-cert-file")),
      keyFile: optional(get("etcd-key-file")),
      username: optional(get("etcd-username")),
      passwordFile: optional(get("etcd-password-file")),
    }),
    ui: validate(get("ui"), (v, source) => {
      if (v === "true" || v === "false") return v === "true";
      throw new Error(`${source}: expected true or false, got "${v}"`);
    }),
    auth,
    authReflection: validate(get("auth-reflection"), parseSwitch),
    authBootstrapTokenFile: get("auth-bootstrap-token-file").value || undefined,
    authCertGrantsFile,
    authMaxStreamsPerToken: validate(get("auth-max-streams-per-token"), integerIn(0, 1_000_000)),
    authRegistrationsPerSecond: validate(get("auth-registrations-per-second"), integerIn(0, 1_000_000)),
    auditLog: get("audit-log").value || undefined,
    secretKeyFile: get("secret-key-file").value || undefined,
    keepaliveTimeSeconds: validate(get("keepalive-time"), integerIn(0, 86_400, "seconds")),
    keepaliveTimeoutSeconds: validate(get("keepalive-timeout"), integerIn(1, 3_600, "seconds")),
    maxConnectionAgeSeconds: validate(get("max-connection-age"), integerIn(0, 2_592_000, "seconds")),
    maxConnectionAgeGraceSeconds: validate(get("max-connection-age-grace"), integerIn(0, 86_400, "seconds")),
    expiryHoldSeconds: validate(get("expiry-hold"), integerIn(0, 3_600, "seconds")),
  };
}

/** A setting whose default is unset: undefined when empty. */
function optional(input: { value: string }): string | undefined {
  return input.value.trim() === "" ? undefined : input.value;
}

function serveTls(
  certFile: string | undefined,
  keyFile: string | undefined,
  clientCaFile: string | undefined,
): ServeConfig["tls"] {
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError("--tls-cert-file and --tls-key-file go together: give both or neither");
  }
  if (clientCaFile !== undefined && certFile === undefined) {
    throw new UsageError(
      "--tls-client-ca-file needs --tls-cert-file and --tls-key-file (client certificates are checked over TLS)",
    );
  }
  return certFile !== undefined && keyFile !== undefined ? { certFile, keyFile, clientCaFile } : undefined;
}

function etcdSecurity(settings: ServeConfig["etcdSecurity"]): ServeConfig["etcdSecurity"] {
  if ((settings.certFile === undefined) !== (settings.keyFile === undefined)) {
    throw new UsageError("--etcd-cert-file and --etcd-key-file go together: give both or neither");
  }
  if ((settings.username === undefined) !== (settings.passwordFile === undefined)) {
    throw new UsageError("--etcd-username and --etcd-password-file go together: give both or neither");
  }
  return settings;
}

/** What `switchboard serve` passes to startServer (besides the logger): each tuning flag goes to every service it concerns. */
export function serverOptionsFrom(config: ServeConfig): ServerOptions {
  const queueLimit = config.watchQueueLimit;
  return {
    listen: config.listen,
    httpListen: config.httpListen,
    etcdEndpoints: config.etcdEndpoints,
    dataDir: config.dataDir,
    prefix: config.prefix,
    replicaId: config.replicaId,
    ...(config.tls && {
      tls: {
        certFile: config.tls.certFile,
        keyFile: config.tls.keyFile,
        ...(config.tls.clientCaFile !== undefined && { clientCaFile: config.tls.clientCaFile }),
      },
    }),
    etcdSecurity: withoutUnset(config.etcdSecurity),
    ui: config.ui,
    connection: {
      keepaliveTimeMs: config.keepaliveTimeSeconds * 1000,
      keepaliveTimeoutMs: config.keepaliveTimeoutSeconds * 1000,
      maxConnectionAgeMs: config.maxConnectionAgeSeconds * 1000,
      maxConnectionAgeGraceMs: config.maxConnectionAgeGraceSeconds * 1000,
    },
    registry: {
      protectionThreshold: config.protectionThreshold,
      protectionMinInstances: config.protectionMinInstances,
      bookmarkIntervalMs: config.bookmarkIntervalMs,
      ...(queueLimit !== undefined && { watchQueueLimit: queueLimit }),
      expiryHoldMs: config.expiryHoldSeconds * 1000,
    },
    health: {
      replicaTtlSeconds: config.replicaTtlSeconds,
      watch: { bookmarkIntervalMs: config.bookmarkIntervalMs, ...(queueLimit !== undefined && { queueLimit }) },
    },
    config: {
      historyLimit: config.configHistoryLimit,
      maxTxnOps: config.configMaxTxnOps,
      maxImportBytes: config.configMaxImportBytes,
      bookmarkIntervalMs: config.bookmarkIntervalMs,
      ...(queueLimit !== undefined && { watchQueueLimit: queueLimit }),
    },
    ...(config.auth && {
      auth: {
        protectReflection: config.authReflection,
        maxStreamsPerToken: config.authMaxStreamsPerToken,
        registrationsPerSecondPerToken: config.authRegistrationsPerSecond,
      },
    }),
  };
}

function withoutUnset<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

function parseSwitch(value: string, source: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0" || v === "") return false;
  throw new Error(`${source}: expected true or false, got "${value}"`);
}

/** A check for a whole number in [min, max], digits only (no units, signs or exponents). */
function integerIn(min: number, max: number, unit?: string): (value: string, source: string) => number {
  return (value, source) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new Error(`${source}: expected a whole number${unit ? ` of ${unit}` : ""} from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

function validate<T>(input: { value: string; source: string }, check: (value: string, source: string) => T): T {
  try {
    return check(input.value, input.source);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** "a:2379, http://b:2379" → ["http://a:2379", "http://b:2379"]; "" → [] (embedded store). */
function parseEndpoints(value: string, source: string): string[] {
  return value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const withScheme = /^[a-z]+:\/\//i.test(part) ? part : `http://${part}`;
      let url: URL | undefined;
      try {
        url = new URL(withScheme);
      } catch {
        url = undefined;
      }
      if (!url || !["http:", "https:"].includes(url.protocol) || !url.hostname || !url.port || url.pathname !== "/") {
        throw new Error(`${source}: expected http(s)://host:port entries, got "${part}"`);
      }
      return `${url.protocol}//${url.host}`;
    });
}
