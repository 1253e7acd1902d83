/**
 * Configure a service at start with no human step: fetch its resolved
 * configuration from Switchboard, overlay environment variables, and follow
 * changes live.
 *
 * ```ts
 * const config = await bootstrap();                  // reads SWITCHBOARD_* from the environment
 * const pool = config.getNumber("db.pool-size", 10); // env SWITCHBOARD_CONFIG_DB_POOL_SIZE wins
 * config.onChange(({ changedKeys }) => log.info({ changedKeys }, "config changed"));
 * // ... on shutdown:
 * config.close();
 * ```
 *
 * Environment (all optional; options win over them):
 * - SWITCHBOARD_ADDRESS    control plane "host:port", comma-separated for several (default localhost:7000)
 * - SWITCHBOARD_NAMESPACE  namespace (default "default")
 * - SWITCHBOARD_SERVICE    service; empty resolves namespace-wide layers only
 * - SWITCHBOARD_PROFILE    profile, e.g. "prod"; empty resolves default layers only
 * - SWITCHBOARD_CACHE_FILE last-known-config file (default
 *   $TMPDIR/switchboard/config-{namespace}-{service|_}-{profile|_}.json; "off" disables it)
 *
 * Precedence, lowest to highest: namespace default, namespace profile, service
 * default, service profile (resolved by the server), then environment
 * variables. A key maps to one variable: the prefix (default
 * "SWITCHBOARD_CONFIG_") + the key upper-cased with "." and "-" turned into
 * "_": "db.pool-size" ← SWITCHBOARD_CONFIG_DB_POOL_SIZE. Prefixed variables
 * naming no stored key add one: lower-cased, "_" → "." (SWITCHBOARD_CONFIG_LOG_LEVEL → "log.level").
 *
 * When the control plane cannot be reached (UNAVAILABLE, deadline) bootstrap
 * starts from the cache file written by the last successful fetch, logs a
 * warning saying so, and (when watching) keeps trying to connect; the first
 * view it then receives replaces the cached one and fires onChange for the
 * keys that differ. Without a usable cache file it throws.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { Layer } from "../../../generated/switchboard/config/v1/config.js";
import type { ResolvedEntry } from "../../../generated/switchboard/config/v1/config.js";
import { InvalidArgumentError, UnavailableError } from "../../../src/errors.js";
import type { BackoffOptions } from "./backoff.js";
import { ADDRESS_ENV, DEFAULT_ADDRESS } from "./addresses.js";
import { createSwitchboardClient } from "./client.js";
import { resolveToken } from "./token.js";
import type { SwitchboardClient, SwitchboardClientOptions } from "./client.js";
import { watchConfig } from "./config-watch.js";
import { isRetryableError } from "./errors.js";
import { toRevision } from "./instances.js";
import { clientTlsFromEnv } from "./tls.js";
import { createStderrLogger } from "./logger.js";
import type { SdkLogger } from "./logger.js";

/** Environment variable: bootstrap's namespace (see SWITCHBOARD_ENV). */
export const NAMESPACE_ENV = "SWITCHBOARD_NAMESPACE";
/** Environment variable: bootstrap's service (see SWITCHBOARD_ENV). */
export const SERVICE_ENV = "SWITCHBOARD_SERVICE";
/** Environment variable: bootstrap's profile (see SWITCHBOARD_ENV). */
export const PROFILE_ENV = "SWITCHBOARD_PROFILE";
/** Environment variable: bootstrap's cache file (see SWITCHBOARD_ENV). */
export const CACHE_FILE_ENV = "SWITCHBOARD_CACHE_FILE";
/** Default prefix of per-key environment overrides. */
export const CONFIG_ENV_PREFIX = "SWITCHBOARD_CONFIG_";

