import { Counter, Gauge } from "prom-client";
import type { Registry } from "prom-client";
import { ConfigServiceDefinition, Layer } from "../../generated/switchboard/config/v1/config.js";
import type {
  ConfigServiceImplementation,
  ConfigValue as ConfigValueMessage,
  ConfigVersion as ConfigVersionMessage,
  ResolvedEntry as ResolvedEntryMessage,
  Scope as ScopeMessage,
  WatchConfigResponse,
} from "../../generated/switchboard/config/v1/config.js";
import { createConfigManager } from "../config/index.js";
import { DEFAULT_NAMESPACE } from "../contract.js";
import type {
  ConfigManagerOptions,
  ReadOptions,
  ConfigValue,
  ConfigVersion,
  ConfigViewUpdate,
  Layer as DomainLayer,
  ResolvedEntry,
  Scope,
} from "../config/index.js";
import { ConflictError, InvalidArgumentError } from "../errors.js";
import { parseRevision } from "../registry/index.js";
import type { ServiceDeps } from "./deps.js";
import { encodeResponsesOnce } from "./encode-once.js";
import type { SecretBox } from "../auth/index.js";
import { callerAllows, callerOf } from "./auth-guard.js";
import type { CallContext } from "nice-grpc-common";

/** Tuning of the config service; every field defaults as documented on ConfigManagerOptions. */
/**
 * ConfigServiceDefinition with WatchConfig responses encoded once per message
 * object (see encode-once.ts): every stream of one selector is handed the
 * same WatchConfigResponse object. Serve ConfigService with this definition.
 */
export const configServiceDefinition = {
  ...ConfigServiceDefinition,
  methods: { ...ConfigServiceDefinition.methods, watchConfig: encodeResponsesOnce(ConfigServiceDefinition.methods.watchConfig) },
} as const;

export type ConfigServiceOptions = Omit<ConfigManagerOptions, "store" | "cache" | "prefix" | "logger" | "sealSecret">;

const LAYER_TO_PROTO: Record<DomainLayer, Layer> = {
  "namespace-default": Layer.LAYER_NAMESPACE_DEFAULT,
  "namespace-profile": Layer.LAYER_NAMESPACE_PROFILE,
  "service-default": Layer.LAYER_SERVICE_DEFAULT,
  "service-profile": Layer.LAYER_SERVICE_PROFILE,
};

/**
 * switchboard.config.v1.ConfigService over the config domain: requests are
 * mapped to domain calls, results back to messages; domain errors go to the
 * error middleware unchanged (ConflictError → ABORTED + current-revision trailer).
 */
