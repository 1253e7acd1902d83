/**
 * grpc-js name resolution through Switchboard: location transparency for gRPC callers.
 *
 * ```ts
 * registerSwitchboardResolver({ address: "cp:7000" }); // once per process
 * const channel = createChannel("switchboard:///orders");
 * const orders = createClient(OrdersDefinition, channel); // calls round-robin over live instances
 * ```
 *
 * Target syntax (choose one):
 * - `switchboard:///orders` — service "orders" in the default namespace
 *   (`namespace` option, else $SWITCHBOARD_NAMESPACE, else "default");
 * - `switchboard:///staging/orders` — service "orders" in namespace "staging";
 * - `switchboard://cp-1:7000,cp-2:7000/orders` — the authority names the
 *   control plane (comma-separated replicas), overriding the options;
 * - a query narrows the instances: `switchboard:///orders?tags=grpc,v2&zone=eu-1`.
 *
 * The resolver keeps one Watch per channel open and hands grpc-js the
 * instances the server routes to (state UP and not unhealthy, or every UP one
 * while the service is in protection) on every change, with the
 * service config `round_robin` (unless the channel sets its own
 * `grpc.service_config`). An instance that drains, fails its checks or
 * deregisters leaves the list at once; calls in flight on it finish. When the
 * control plane is unreachable the last list stays in use (errors are only
 * reported while no list has been received yet, so calls fail fast with
 * UNAVAILABLE instead of hanging). An empty list fails calls with UNAVAILABLE
 * until an instance appears. Weights are not applied (grpc-js round_robin is
 * unweighted); use `createPicker` for weighted picks.
 */
import { experimental, Metadata, status as GrpcStatus } from "@grpc/grpc-js";
import type { ChannelOptions, ServiceConfig } from "@grpc/grpc-js";
import type { Instance } from "../../../generated/switchboard/registry/v1/registry.js";
import { resolveAddresses } from "./addresses.js";
import { createSwitchboardClient } from "./client.js";
import type { SwitchboardClient, SwitchboardClientOptions } from "./client.js";
import { DEFAULT_NAMESPACE } from "./instances.js";
import { silentLogger } from "./logger.js";
import type { SdkLogger } from "./logger.js";
import { watchService } from "./watch.js";
import type { BackoffOptions } from "./backoff.js";

/** The URI scheme of Switchboard targets: `switchboard:///orders`. */
export const SWITCHBOARD_SCHEME = "switchboard";

/** Options of {@link registerSwitchboardResolver}; every one is optional. */
export interface SwitchboardResolverOptions {
  /** Control-plane address(es) when the target has no authority. Default $SWITCHBOARD_ADDRESS, else localhost:7000. */
  address?: string;
  addresses?: readonly string[];
  /** Use this client (when the target has no authority) instead of opening one. Not closed by the resolver. */
  client?: SwitchboardClient;
  /** Options for the clients the resolver opens (credentials, metadata, token, ...). Default: a token from $SWITCHBOARD_TOKEN / $SWITCHBOARD_TOKEN_FILE when set. */
  clientOptions?: Omit<SwitchboardClientOptions, "address" | "addresses">;
  /** Namespace for targets that name none. Default $SWITCHBOARD_NAMESPACE, else "default". */
  namespace?: string;
  /** Reconnect delays of the watch. Default 100 ms doubling to 5 s. */
  backoff?: BackoffOptions;
  /** Default: silent. */
  logger?: SdkLogger;
}

