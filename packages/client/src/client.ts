/**
 * Typed clients for the three Switchboard services.
 *
 * ```ts
 * const sb = createSwitchboardClient({ addresses: ["cp-1:7000", "cp-2:7000"] });
 * const { instances } = await sb.registry.listInstances({ service: "orders" }, { deadline: 2000 });
 * sb.close();
 * ```
 *
 * Failures arrive as the domain errors of src/errors.ts (InvalidArgumentError,
 * NotFoundError, UnavailableError, ...) or, for statuses without one, as
 * nice-grpc `ClientError`s. With several addresses a call that fails with
 * UNAVAILABLE is retried once on each other address (unary calls, and server
 * streams that have not delivered a message yet); later calls stay on the
 * address that worked.
 */
import { ChannelCredentials, createChannel, createClientFactory, Metadata } from "nice-grpc";
import type { Channel, ChannelOptions, Client, CompatServiceDefinition } from "nice-grpc";
import { AuthServiceDefinition } from "../../../generated/switchboard/auth/v1/auth.js";
import { ConfigServiceDefinition } from "../../../generated/switchboard/config/v1/config.js";
import { HealthServiceDefinition } from "../../../generated/switchboard/health/v1/health.js";
import { RegistryServiceDefinition } from "../../../generated/switchboard/registry/v1/registry.js";
import { resolveAddresses } from "./addresses.js";
import { channelTarget } from "./channel-target.js";
import { deadlineMiddleware, deadlineToTime } from "./deadline.js";
import type { DeadlineOptions } from "./deadline.js";
import { errorMappingMiddleware, isUnavailableError } from "./errors.js";
import { clientTlsFromEnv, createClientCredentials } from "./tls.js";
import type { ClientTlsOptions } from "./tls.js";
import { resolveToken } from "./token.js";

/** Typed RegistryService client (nice-grpc); each call takes `{ deadline, signal, metadata }`. */
export type RegistryClient = Client<typeof RegistryServiceDefinition, DeadlineOptions>;
/** Typed ConfigService client (nice-grpc); each call takes `{ deadline, signal, metadata }`. */
export type ConfigClient = Client<typeof ConfigServiceDefinition, DeadlineOptions>;
/** Typed HealthService client (nice-grpc); each call takes `{ deadline, signal, metadata }`. */
export type HealthClient = Client<typeof HealthServiceDefinition, DeadlineOptions>;
/** Typed AuthService client (nice-grpc); each call takes `{ deadline, signal, metadata }`. */
export type AuthClient = Client<typeof AuthServiceDefinition, DeadlineOptions>;

/** Options of {@link createSwitchboardClient}; every one is optional. */
export interface SwitchboardClientOptions {
  /**
   * Control-plane address "host:port" (a comma-separated list is accepted).
   * Default: $SWITCHBOARD_ADDRESS, else "localhost:7000".
   */
  address?: string;
  /** Several control-plane replicas; calls move to the next one on UNAVAILABLE. Wins over `address`. */
  addresses?: readonly string[];
  /**
   * TLS to the control plane: CA, and a client certificate for mTLS, as files
   * (see ClientTlsOptions); true uses the system's CAs; false forces plaintext.
   * Ignored when `credentials` is given. Default: $SWITCHBOARD_CA_FILE,
   * $SWITCHBOARD_CERT_FILE and $SWITCHBOARD_KEY_FILE when any is set, else plaintext.
   */
  tls?: ClientTlsOptions | boolean;
  // Authentication options (a bearer token) belong here too, next to tls.
  /** Channel credentials built by the caller; wins over `tls`. Default: from `tls`. */
  credentials?: ChannelCredentials;
  /**
   * grpc-js channel options, merged over Switchboard's defaults (keepalive
   * pings every 30 s so a dead control plane ends watch streams; channelz off).
   */
  channelOptions?: ChannelOptions;
  /** Deadline in ms for unary calls that pass none; 0 disables. Default 10000. */
  defaultTimeoutMs?: number;
  /** Metadata sent with every call (e.g. an authorization token). Default none. */
  metadata?: Metadata;
  /**
   * Bearer token sent as `authorization: Bearer <token>` with every call.
   * Default: `tokenFile`, else $SWITCHBOARD_TOKEN, else the file named by
   * $SWITCHBOARD_TOKEN_FILE, else none.
   */
  token?: string;
  /** File holding the bearer token (read once at creation). Default none. */
  tokenFile?: string;
  /**
   * The environment the defaults above are read from (see SWITCHBOARD_ENV). Default `process.env`.
   */
  env?: Record<string, string | undefined>;
}

/** One connection to the control plane (one channel per address) with a typed client per service. */
export interface SwitchboardClient {
  /** RegistryService: register, heartbeat, resolve, list and watch instances. */
  readonly registry: RegistryClient;
  /** ConfigService: layered, versioned values; see also bootstrap(), watchConfig() and rollbackConfig(). */
  readonly config: ConfigClient;
  /** HealthService: check results and status of instances. */
  readonly health: HealthClient;
  /** Token management and WhoAmI (servers started with --auth). */
  readonly auth: AuthClient;
  /** All control-plane addresses, in rotation order. */
  readonly addresses: readonly string[];
  /** The address new calls go to. */
  readonly currentAddress: string;
  /** Closes every channel; calls in flight fail. */
  close(): void;
}

const DEFAULT_CHANNEL_OPTIONS: ChannelOptions = {
  "grpc.keepalive_time_ms": 30_000,
  "grpc.keepalive_timeout_ms": 10_000,
  // The SDK serves no channelz; tracking it costs every channel, subchannel and call (pass 1 to have it).
  "grpc.enable_channelz": 0,
};