export function createConfigServiceImpl(
  deps: ServiceDeps,
  options: ConfigServiceOptions = {},
  secrets?: SecretBox,
): ConfigServiceImplementation {
  const manager = createConfigManager({
    ...options,
    store: deps.store,
    cache: deps.cache,
    prefix: deps.prefix,
    logger: deps.logger,
    ...(secrets && { sealSecret: (plaintext: string) => secrets.seal(plaintext) }),
  });
  const metrics = configMetrics(deps.metrics);
  const log = deps.logger.child({ component: "config" });

  /**
   * How secret values leave: opened for callers with read-secrets on the
   * request's scope (everyone when auth is off), else empty and marked
   * redacted. A value that cannot be opened (its key left the key file) is
   * redacted and logged by key id, never by value.
   */
  function presenter(context: CallContext, namespace: string | undefined, service: string | undefined): Present {
    const reveal =
      callerAllows(callerOf(context), "read-secrets", {
        namespace: namespace || DEFAULT_NAMESPACE,
        service: service || undefined,
      }) && secrets !== undefined;
    const present: Present = (value, secret) => {
      if (!secret) return { value, secret: false, redacted: false };
      if (reveal && secrets) {
        try {
          return { value: secrets.open(value), secret: true, redacted: false };
        } catch (error) {
          log.warn(
            { keyId: secrets.keyIdOf(value), reason: (error as Error).message },
            "cannot open a secret value; answering it redacted",
          );
        }
      }
      return { value: "", secret: true, redacted: true };
    };
    present.reveals = reveal;
    return present;
  }

  /** Counts a write by outcome. */
  async function write<T>(method: string, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      metrics.writes.inc({ method, result: "ok" });
      return result;
    } catch (error) {
      const result = error instanceof ConflictError ? "conflict" : error instanceof InvalidArgumentError ? "rejected" : "error";
      metrics.writes.inc({ method, result });
      throw error;
    }
  }

  return {
    async getConfig(request, context) {
      metrics.reads.inc({ method: "GetConfig" });
      const view = await manager.getConfig(request, readOptions(request));
      const present = presenter(context, request.namespace, request.service);
      return { entries: view.entries.map((entry) => toResolvedEntry(entry, present)), revision: String(view.revision) };
    },

    async getValue(request, context) {
      metrics.reads.inc({ method: "GetValue" });
      const present = presenter(context, request.scope?.namespace, request.scope?.service);
      return { value: toConfigValue(await manager.getValue(request.scope, request.key, readOptions(request)), present) };
    },

    async listValues(request, context) {
      metrics.reads.inc({ method: "ListValues" });
      const { values, revision } = await manager.listValues(request.scope, readOptions(request));
      const present = presenter(context, request.scope?.namespace, request.scope?.service);
      return { values: values.map((value) => toConfigValue(value, present)), revision: String(revision) };
    },

    async getHistory(request, context) {
      metrics.reads.inc({ method: "GetHistory" });
      const versions = await manager.getHistory(request.scope, request.key, request.limit, readOptions(request));
      const present = presenter(context, request.scope?.namespace, request.scope?.service);
      return { versions: versions.map((version) => toConfigVersion(version, present)) };
    },

    putValue(request, context) {
      return write("PutValue", async () => {
        const { value, revision } = await manager.putValue({
          scope: request.scope,
          key: request.key,
          value: request.value,
          contentType: request.contentType,
          expectedRevision: optionalRevision(request.expectedRevision, "expected_revision"),
          author: request.author,
          secret: request.secret,
        });
        return {
          value: toConfigValue(value, presenter(context, request.scope?.namespace, request.scope?.service)),
          revision: String(revision),
        };
      });
    },

    deleteValue(request) {
      return write("DeleteValue", async () => {
        const { revision } = await manager.deleteValue({
          scope: request.scope,
          key: request.key,
          expectedRevision: optionalRevision(request.expectedRevision, "expected_revision"),
          author: request.author,
        });
        return { revision: String(revision) };
      });
    },

    importValues(request) {
      return write("ImportValues", async () => {
        const result = await manager.importValues({
          scope: request.scope,
          entries: request.entries,
          replace: request.replace,
          author: request.author,
        });
        return { revision: String(result.revision), written: result.written, deleted: result.deleted };
      });
    },

    rotateSecrets() {
      return write("RotateSecrets", async () => {
        if (!secrets)
          throw new InvalidArgumentError("secret-key-file", "this server has no --secret-key-file: nothing to rotate with");
        const result = await manager.resealSecrets((sealed) => {
          if (secrets.keyIdOf(sealed) === secrets.currentKeyId) return undefined;
          try {
            return secrets.seal(secrets.open(sealed));
          } catch (error) {
            log.warn(
              { keyId: secrets.keyIdOf(sealed), reason: (error as Error).message },
              "cannot re-seal a secret value: its key is not in the key file",
            );
            return null;
          }
        });
        return {
          resealed: result.resealed,
          skipped: result.skipped,
          keyId: secrets.currentKeyId,
          revision: String(result.revision),
        };
      });
    },

    async *watchConfig(request, context) {
      const since = parseRevision(request.sinceRevision, "since_revision");
      // context.signal aborts on client cancel and on server shutdown (call middleware).
      metrics.streams.inc();
      try {
        const present = presenter(context, request.namespace, request.service);
        const revealed = present.reveals ? "revealed" : "redacted";
        for await (const update of manager.watchConfig(request, since, context.signal)) {
          metrics.pushes.inc({
            kind: update.bookmark ? "bookmark" : update.reset ? "reset" : update.changedKeys.length ? "change" : "initial",
          });
          yield toWatchConfigResponse(update, revealed, present);
        }
      } finally {
        metrics.streams.dec();
      }
    },
  };
}

