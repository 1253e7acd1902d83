import { ServerError, Status } from "nice-grpc";
import { Counter, Gauge, type Registry } from "prom-client";
import {
  AggregatedDiscoveryServiceDefinition,
  type AggregatedDiscoveryServiceImplementation,
} from "../../generated/xds/envoy/service/discovery/v3/ads.js";
import type { DiscoveryRequest, DiscoveryResponse } from "../../generated/xds/envoy/service/discovery/v3/discovery.js";
import type { Any } from "../../generated/xds/google/protobuf/any.js";
import { InvalidArgumentError } from "../errors.js";
import type { RegistryView, ViewUpdate } from "../registry/index.js";
import { createFanOut } from "../watch/index.js";
import {
  NAMESPACE_METADATA_KEY,
  TYPE_URLS,
  type XdsServiceName,
  buildCluster,
  buildListener,
  buildLoadAssignment,
  nodeNamespace,
  parseResourceName,
} from "../xds/index.js";
import type { ServiceDeps } from "./deps.js";

export { AggregatedDiscoveryServiceDefinition };

export interface XdsServiceOptions {
  /** The registry view the Watch RPC is served from: the ADS stream is one more consumer of it. */
  view: RegistryView;
}

/** What one ADS stream tracks per resource type (state of the world). */
interface Subscription {
  /** Resource names the client asked for last. */
  names: string[];
  /** Nonce of the last response sent for this type; requests quoting another one are stale. */
  nonce: string;
  /** Version the client acknowledged last. */
  ackedVersion: string;
  /** Encoded resources last sent, by name (EDS only: the others depend on the name alone). */
  sent: Map<string, Buffer>;
}

const ALL_STREAMS = "*";

/** What wakes an ADS stream: the services ("namespace/service") that changed, or every one (a reload, the start). */
type XdsNotice = { readonly services: ReadonlySet<string> } | { readonly services: "all" };

interface XdsMetrics {
  streams: Gauge;
  responses: Counter<"type">;
  nacks: Counter<"type">;
}

/**
 * envoy.service.discovery.v3.AggregatedDiscoveryService, state of the world,
 * for proxyless gRPC clients (`xds:///SERVICE`, names in src/xds/names.ts).
 *
 * Each stream serves Listener, Cluster and ClusterLoadAssignment resources
 * built by src/xds from the registry view: a registry change reaches a
 * subscribed xDS client in the same view update that hands it to Watch
 * streams. Streams ride on the watch fan-out engine (src/watch) in its
 * latest-only mode, from their first request on: state of the world
 * only needs the latest state, so a change marks the stream's assignments
 * dirty and the stream sends what differs from what it sent last (a slow
 * client skips intermediate states instead of queuing them). Versions are
 * view revisions.
 *
 * Protocol: a request whose resource names differ from the last ones (or the
 * first request of a type, e.g. after a reconnect) is answered with the
 * current state of every requested resource. An ACK (nonce of the last
 * response, no error_detail) is recorded; a NACK is logged with the client's
 * error detail and counted (switchboard_xds_nacks_total); neither is answered,
 * and the next change is sent as usual. Requests quoting an older nonce are
 * stale and ignored (the xDS protocol's rule). Delta xDS is not served.
 */