/** Options of {@link bootstrap}; every one is optional. */
export interface BootstrapOptions {
  /** Control-plane address(es). Default $SWITCHBOARD_ADDRESS, else localhost:7000. Ignored when `client` is given. */
  address?: string;
  /**
   * TLS to the control plane for the client bootstrap creates (see
   * SwitchboardClientOptions.tls). Ignored when `client` is given. Default:
   * SWITCHBOARD_CA_FILE, SWITCHBOARD_CERT_FILE and SWITCHBOARD_KEY_FILE from `env`, else plaintext.
   */
  tls?: SwitchboardClientOptions["tls"];
  /** Use this client (not closed by close()). Default: one created from `address` and `tls`. */
  client?: SwitchboardClient;
  /**
   * Bearer token for a server with --auth (a token with read-secrets gets
   * secret values in clear). Default: `tokenFile`, else $SWITCHBOARD_TOKEN,
   * else the file named by $SWITCHBOARD_TOKEN_FILE. Ignored when `client` is given.
   */
  token?: string;
  /** File holding the bearer token. Ignored when `client` is given. */
  tokenFile?: string;
  /** Default $SWITCHBOARD_NAMESPACE, else "default". */
  namespace?: string;
  /** Default $SWITCHBOARD_SERVICE, else "". */
  service?: string;
  /** Default $SWITCHBOARD_PROFILE, else "". */
  profile?: string;
  /** Environment to read settings and overrides from. Default process.env. */
  env?: Record<string, string | undefined>;
  /** Prefix of per-key overrides; false disables them. Default "SWITCHBOARD_CONFIG_". */
  envPrefix?: string | false;
  /**
   * Last-known-config file; false disables it. Default $SWITCHBOARD_CACHE_FILE,
   * else $TMPDIR/switchboard/config-{namespace}-{service|_}-{profile|_}.json.
   */
  cacheFile?: string | false;
  /** Deadline of the first fetch in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * Follow changes with WatchConfig from the start. Default false: the watch
   * starts with the first onChange() call. Watching keeps the process alive until close().
   */
  watch?: boolean;
  /** Reconnect delays of the watch. Default 100 ms doubling to 5 s. */
  backoff?: BackoffOptions;
  /** Default: JSON lines at level "info" on stderr (the cache-file fallback must be visible). */
  logger?: SdkLogger;
}

/** Where an effective value came from. */
export type ConfigOrigin = "env" | "namespace-default" | "namespace-profile" | "service-default" | "service-profile";

/** One effective key: its value and where the value came from. */
export interface EffectiveEntry {
  key: string;
  value: string;
  contentType: string;
  origin: ConfigOrigin;
  /** Revision of the stored value; 0 for environment overrides. */
  revision: number;
  /** The environment variable overriding or adding this key, if any. */
  envVar?: string;
}

/** What `onChange` listeners receive after the effective configuration changed. */
export interface ConfigChange {
  /** Keys whose effective value (after environment overrides) changed, sorted. */
  changedKeys: string[];
  /** Revision of the new view. */
  revision: number;
}

/** The effective configuration of one namespace/service/profile; made by {@link bootstrap}. */
export interface BootstrappedConfig {
  readonly namespace: string;
  readonly service: string;
  readonly profile: string;
  /** Where the current server view came from: the control plane, or the cache file (control plane unreachable at start). */
  readonly source: "control-plane" | "cache-file";
  /** Revision of the current server view. */
  readonly revision: number;
  /** The effective value: environment override, else the resolved value. */
  get(key: string): string | undefined;
  get(key: string, fallback: string): string;
  /** Like get, but throws InvalidArgumentError(key) when the key is missing. */
  require(key: string): string;
  has(key: string): boolean;
  /** Throws InvalidArgumentError(key) when set but not a finite number. */
  getNumber(key: string): number | undefined;
  getNumber(key: string, fallback: number): number;
  /** true/false, 1/0, yes/no, on/off (any case); throws InvalidArgumentError(key) otherwise. */
  getBoolean(key: string): boolean | undefined;
  getBoolean(key: string, fallback: boolean): boolean;
  /** Parses YAML values (content type application/yaml) as YAML, anything else as JSON. */
  getJson<T = unknown>(key: string): T | undefined;
  getJson<T = unknown>(key: string, fallback: T): T;
  /** Every effective key, sorted. */
  keys(): string[];
  /** Every effective key and value. */
  toObject(): Record<string, string>;
  /** Every effective entry with its origin. */
  entries(): EffectiveEntry[];
  /** Hands toObject() to a schema parser (zod's `schema.parse`, a hand-written function...). */
  parse<T>(parser: (values: Record<string, string>) => T): T;
  /** Calls listener after each change of the effective config; starts the watch if needed. Returns unsubscribe. */
  onChange(listener: (change: ConfigChange) => void): () => void;
  /** Stops the watch and closes the client bootstrap created. */
  close(): void;
}

/** The file format of the last-known config. */
interface CacheFileContent {
  format: "switchboard-config-cache/v1";
  namespace: string;
  service: string;
  profile: string;
  revision: number;
  savedAt: string;
  entries: Array<{ key: string; value: string; contentType: string; layer: ConfigOrigin; revision: number }>;
}