/** What a `switchboard:` target names. */
export interface SwitchboardTarget {
  /** Control-plane addresses from the authority; empty when the target has none. */
  addresses: string[];
  namespace: string;
  service: string;
  tags: string[];
  zone: string;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Parses the parts grpc-js split off a `switchboard:` URI; throws on a malformed path. */
export function parseSwitchboardTarget(
  target: { authority?: string | undefined; path: string },
  defaultNamespace: string,
): SwitchboardTarget {
  const [pathPart = "", query = ""] = target.path.split("?", 2);
  const segments = pathPart.split("/").filter((segment) => segment !== "");
  if (segments.length < 1 || segments.length > 2 || !segments.every((segment) => NAME.test(segment))) {
    throw new Error(
      `switchboard target "${target.path}": expected [namespace/]service of DNS-1123 labels, e.g. switchboard:///orders`,
    );
  }
  const params = new URLSearchParams(query);
  return {
    addresses: (target.authority ?? "")
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== ""),
    namespace: segments.length === 2 ? (segments[0] as string) : defaultNamespace,
    service: segments[segments.length - 1] as string,
    tags: (params.get("tags") ?? params.get("tag") ?? "").split(",").filter((tag) => tag !== ""),
    zone: params.get("zone") ?? "",
  };
}

/**
 * grpc-js endpoints for the instances of the default (routable-only) stream,
 * deduplicated by address and ordered. Routability is the server's decision
 * (it keeps unhealthy instances while their service is in protection), so
 * nothing is filtered out here but instances without a port.
 */