// Messages by update object: the config watch hub hands one immutable update
// object to every stream of a selector, so it is converted once, not once per
// stream; entries go with the objects.
// Two conversions at most per update: with secrets opened, and redacted.
const watchConfigResponses = {
  revealed: new WeakMap<ConfigViewUpdate, WatchConfigResponse>(),
  redacted: new WeakMap<ConfigViewUpdate, WatchConfigResponse>(),
};

type Present = ((value: string, secret: boolean) => { value: string; secret: boolean; redacted: boolean }) & {
  reveals?: boolean;
};

function toWatchConfigResponse(
  update: ConfigViewUpdate,
  variant: "revealed" | "redacted",
  present: Present,
): WatchConfigResponse {
  const cache = watchConfigResponses[variant];
  let message = cache.get(update);
  if (message === undefined) {
    message = {
      entries: update.entries.map((entry) => toResolvedEntry(entry, present)),
      changedKeys: update.changedKeys,
      revision: String(update.revision),
      reset: update.reset,
      bookmark: update.bookmark,
    };
    cache.set(update, message);
  }
  return message;
}

/** Compare-and-set revisions are optional: unset means an unconditional write. */
function optionalRevision(value: string | undefined, field: string): number | undefined {
  return value === undefined ? undefined : parseRevision(value, field);
}

function readOptions(request: { minRevision: string }): ReadOptions {
  return { minRevision: parseRevision(request.minRevision, "min_revision") };
}

function toScope(scope: Scope): ScopeMessage {
  return { namespace: scope.namespace, service: scope.service, profile: scope.profile };
}

function toConfigValue(value: ConfigValue, present: Present): ConfigValueMessage {
  return {
    scope: toScope(value.scope),
    key: value.key,
    ...present(value.value, value.secret),
    contentType: value.contentType,
    revision: String(value.revision),
    version: String(value.version),
    author: value.author,
    updatedAt: value.updatedAt,
  };
}

function toResolvedEntry(entry: ResolvedEntry, present: Present): ResolvedEntryMessage {
  return {
    key: entry.key,
    ...present(entry.value, entry.secret),
    contentType: entry.contentType,
    layer: LAYER_TO_PROTO[entry.layer],
    source: toScope(entry.source),
    revision: String(entry.revision),
  };
}

function toConfigVersion(version: ConfigVersion, present: Present): ConfigVersionMessage {
  return {
    ...present(version.value, version.secret),
    contentType: version.contentType,
    revision: String(version.revision),
    author: version.author,
    updatedAt: version.updatedAt,
    deleted: version.deleted,
  };
}

interface ConfigMetrics {
  reads: Counter<"method">;
  writes: Counter<"method" | "result">;
  pushes: Counter<"kind">;
  streams: Gauge;
}

/** Registered once per registry (a second service instance on the same registry shares them). */
function configMetrics(registry: Registry): ConfigMetrics {
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  return {
    reads:
      existing<Counter<"method">>("switchboard_config_reads_total") ??
      new Counter({
        name: "switchboard_config_reads_total",
        help: "Config reads served from the cache, by RPC.",
        labelNames: ["method"],
        registers: [registry],
      }),
    writes:
      existing<Counter<"method" | "result">>("switchboard_config_writes_total") ??
      new Counter({
        name: "switchboard_config_writes_total",
        help: "Config writes by RPC and result (ok, conflict, rejected, error).",
        labelNames: ["method", "result"],
        registers: [registry],
      }),
    pushes:
      existing<Counter<"kind">>("switchboard_config_pushes_total") ??
      new Counter({
        name: "switchboard_config_pushes_total",
        help: "Messages sent on WatchConfig streams, by kind (initial, change, reset, bookmark).",
        labelNames: ["kind"],
        registers: [registry],
      }),
    streams:
      existing<Gauge>("switchboard_config_watch_streams") ??
      new Gauge({
        name: "switchboard_config_watch_streams",
        help: "Open WatchConfig streams.",
        registers: [registry],
      }),
  };
}