const LAYER_NAMES: ReadonlyMap<Layer, ConfigOrigin> = new Map([
  [Layer.LAYER_NAMESPACE_DEFAULT, "namespace-default"],
  [Layer.LAYER_NAMESPACE_PROFILE, "namespace-profile"],
  [Layer.LAYER_SERVICE_DEFAULT, "service-default"],
  [Layer.LAYER_SERVICE_PROFILE, "service-profile"],
]);
const LAYER_VALUES: ReadonlyMap<ConfigOrigin, Layer> = new Map([...LAYER_NAMES].map(([layer, name]) => [name, layer]));

/** "db.pool-size" → "SWITCHBOARD_CONFIG_DB_POOL_SIZE". */
export function envVarFor(key: string, prefix: string = CONFIG_ENV_PREFIX): string {
  return prefix + key.toUpperCase().replace(/[.-]/g, "_");
}

/** The default cache file of a namespace + service + profile. */
export function defaultCacheFile(namespace: string, service: string, profile: string): string {
  return join(tmpdir(), "switchboard", `config-${namespace}-${service || "_"}-${profile || "_"}.json`);
}

/**
 * Reads the configuration of a service at start: the control plane's resolved layers (deadline
 * `timeoutMs`, default 5000), overridden per key by SWITCHBOARD_CONFIG_* variables; when the control
 * plane is unreachable, the last configuration saved in the cache file. Follows changes with
 * `watch: true` or the first `onChange()`. Close it when done.
 */