function toEndpoints(instances: readonly Instance[]): experimental.Endpoint[] {
  const seen = new Set<string>();
  const endpoints: experimental.Endpoint[] = [];
  for (const instance of instances) {
    if (instance.port <= 0) continue;
    const key = `${instance.address}:${instance.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    endpoints.push({ addresses: [{ host: instance.address, port: instance.port }] });
  }
  return endpoints;
}

/** Clients per control-plane address list, shared by every resolver that names it. */
const sharedClients = new Map<string, { client: SwitchboardClient; refs: number }>();

let resolverOptions: SwitchboardResolverOptions = {};

/**
 * Registers the `switchboard:` scheme with grpc-js (process-wide; calling it
 * again replaces the options for channels created afterwards).
 */
export function registerSwitchboardResolver(options: SwitchboardResolverOptions = {}): void {
  resolverOptions = options;
  experimental.registerResolver(SWITCHBOARD_SCHEME, SwitchboardResolver);
}

class SwitchboardResolver implements experimental.Resolver {
  private readonly options: SwitchboardResolverOptions;
  private readonly logger: SdkLogger;
  private readonly parsed: SwitchboardTarget | Error;
  private readonly serviceConfig: ServiceConfig | null;
  private running: AbortController | undefined;
  private lastKey: string | undefined;
  private delivered = false;
  private pending: NodeJS.Immediate | undefined;

  static getDefaultAuthority(target: experimental.GrpcUri): string {
    // The :authority header sent to instances: the logical service name.
    return target.path.split("?", 1)[0]?.split("/").filter(Boolean).pop() ?? target.path;
  }

  constructor(
    target: experimental.GrpcUri,
    private readonly listener: experimental.ResolverListener,
    channelOptions: ChannelOptions,
  ) {
    this.options = resolverOptions;
    this.logger = this.options.logger ?? silentLogger;
    const defaultNamespace = this.options.namespace ?? process.env["SWITCHBOARD_NAMESPACE"] ?? DEFAULT_NAMESPACE;
    try {
      this.parsed = parseSwitchboardTarget(target, defaultNamespace || DEFAULT_NAMESPACE);
    } catch (error) {
      this.parsed = error as Error;
    }
    const ownConfig = channelOptions["grpc.service_config"] !== undefined;
    const disabled = channelOptions["grpc.service_config_disable_resolution"] === 1;
    this.serviceConfig = ownConfig || disabled ? null : { loadBalancingConfig: [{ round_robin: {} }], methodConfig: [] };
  }

  updateResolution(): void {
    if (this.running !== undefined) return; // the watch pushes every change by itself
    if (this.parsed instanceof Error) {
      const message = this.parsed.message;
      this.schedule(() => this.reportError(message));
      return;
    }
    const controller = new AbortController();
    this.running = controller;
    void this.run(this.parsed, controller.signal).finally(() => {
      if (this.running === controller) this.running = undefined;
    });
  }

  destroy(): void {
    this.running?.abort();
    this.running = undefined;
    if (this.pending !== undefined) clearImmediate(this.pending);
    this.pending = undefined;
    this.lastKey = undefined;
    this.delivered = false;
  }

  private async run(target: SwitchboardTarget, signal: AbortSignal): Promise<void> {
    const name = `${target.namespace}/${target.service}`;
    const lease = acquireClient(target, this.options);
    try {
      const updates = watchService(
        lease.client,
        {
          namespace: target.namespace,
          service: target.service,
          tags: target.tags,
          zone: target.zone,
          backoff: this.options.backoff,
          logger: this.logger,
          onRetry: (error) => {
            // Fail fast only while there is nothing to route to yet; afterwards keep the last list.
            if (this.delivered) return;
            const reason = error instanceof Error ? error.message : String(error);
            this.schedule(() => this.reportError(`switchboard control plane for ${name}: ${reason}`));
          },
        },
        signal,
      );
      for await (const update of updates) {
        if (update.type === "bookmark") continue;
        const endpoints = toEndpoints(update.instances);
        const key = endpoints.map((endpoint) => experimental.endpointToString(endpoint)).join(",");
        if (this.delivered && key === this.lastKey) continue;
        this.lastKey = key;
        this.delivered = true;
        this.logger.debug({ target: name, revision: update.revision, endpoints: key }, "switchboard resolved");
        this.schedule(() => {
          if (signal.aborted) return;
          if (endpoints.length > 0) {
            this.listener(experimental.statusOrFromValue(endpoints), {}, this.serviceConfigResult(), "");
            return;
          }
          // An empty list alone leaves grpc-js round_robin IDLE with calls queued until their
          // deadline; the error right after it makes them fail fast with UNAVAILABLE instead.
          const note = `no routable instances of ${name}`;
          this.listener(experimental.statusOrFromValue([]), {}, this.serviceConfigResult(), note);
          this.reportError(note);
        });
      }
    } catch (error) {
      if (signal.aborted) return;
      // Not retryable (bad name, not implemented...): report it; grpc-js asks again after its backoff.
      const message = error instanceof Error ? error.message : String(error);
      this.logger.error({ target: name, err: error }, "switchboard resolution failed");
      this.schedule(() => this.reportError(`switchboard resolution of ${name} failed: ${message}`));
    } finally {
      lease.release();
    }
  }

  /** Listener calls always leave the current stack, and a newer result replaces a pending one. */
  private schedule(report: () => void): void {
    if (this.pending !== undefined) clearImmediate(this.pending);
    this.pending = setImmediate(() => {
      this.pending = undefined;
      report();
    });
  }

  private reportError(details: string): void {
    this.listener(
      experimental.statusOrFromError({ code: GrpcStatus.UNAVAILABLE, details, metadata: new Metadata() }),
      {},
      this.serviceConfigResult(),
      details,
    );
  }

  /** The same service config with every result, so an error never switches the channel's policy. */
  private serviceConfigResult() {
    return this.serviceConfig === null ? null : experimental.statusOrFromValue(this.serviceConfig);
  }
}

function acquireClient(
  target: SwitchboardTarget,
  options: SwitchboardResolverOptions,
): { client: SwitchboardClient; release(): void } {
  if (target.addresses.length === 0 && options.client !== undefined) {
    return { client: options.client, release: () => {} };
  }
  const addresses =
    target.addresses.length > 0 ? target.addresses : resolveAddresses({ address: options.address, addresses: options.addresses });
  const key = addresses.join(",");
  let entry = sharedClients.get(key);
  if (entry === undefined) {
    entry = { client: createSwitchboardClient({ ...options.clientOptions, addresses }), refs: 0 };
    sharedClients.set(key, entry);
  }
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    client: held.client,
    release() {
      if (released) return;
      released = true;
      held.refs--;
      if (held.refs === 0) {
        sharedClients.delete(key);
        held.client.close();
      }
    },
  };
}
