import { parseArgs } from "node:util";
import type { ServerOptions } from "../../server/index.js";
import { SERVER_DEFAULTS, parseListenAddress } from "../../server/index.js";
import { UsageError } from "../command.js";

/** One `serve` setting: flag, environment variable, default and help text. Flag wins over env, env over default. */
export interface ServeSetting {
  flag: string;
  env: string;
  default: string;
  description: string;
}

export const SERVE_SETTINGS = [
  { flag: "listen", env: "SWITCHBOARD_LISTEN", default: SERVER_DEFAULTS.listen, description: "gRPC listen address (host:port)" },
  { flag: "http-listen", env: "SWITCHBOARD_HTTP_LISTEN", default: SERVER_DEFAULTS.httpListen, description: "HTTP listen address for GET /metrics and GET /healthz" },
  { flag: "etcd-endpoints", env: "SWITCHBOARD_ETCD_ENDPOINTS", default: "", description: "comma-separated etcd endpoints (http://host:port); unset: embedded store" },
  { flag: "data-dir", env: "SWITCHBOARD_DATA_DIR", default: SERVER_DEFAULTS.dataDir, description: "data directory of the embedded store (ignored with etcd)" },
  { flag: "prefix", env: "SWITCHBOARD_PREFIX", default: SERVER_DEFAULTS.prefix, description: "root key prefix in the store, ending with /" },
  { flag: "replica-id", env: "SWITCHBOARD_REPLICA_ID", default: "", description: "unique id of this replica; default: hostname-<random>" },
  { flag: "log-level", env: "SWITCHBOARD_LOG_LEVEL", default: SERVER_DEFAULTS.logLevel, description: "fatal, error, warn, info, debug, trace or silent" },
] as const satisfies readonly ServeSetting[];

type Flag = (typeof SERVE_SETTINGS)[number]["flag"];

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated configuration of `switchboard serve`. */
export interface ServeConfig extends Required<Pick<ServerOptions, "listen" | "httpListen" | "dataDir" | "prefix">> {
  etcdEndpoints: string[];
  replicaId: string | undefined;
  logLevel: LogLevel;
}

/** Reads flags, then SWITCHBOARD_* env, then defaults; throws UsageError naming the setting at fault. */
export function parseServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  const options = Object.fromEntries(SERVE_SETTINGS.map((s) => [s.flag, { type: "string" as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const get = (flag: Flag): { value: string; source: string } => {
    const setting = SERVE_SETTINGS.find((s) => s.flag === flag)!;
    const fromFlag = values[flag];
    if (typeof fromFlag === "string") return { value: fromFlag, source: `--${flag}` };
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