export async function bootstrap(options: BootstrapOptions = {}): Promise<BootstrappedConfig> {
  const env = options.env ?? process.env;
  const namespace = options.namespace ?? (env[NAMESPACE_ENV] || "default");
  const service = options.service ?? env[SERVICE_ENV] ?? "";
  const profile = options.profile ?? env[PROFILE_ENV] ?? "";
  const envPrefix = options.envPrefix === undefined ? CONFIG_ENV_PREFIX : options.envPrefix;
  const cacheFile = chooseCacheFile(options.cacheFile, env[CACHE_FILE_ENV], namespace, service, profile);
  const logger = options.logger ?? createStderrLogger("switchboard-bootstrap", "info");
  const target = { namespace, service, profile };
  const ownClient = options.client === undefined;
  const address = options.address ?? env[ADDRESS_ENV];
  const tls = options.tls ?? clientTlsFromEnv(env) ?? false;
  const token = options.client ? undefined : resolveToken(options, env);
  const client =
    options.client ??
    createSwitchboardClient({ address: address || DEFAULT_ADDRESS, tls, ...(token !== undefined && { token }) });

  let entries: ResolvedEntry[];
  let revision: number;
  let source: BootstrappedConfig["source"];
  try {
    const response = await client.config.getConfig(target, { deadline: options.timeoutMs ?? 5_000 });
    // A secret this token may not read is as good as absent: env overrides and fallbacks apply.
    entries = response.entries.filter((entry) => !entry.redacted);
    revision = toRevision(response.revision);
    source = "control-plane";
    logger.info({ ...target, revision, keys: entries.length }, "configuration loaded from the control plane");
    if (cacheFile) await saveCacheFile(cacheFile, target, revision, entries, logger);
  } catch (error) {
    if (!isRetryableError(error)) {
      if (ownClient) client.close();
      throw error;
    }
    const cached = cacheFile ? await loadCacheFile(cacheFile, target, logger) : undefined;
    if (cached === undefined) {
      if (ownClient) client.close();
      throw new UnavailableError(
        `control plane unreachable (${(error as Error).message}) and no usable cache file${cacheFile ? ` at ${cacheFile}` : " (disabled)"}`,
      );
    }
    entries = cached.entries;
    revision = cached.revision;
    source = "cache-file";
    logger.warn(
      { ...target, err: error, cacheFile, revision, savedAt: cached.savedAt, keys: entries.length },
      "control plane unreachable: starting with the last known configuration from the cache file",
    );
  }

  const overrides = readOverrides(env, envPrefix);
  let effective = computeEffective(entries, overrides, envPrefix);
  const listeners = new Set<(change: ConfigChange) => void>();
  const lifetime = new AbortController();
  let watching: Promise<void> | undefined;

  function startWatch(): void {
    if (watching !== undefined || lifetime.signal.aborted) return;
    // From the cache file the revision may belong to another etcd: start with a fresh view and diff it.
    const sinceRevision = source === "control-plane" ? revision : 0;
    watching = (async () => {
      try {
        const updates = watchConfig(
          client,
          { ...target, sinceRevision, logger, ...(options.backoff ? { backoff: options.backoff } : {}) },
          lifetime.signal,
        );
        for await (const update of updates) {
          if (update.type !== "view") continue;
          const wasCacheFile = source === "cache-file";
          source = "control-plane";
          if (wasCacheFile)
            logger.info({ ...target, revision: update.revision }, "control plane reachable again; configuration refreshed");
          const visible = update.entries.filter((entry) => !entry.redacted);
          const next = computeEffective(visible, overrides, envPrefix);
          const changedKeys = diffEffective(effective, next);
          entries = visible;
          revision = update.revision;
          effective = next;
          // Listeners run in the same tick as the state change: get() never shows a change a listener has not heard of.
          if (changedKeys.length > 0) {
            for (const listener of listeners) {
              try {
                listener({ changedKeys, revision });
              } catch (error) {
                logger.error({ err: error }, "config onChange listener threw");
              }
            }
          }
          if (cacheFile) await saveCacheFile(cacheFile, target, revision, entries, logger);
        }
      } catch (error) {
        logger.error({ ...target, err: error }, "config watch stopped");
      }
    })();
  }

  if (options.watch === true) startWatch();

  const lookup = (key: string): EffectiveEntry | undefined => {
    const hit = effective.get(key);
    if (hit !== undefined || envPrefix === false) return hit;
    // Any spelling that maps to a set variable ("db.pool_size" for "db.pool-size").
    const variable = envVarFor(key, envPrefix);
    const value = overrides.get(variable);
    return value === undefined
      ? undefined
      : { key, value, contentType: "text/plain", origin: "env", revision: 0, envVar: variable };
  };

  const config: BootstrappedConfig = {
    namespace,
    service,
    profile,
    get source() {
      return source;
    },
    get revision() {
      return revision;
    },
    get(key: string, fallback?: string) {
      return lookup(key)?.value ?? fallback;
    },
    require(key) {
      const entry = lookup(key);
      if (entry === undefined)
        throw new InvalidArgumentError(
          key,
          `missing: set it in Switchboard or as ${envPrefix === false ? "config" : envVarFor(key, envPrefix)}`,
        );
      return entry.value;
    },
    has: (key) => lookup(key) !== undefined,
    getNumber(key: string, fallback?: number) {
      const entry = lookup(key);
      if (entry === undefined) return fallback;
      const value = Number(entry.value.trim());
      if (entry.value.trim() === "" || !Number.isFinite(value))
        throw new InvalidArgumentError(key, `"${entry.value}" is not a number`);
      return value;
    },
    getBoolean(key: string, fallback?: boolean) {
      const entry = lookup(key);
      if (entry === undefined) return fallback;
      const text = entry.value.trim().toLowerCase();
      if (["true", "1", "yes", "on"].includes(text)) return true;
      if (["false", "0", "no", "off"].includes(text)) return false;
      throw new InvalidArgumentError(key, `"${entry.value}" is not a boolean`);
    },
    getJson<T>(key: string, fallback?: T) {
      const entry = lookup(key);
      if (entry === undefined) return fallback;
      try {
        return (entry.contentType === "application/yaml" ? parseYaml(entry.value) : JSON.parse(entry.value)) as T;
      } catch (error) {
        throw new InvalidArgumentError(
          key,
          `is not valid ${entry.contentType === "application/yaml" ? "YAML" : "JSON"}: ${(error as Error).message}`,
        );
      }
    },
    keys: () => [...effective.keys()].sort(),
    toObject: () => Object.fromEntries([...effective.values()].map((entry) => [entry.key, entry.value])),
    entries: () => [...effective.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    parse: (parser) => parser(config.toObject()),
    onChange(listener) {
      listeners.add(listener);
      startWatch();
      return () => listeners.delete(listener);
    },
    close() {
      lifetime.abort();
      listeners.clear();
      if (ownClient) client.close();
    },
  } as BootstrappedConfig;
  return config;
}

function chooseCacheFile(
  option: string | false | undefined,
  fromEnv: string | undefined,
  namespace: string,
  service: string,
  profile: string,
): string | false {
  if (option !== undefined) return option;
  if (fromEnv === "off") return false;
  if (fromEnv) return fromEnv;
  return defaultCacheFile(namespace, service, profile);
}

/** Prefixed variables, by variable name. */
function readOverrides(env: Record<string, string | undefined>, prefix: string | false): Map<string, string> {
  const overrides = new Map<string, string>();
  if (prefix === false || prefix === "") return overrides;
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && name.startsWith(prefix) && name.length > prefix.length) overrides.set(name, value);
  }
  return overrides;
}