export function createXdsServiceImpl(deps: ServiceDeps, options: XdsServiceOptions): AggregatedDiscoveryServiceImplementation {
  const { view } = options;
  const log = deps.logger.child({ component: "xds" });
  const metrics = createXdsMetrics(deps.metrics);
  let streamIds = 0;

  // One view listener for every ADS stream (while any is open), publishing each change to its namespace only.
  let openStreams = 0;
  let unsubscribeView: (() => void) | undefined;
  const everything: XdsNotice = { services: "all" };
  // One key for every stream: a stream's resources may name services of any namespace ("orders.shop"), and
  // which ones changes with its requests, so each stream filters the changed services itself.
  const notices = createFanOut<undefined, XdsNotice>({
    latestOnly: true,
    queueLimit: 1,
    bookmarkIntervalMs: 0,
    bookmark: () => everything,
    overflowError: () => new Error("unreachable: latest-only streams never overflow"),
    onStreamStart() {
      if (openStreams++ === 0) unsubscribeView = view.subscribe(onViewUpdate);
    },
    onStreamEnd() {
      if (--openStreams === 0) {
        unsubscribeView?.();
        unsubscribeView = undefined;
      }
    },
    source: {
      keys: () => [ALL_STREAMS],
      ready: async () => {
        await view.ready;
        return true;
      },
      // A stream's first notice rebuilds what it already sent: a change between its first response and its
      // attachment is not missed.
      snapshot: () => everything,
      changesSince: () => undefined,
    },
  });
  function onViewUpdate(update: ViewUpdate): void {
    if (update.type === "reset") {
      for (const stream of notices.all()) notices.enqueue(stream, [everything]);
      return;
    }
    if (update.type !== "changes") return;
    const services = new Set(update.changes.services.map(({ namespace, service }) => `${namespace}/${service}`));
    notices.publish(ALL_STREAMS, [{ services }]);
  }

  return {
    async *streamAggregatedResources(requests, context) {
      const { signal } = context;
      const streamId = ++streamIds;
      metrics.streams.inc();
      const subscriptions = new Map<string, Subscription>();
      const pending: DiscoveryRequest[] = [];
      let namespace: string | undefined;
      let nodeId = "";
      let nonces = 0;
      let requestsDone = false;
      let requestError: unknown;
      let dirty = false;
      let wake: (() => void) | undefined;
      const wakeUp = () => {
        const resolve = wake;
        wake = undefined;
        resolve?.();
      };
      // Services whose assignment this stream holds, "namespace/service".
      const watched = new Set<string>();
      // The stream's changes, from the engine once the node's namespace is known; ended with the stream.
      const ending = new AbortController();
      let changeError: unknown;
      const follow = (changes: AsyncGenerator<XdsNotice, void, undefined>): void => {
        changes.next().then(
          (next) => {
            if (next.done) return;
            const { services } = next.value;
            if (watched.size > 0 && (services === "all" || [...watched].some((name) => services.has(name)))) {
              dirty = true;
              wakeUp();
            }
            follow(changes);
          },
          (error: unknown) => {
            changeError = error;
            wakeUp();
          },
        );
      };
      // Requests are read as they come, so responses can go out between them.
      void (async () => {
        try {
          for await (const request of requests) {
            pending.push(request);
            wakeUp();
          }
        } catch (error) {
          requestError = error;
        } finally {
          requestsDone = true;
          wakeUp();
        }
      })();

      function respond(typeUrl: string, subscription: Subscription, resources: Any[]): DiscoveryResponse {
        subscription.nonce = String(++nonces);
        metrics.responses.inc({ type: shortType(typeUrl) });
        return {
          versionInfo: String(view.revision),
          resources,
          canary: false,
          typeUrl,
          nonce: subscription.nonce,
          controlPlane: undefined,
        };
      }

      function resolveName(name: string): XdsServiceName | undefined {
        return parseResourceName(name, namespace!);
      }

      /** Every requested resource of one type, current state (invalid names are left out: "does not exist"). */
      function build(typeUrl: string, subscription: Subscription, onlyChanged: boolean): Any[] {
        const resources: Any[] = [];
        if (typeUrl === TYPE_URLS.clusterLoadAssignment) watched.clear();
        for (const resourceName of subscription.names) {
          const name = resolveName(resourceName);
          if (name === undefined) continue;
          if (typeUrl === TYPE_URLS.listener) resources.push(buildListener(resourceName, name));
          else if (typeUrl === TYPE_URLS.cluster) resources.push(buildCluster(resourceName, name));
          else if (typeUrl === TYPE_URLS.clusterLoadAssignment) {
            watched.add(`${name.namespace}/${name.service}`);
            const built = buildLoadAssignment(resourceName, view.service(name.namespace, name.service));
            if (built.skipped > 0)
              log.debug(
                { streamId, resource: resourceName, skipped: built.skipped },
                "instances without an IP address left out of the assignment",
              );
            const previous = subscription.sent.get(resourceName);
            subscription.sent.set(resourceName, built.resource.value);
            if (onlyChanged && previous !== undefined && previous.equals(built.resource.value)) continue;
            resources.push(built.resource);
          }
        }
        if (typeUrl === TYPE_URLS.clusterLoadAssignment) {
          for (const name of subscription.sent.keys()) if (!subscription.names.includes(name)) subscription.sent.delete(name);
        }
        return resources;
      }

      function handle(request: DiscoveryRequest): DiscoveryResponse | undefined {
        if (namespace === undefined) {
          const metadata = request.node?.metadata;
          namespace = nodeNamespace(metadata);
          if (namespace === undefined) {
            throw new InvalidArgumentError(`node.metadata.${NAMESPACE_METADATA_KEY}`, 'must be a DNS-1123 label, e.g. "default"');
          }
          nodeId = request.node?.id ?? "";
          log.debug({ streamId, nodeId, namespace, peer: context.peer }, "xds stream started");
        }
        const { typeUrl } = request;
        if (!Object.values<string>(TYPE_URLS).includes(typeUrl) || typeUrl === TYPE_URLS.routeConfiguration) {
          // Route configurations travel inline in the Listener; nothing else is served.
          log.debug({ streamId, typeUrl }, "xds request for a type not served; ignored");
          return undefined;
        }
        let subscription = subscriptions.get(typeUrl);
        const first = subscription === undefined;
        if (subscription === undefined) {
          subscription = { names: [], nonce: "", ackedVersion: "", sent: new Map() };
          subscriptions.set(typeUrl, subscription);
        }
        if (!first && request.responseNonce !== subscription.nonce) return undefined;
        if (!first) {
          if (request.errorDetail !== undefined) {
            metrics.nacks.inc({ type: shortType(typeUrl) });
            log.warn(
              {
                streamId,
                nodeId,
                typeUrl,
                version: request.versionInfo,
                rejectedNonce: request.responseNonce,
                code: request.errorDetail.code,
                error: request.errorDetail.message,
              },
              "xds client rejected a response (NACK)",
            );
          } else {
            subscription.ackedVersion = request.versionInfo;
          }
        }
        const names = [...new Set(request.resourceNames)].sort();
        if (!first && sameNames(names, subscription.names)) return undefined;
        subscription.names = names;
        return respond(typeUrl, subscription, build(typeUrl, subscription, false));
      }

      const onAbort = () => ending.abort();
      signal.addEventListener("abort", onAbort);
      try {
        await view.ready;
        while (true) {
          if (signal.aborted) return;
          if (changeError !== undefined) throw changeError;
          const request = pending.shift();
          if (request !== undefined) {
            const known = namespace !== undefined;
            const response = handle(request);
            if (!known && namespace !== undefined) follow(notices.watch(undefined, 0, ending.signal));
            if (response !== undefined) yield response;
            continue;
          }
          if (dirty) {
            dirty = false;
            const subscription = subscriptions.get(TYPE_URLS.clusterLoadAssignment);
            if (subscription === undefined) continue;
            const changed = build(TYPE_URLS.clusterLoadAssignment, subscription, true);
            if (changed.length > 0) yield respond(TYPE_URLS.clusterLoadAssignment, subscription, changed);
            continue;
          }
          if (requestsDone) {
            if (requestError !== undefined && !signal.aborted) throw requestError;
            return;
          }
          await new Promise<void>((resolve) => {
            const done = () => {
              signal.removeEventListener("abort", done);
              wake = undefined;
              resolve();
            };
            wake = done;
            signal.addEventListener("abort", done, { once: true });
          });
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
        ending.abort();
        metrics.streams.dec();
        log.debug({ streamId, nodeId }, "xds stream ended");
      }
    },

    // Answers at once with UNIMPLEMENTED, before any message.
    // eslint-disable-next-line require-yield
    async *deltaAggregatedResources() {
      throw new ServerError(Status.UNIMPLEMENTED, "incremental (delta) xDS is not served; use state-of-the-world ADS");
    },
  };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

function shortType(typeUrl: string): string {
  return typeUrl.slice(typeUrl.lastIndexOf(".") + 1);
}

/**
 * - switchboard_xds_streams: open ADS streams
 * - switchboard_xds_responses_total{type}: DiscoveryResponses sent, by resource type
 * - switchboard_xds_nacks_total{type}: responses a client rejected, by resource type
 */
function createXdsMetrics(registry: Registry): XdsMetrics {
  const existing = registry.getSingleMetric("switchboard_xds_streams");
  if (existing !== undefined) {
    return {
      streams: existing as Gauge,
      responses: registry.getSingleMetric("switchboard_xds_responses_total") as Counter<"type">,
      nacks: registry.getSingleMetric("switchboard_xds_nacks_total") as Counter<"type">,
    };
  }
  return {
    streams: new Gauge({ name: "switchboard_xds_streams", help: "Open xDS (ADS) streams", registers: [registry] }),
    responses: new Counter({
      name: "switchboard_xds_responses_total",
      help: "xDS DiscoveryResponses sent, by resource type",
      labelNames: ["type"],
      registers: [registry],
    }),
    nacks: new Counter({
      name: "switchboard_xds_nacks_total",
      help: "xDS responses rejected by a client (NACK), by resource type",
      labelNames: ["type"],
      registers: [registry],
    }),
  };
}