type AnyMethod = (request: unknown, options?: CallOptionsLike) => unknown;
type CallOptionsLike = DeadlineOptions & { signal?: AbortSignal; metadata?: Metadata };

/**
 * Connects to the control plane. Channels connect lazily (on the first call) and stay open
 * until `close()`. Defaults come from the environment (SWITCHBOARD_ENV), else localhost:7000
 * in plaintext without a token; unary calls get a 10 s deadline unless they pass one.
 */
export function createSwitchboardClient(options: SwitchboardClientOptions = {}): SwitchboardClient {
  const env = options.env ?? process.env;
  const addresses = resolveAddresses(options, env);
  const credentials = options.credentials ?? channelCredentials(options.tls, env);
  const channelOptions = { ...DEFAULT_CHANNEL_OPTIONS, ...options.channelOptions };
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 10_000;
  const token = resolveToken(options, env);
  const metadata: Metadata | undefined =
    token === undefined ? options.metadata : Metadata(options.metadata).set("authorization", `Bearer ${token}`);
  // The error mapping runs outermost so the deadline middleware's DEADLINE_EXCEEDED is seen as a ClientError.
  const factory = createClientFactory().use(deadlineMiddleware).use(errorMappingMiddleware);
  const channels: Channel[] = addresses.map((address) => createChannel(channelTarget(address), credentials, channelOptions));
  let current = 0;

  /** Moves on from index `failed` unless another call already did. */
  const rotateFrom = (failed: number): void => {
    if (current === failed) current = (failed + 1) % channels.length;
  };

  function facade<Service extends CompatServiceDefinition>(
    definition: Service & { methods: Record<string, { requestStream: boolean; responseStream: boolean }> },
  ): Client<Service, DeadlineOptions> {
    const perAddress = channels.map((channel) => factory.create(definition, channel) as unknown as Record<string, AnyMethod>);
    const result: Record<string, AnyMethod> = {};
    for (const [name, method] of Object.entries(definition.methods)) {
      const call = (index: number, request: unknown, callOptions: CallOptionsLike): unknown =>
        (perAddress[index] as Record<string, AnyMethod>)[name]!(request, callOptions);

      if (!method.requestStream && !method.responseStream) {
        result[name] = async (request, callOptions = {}) => {
          const opts = withDefaults(callOptions, defaultTimeoutMs, metadata);
          for (let attempt = 0; ; attempt++) {
            const index = current;
            try {
              return await call(index, request, opts);
            } catch (error) {
              if (!isUnavailableError(error) || channels.length === 1) throw error;
              rotateFrom(index);
              if (attempt + 1 >= channels.length || opts.signal?.aborted === true) throw error;
            }
          }
        };
      } else if (!method.requestStream) {
        result[name] = (request, callOptions = {}) =>
          (async function* () {
            const opts = withDefaults(callOptions, 0, metadata);
            for (let attempt = 0; ; attempt++) {
              const index = current;
              let delivered = false;
              try {
                for await (const response of call(index, request, opts) as AsyncIterable<unknown>) {
                  delivered = true;
                  yield response;
                }
                return;
              } catch (error) {
                if (!isUnavailableError(error) || channels.length === 1) throw error;
                rotateFrom(index);
                if (delivered || attempt + 1 >= channels.length || opts.signal?.aborted === true) throw error;
              }
            }
          })();
      } else {
        // Client and bidi streams cannot be replayed: rotate for the next call and rethrow.
        const streaming = method.responseStream;
        result[name] = (request, callOptions = {}) => {
          const index = current;
          const opts = withDefaults(callOptions, streaming ? 0 : defaultTimeoutMs, metadata);
          const onError = (error: unknown): never => {
            if (isUnavailableError(error)) rotateFrom(index);
            throw error;
          };
          if (!streaming) return (call(index, request, opts) as Promise<unknown>).catch(onError);
          return (async function* () {
            try {
              yield* call(index, request, opts) as AsyncIterable<unknown>;
            } catch (error) {
              onError(error);
            }
          })();
        };
      }
    }
    return result as unknown as Client<Service, DeadlineOptions>;
  }

  // Each facade is built on first use: an agent only ever touches the registry.
  let registry: RegistryClient | undefined;
  let config: ConfigClient | undefined;
  let health: HealthClient | undefined;
  let auth: AuthClient | undefined;
  return {
    get registry() {
      return (registry ??= facade(RegistryServiceDefinition));
    },
    get config() {
      return (config ??= facade(ConfigServiceDefinition));
    },
    get health() {
      return (health ??= facade(HealthServiceDefinition));
    },
    get auth() {
      return (auth ??= facade(AuthServiceDefinition));
    },
    addresses,
    get currentAddress() {
      return addresses[current] as string;
    },
    close() {
      for (const channel of channels) channel.close();
    },
  };
}

function channelCredentials(
  tls: ClientTlsOptions | boolean | undefined,
  env: Record<string, string | undefined>,
): ChannelCredentials {
  const settings = tls ?? clientTlsFromEnv(env);
  return settings === undefined || settings === false ? ChannelCredentials.createInsecure() : createClientCredentials(settings);
}

/** Fixes a relative deadline once (so retries on other addresses share it) and adds default metadata. */
function withDefaults(callOptions: CallOptionsLike, defaultTimeoutMs: number, metadata: Metadata | undefined): CallOptionsLike {
  const opts: CallOptionsLike = { ...callOptions };
  if (opts.deadline !== undefined) opts.deadline = new Date(deadlineToTime(opts.deadline));
  else if (defaultTimeoutMs > 0) opts.deadline = new Date(Date.now() + defaultTimeoutMs);
  if (metadata !== undefined) {
    const merged = Metadata(metadata);
    if (opts.metadata !== undefined) for (const [key, values] of opts.metadata) merged.set(key, values);
    opts.metadata = merged;
  }
  return opts;
}
