import {
  type KeepAliveRequest,
  RegistryServiceDefinition,
  type RegistryServiceImplementation,
} from "../../generated/switchboard/registry/v1/registry.js";
import { createRegistry, parseRevision } from "../registry/index.js";
import type { RegistryOptions } from "../registry/index.js";
import type { ServiceDeps } from "./deps.js";
import { encodeResponsesOnce } from "./encode-once.js";

/**
 * RegistryServiceDefinition with Watch responses encoded once per message
 * object instead of once per stream (see encode-once.ts). Serve
 * RegistryService with this definition: the registry yields complete,
 * never-mutated WatchResponse objects shared by every stream they concern;
 * snapshots are one stream's own and are not cached.
 */
export const registryServiceDefinition = {
  ...RegistryServiceDefinition,
  methods: {
    ...RegistryServiceDefinition.methods,
    watch: encodeResponsesOnce(RegistryServiceDefinition.methods.watch, (response) => response.kind?.$case !== "snapshot"),
  },
} as const;

/** Registry tuning the composition root may pass (see RegistryOptions for defaults). */
export type RegistryServiceOptions = Omit<RegistryOptions, "store" | "cache" | "prefix" | "logger" | "metrics">;

/**
 * RegistryService over src/registry: proto ↔ domain mapping only. Domain
 * errors pass through to the error middleware; int64 fields arrive and leave
 * as decimal strings (revisions become numbers in the domain).
 */
export function createRegistryServiceImpl(
  deps: ServiceDeps,
  options: RegistryServiceOptions = {},
): RegistryServiceImplementation {
  const registry = createRegistry({
    ...options,
    store: deps.store,
    cache: deps.cache,
    prefix: deps.prefix,
    logger: deps.logger,
    metrics: deps.metrics,
  });
  if (deps.shutdownSignal.aborted) registry.close();
  else deps.shutdownSignal.addEventListener("abort", () => registry.close(), { once: true });

  return {
    async register(request) {
      const result = await registry.register({ instance: request.instance, ttlSeconds: request.ttlSeconds });
      return {
        instance: result.instance,
        leaseId: result.leaseId,
        ttlSeconds: result.ttlSeconds,
        revision: String(result.revision),
      };
    },

    async heartbeat(request) {
      return { ttlSeconds: await registry.heartbeat(request.leaseId) };
    },

    async *keepAlive(requests, context) {
      async function* leaseIds(source: AsyncIterable<KeepAliveRequest>) {
        for await (const request of source) yield request.leaseId;
      }
      for await (const result of registry.keepAlive(leaseIds(requests), context.signal)) {
        yield { leaseId: result.leaseId, ttlSeconds: result.ttlSeconds };
      }
    },

    async deregister(request) {
      const revision = await registry.deregister({
        namespace: request.namespace,
        service: request.service,
        instanceId: request.instanceId,
      });
      return { revision: String(revision) };
    },

    async updateInstance(request) {
      const result = await registry.updateInstance({
        namespace: request.namespace,
        service: request.service,
        instanceId: request.instanceId,
        state: request.state,
        weight: request.weight,
        metadata: request.metadata?.entries,
        tags: request.tags?.values,
      });
      return { instance: result.instance, revision: String(result.revision) };
    },

    async getInstance(request, context) {
      const result = await registry.getInstance(
        {
          namespace: request.namespace,
          service: request.service,
          instanceId: request.instanceId,
          minRevision: parseRevision(request.minRevision, "min_revision"),
        },
        context.signal,
      );
      return { instance: result.instance, revision: String(result.revision) };
    },

    async listInstances(request, context) {
      const result = await registry.listInstances(
        {
          namespace: request.namespace,
          service: request.service,
          includeUnroutable: request.includeUnroutable,
          tags: request.tags,
          zone: request.zone,
          metadataSelector: request.metadataSelector,
          minRevision: parseRevision(request.minRevision, "min_revision"),
        },
        context.signal,
      );
      return { instances: result.instances, revision: String(result.revision) };
    },

    async listServices(request, context) {
      const result = await registry.listServices(
        { namespace: request.namespace, minRevision: parseRevision(request.minRevision, "min_revision") },
        context.signal,
      );
      return { services: result.services, revision: String(result.revision) };
    },

    async *watch(request, context) {
      yield* registry.watch(
        {
          namespace: request.namespace,
          service: request.service,
          includeUnroutable: request.includeUnroutable,
          tags: request.tags,
          zone: request.zone,
          sinceRevision: parseRevision(request.sinceRevision, "since_revision"),
        },
        context.signal,
      );
    },
  };
}