/** Server view overlaid with environment overrides, by key. */
function computeEffective(
  entries: readonly ResolvedEntry[],
  overrides: ReadonlyMap<string, string>,
  prefix: string | false,
): Map<string, EffectiveEntry> {
  const effective = new Map<string, EffectiveEntry>();
  const used = new Set<string>();
  for (const entry of entries) {
    const variable = prefix === false ? undefined : envVarFor(entry.key, prefix);
    const override = variable === undefined ? undefined : overrides.get(variable);
    if (override !== undefined && variable !== undefined) {
      used.add(variable);
      effective.set(entry.key, {
        key: entry.key,
        value: override,
        contentType: entry.contentType,
        origin: "env",
        revision: 0,
        envVar: variable,
      });
    } else {
      effective.set(entry.key, {
        key: entry.key,
        value: entry.value,
        contentType: entry.contentType,
        origin: LAYER_NAMES.get(entry.layer) ?? "namespace-default",
        revision: toRevision(entry.revision),
      });
    }
  }
  if (prefix !== false) {
    for (const [variable, value] of overrides) {
      if (used.has(variable)) continue;
      const key = variable.slice(prefix.length).toLowerCase().replace(/_/g, ".");
      if (!effective.has(key))
        effective.set(key, { key, value, contentType: "text/plain", origin: "env", revision: 0, envVar: variable });
    }
  }
  return effective;
}

function diffEffective(before: ReadonlyMap<string, EffectiveEntry>, after: ReadonlyMap<string, EffectiveEntry>): string[] {
  const changed = new Set<string>();
  for (const [key, entry] of after) {
    const old = before.get(key);
    if (old === undefined || old.value !== entry.value || old.contentType !== entry.contentType) changed.add(key);
  }
  for (const key of before.keys()) if (!after.has(key)) changed.add(key);
  return [...changed].sort();
}

async function saveCacheFile(
  file: string,
  target: { namespace: string; service: string; profile: string },
  revision: number,
  entries: readonly ResolvedEntry[],
  logger: SdkLogger,
): Promise<void> {
  const content: CacheFileContent = {
    format: "switchboard-config-cache/v1",
    ...target,
    revision,
    savedAt: new Date().toISOString(),
    entries: entries.map((entry) => ({
      key: entry.key,
      value: entry.value,
      contentType: entry.contentType,
      layer: LAYER_NAMES.get(entry.layer) ?? "namespace-default",
      revision: toRevision(entry.revision),
    })),
  };
  // Write then rename: a crash never leaves a half-written file behind.
  const temporary = `${file}.${process.pid}-${Math.random().toString(36).slice(2, 8)}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(temporary, JSON.stringify(content, null, 2), { mode: 0o600 });
    await rename(temporary, file);
  } catch (error) {
    logger.warn({ err: error, cacheFile: file }, "could not write the config cache file");
  }
}

async function loadCacheFile(
  file: string,
  target: { namespace: string; service: string; profile: string },
  logger: SdkLogger,
): Promise<{ entries: ResolvedEntry[]; revision: number; savedAt: string } | undefined> {
  let content: CacheFileContent;
  try {
    content = JSON.parse(await readFile(file, "utf8")) as CacheFileContent;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      logger.warn({ err: error, cacheFile: file }, "config cache file unreadable");
    return undefined;
  }
  if (
    content.format !== "switchboard-config-cache/v1" ||
    content.namespace !== target.namespace ||
    content.service !== target.service ||
    content.profile !== target.profile ||
    !Array.isArray(content.entries)
  ) {
    logger.warn({ cacheFile: file }, "config cache file is for another namespace/service/profile or another format; ignoring it");
    return undefined;
  }
  return {
    revision: content.revision,
    savedAt: content.savedAt,
    entries: content.entries.map((entry) => ({
      key: entry.key,
      value: entry.value,
      contentType: entry.contentType,
      layer: LAYER_VALUES.get(entry.layer) ?? Layer.LAYER_NAMESPACE_DEFAULT,
      source: sourceOf(entry.layer, target),
      revision: String(entry.revision),
      secret: false,
      redacted: false,
    })),
  };
}

function sourceOf(layer: ConfigOrigin, target: { namespace: string; service: string; profile: string }) {
  return {
    namespace: target.namespace,
    service: layer.startsWith("service") ? target.service : "",
    profile: layer.endsWith("profile") ? target.profile : "",
  };
}
